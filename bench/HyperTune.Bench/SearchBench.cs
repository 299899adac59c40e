using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Bench;

/// <summary>
/// Search efficiency: median simple regret after 10/25/50/100 trials on Branin, Hartmann6 and Branin6D, HyperTune's
/// samplers and Optuna's (run by python3 in the same bench run) side by side.
/// </summary>
internal static class SearchBench
{
    private static readonly int[] Checkpoints = [10, 25, 50, 100];

    public static int Run(string[] args)
    {
        var seeds = BenchArgs.Option(args, "--seeds", 20);
        var trials = BenchArgs.Option(args, "--trials", 100);
        var optuna = BenchArgs.Option(args, "--optuna", 1) != 0;
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- search --seeds {seeds} --trials {trials} --optuna {(optuna ? 1 : 0)}";
        var checkpoints = Checkpoints.Where(c => c <= trials).ToArray();

        foreach (var problem in Problems)
        {
            var rows = new List<string>();
            foreach (var (name, make) in Methods(problem))
            {
                var (regrets, ms) = Measure(problem, make, seeds, trials, checkpoints);
                rows.Add(Row($"HyperTune {name}", regrets, ms));
                Console.Error.WriteLine($"{problem.Name} HyperTune {name}: done");
            }

            if (optuna)
            {
                rows.AddRange(RunOptuna(problem.Name, seeds, trials, checkpoints));
            }

            Console.WriteLine($"### {problem.Name} (optimum {Format(problem.Optimum)}), median simple regret over {seeds} seeds");
            Console.WriteLine();
            Console.WriteLine($"| stack / sampler | {string.Join(" | ", checkpoints.Select(c => $"@{c}"))} | ms per trial |");
            Console.WriteLine($"|---|{string.Concat(checkpoints.Select(_ => "---|"))}---|");
            rows.ForEach(Console.WriteLine);
            Console.WriteLine();
            Console.WriteLine($"`{command}`");
            Console.WriteLine();
        }

        return 0;
    }

    private sealed record Problem(string Name, SearchSpace Space, Func<IReadOnlyDictionary<string, ParamValue>, double> Evaluate, double Optimum);

    private static Problem[] Problems { get; } =
    [
        new("branin", new([new FloatParameter("x1", -5, 10, Scale.Linear), new FloatParameter("x2", 0, 15, Scale.Linear)]),
            p => Branin(p["x1"].Number, p["x2"].Number), 0.397887),
        new("hartmann6", UnitBox(6), p => Hartmann6([.. Enumerable.Range(0, 6).Select(i => p[$"x{i}"].Number)]), -3.32237),
        new("branin6d", UnitBox(6), p => Branin(-5 + (15 * p["x0"].Number), 15 * p["x1"].Number), 0.397887),
    ];

    private static IEnumerable<(string Name, Func<int, ISampler> Make)> Methods(Problem problem)
    {
        // As in the reference table: 10×10 on two dimensions, 2^6 on six.
        var resolution = problem.Space.Parameters.Count == 2 ? 10 : 2;
        yield return ("random", s => new RandomSampler(s));
        yield return ($"grid {resolution}^{problem.Space.Parameters.Count}", s => new GridSampler(s, resolution));
        yield return ("sobol", s => new SobolSampler(s));
        yield return ("gp", s => new GpSampler(s));
        yield return ("tpe", s => new TpeSampler(s));
        yield return ("tpe multivariate", s => new TpeSampler(s, multivariate: true));
    }

    private static (double[] Regrets, double MsPerTrial) Measure(Problem problem, Func<int, ISampler> make, int seeds, int trials, int[] checkpoints)
    {
        var regrets = checkpoints.Select(_ => new List<double>()).ToArray();
        var clock = new Stopwatch();
        for (var seed = 0; seed < seeds; seed++)
        {
            var sampler = make(seed);
            var history = new List<TrialResult>();
            var best = double.PositiveInfinity;
            for (var n = 0; n < trials; n++)
            {
                clock.Start();
                var proposal = sampler.Propose(new SamplerContext(problem.Space, n, history.ToList(), Direction.Minimize));
                clock.Stop();
                var value = problem.Evaluate(proposal);
                history.Add(new TrialResult(proposal, value));
                best = Math.Min(best, value);
                var at = Array.IndexOf(checkpoints, n + 1);
                if (at >= 0)
                {
                    regrets[at].Add(best - problem.Optimum);
                }
            }
        }

        return (regrets.Select(Median).ToArray(), clock.Elapsed.TotalMilliseconds / (seeds * trials));
    }

    private static IEnumerable<string> RunOptuna(string problem, int seeds, int trials, int[] checkpoints)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "optuna_search.py");
        // Debian's interpreter: python3-optuna is installed for it, not for a pyenv python3 earlier on PATH.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python, [script, problem, $"{seeds}", $"{trials}", string.Join(",", checkpoints)])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"optuna_search.py exited with {process.ExitCode}; Optuna rows left out (apt-get install -y python3-optuna)");
            yield break;
        }

        using var json = JsonDocument.Parse(output);
        var version = json.RootElement.GetProperty("version").GetString();
        foreach (var method in json.RootElement.GetProperty("methods").EnumerateObject())
        {
            var regrets = checkpoints.Select(c => method.Value.GetProperty("regret").GetProperty($"{c}").GetDouble()).ToArray();
            yield return Row($"Optuna {version} {method.Name}", regrets, method.Value.GetProperty("ms_per_trial").GetDouble());
        }
    }

    private static string Row(string name, double[] regrets, double ms) =>
        $"| {name} | {string.Join(" | ", regrets.Select(Format))} | {ms.ToString("F2", CultureInfo.InvariantCulture)} |";

    private static string Format(double x) => x.ToString("G3", CultureInfo.InvariantCulture);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]);
    }

    private static SearchSpace UnitBox(int dimensions) =>
        new([.. Enumerable.Range(0, dimensions).Select(d => (Parameter)new FloatParameter($"x{d}", 0, 1, Scale.Linear))]);

    private static double Branin(double x1, double x2)
    {
        var a = x2 - (5.1 / (4 * Math.PI * Math.PI) * x1 * x1) + (5 / Math.PI * x1) - 6;
        return (a * a) + (10 * (1 - (1 / (8 * Math.PI))) * Math.Cos(x1)) + 10;
    }

    private static readonly double[] Alpha = [1.0, 1.2, 3.0, 3.2];

    private static readonly double[,] A =
    {
        { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 }, { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 },
    };

    private static readonly double[,] P =
    {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 }, { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 }, { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };

    private static double Hartmann6(double[] x)
    {
        var sum = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < 6; j++)
            {
                inner += A[i, j] * (x[j] - P[i, j]) * (x[j] - P[i, j]);
            }

            sum -= Alpha[i] * Math.Exp(-inner);
        }

        return sum;
    }
}
