using System.Diagnostics;
using System.Globalization;
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
        var only = BenchArgs.Option(args, "--samplers")?.Split(',');
        var problems = BenchArgs.Option(args, "--problems")?.Split(',');
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- search --seeds {seeds} --trials {trials} --optuna {(optuna ? 1 : 0)}"
            + (only is null ? "" : $" --samplers \"{string.Join(',', only)}\"") + (problems is null ? "" : $" --problems {string.Join(',', problems)}");
        var checkpoints = Checkpoints.Where(c => c <= trials).ToArray();

        foreach (var problem in Problems.Where(p => problems is null || problems.Contains(p.Name)))
        {
            var rows = new List<string>();
            foreach (var (name, make) in Methods(problem).Where(m => Selected(m.Name, only)))
            {
                var (regrets, ms) = Measure(problem, make, seeds, trials, checkpoints);
                rows.Add(Row($"HyperTune {name}", regrets, ms));
                Console.Error.WriteLine($"{problem.Name} HyperTune {name}: done");
            }

            if (optuna)
            {
                rows.AddRange(RunOptuna(problem.Name, seeds, trials, checkpoints, only));
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

    private static BenchProblem[] Problems { get; } = [BenchProblem.Branin, BenchProblem.Hartmann6, BenchProblem.Branin6D];

    /// <summary>Whether --samplers (null: all) names this sampler; a grid is "grid" whatever its resolution, coarse-to-fine whatever its stages.</summary>
    public static bool Selected(string name, string[]? only) =>
        only is null || only.Contains(name.StartsWith("grid ", StringComparison.Ordinal) || name.StartsWith("coarse-to-fine ", StringComparison.Ordinal) ? name.Split(' ')[0] : name);

    /// <summary>HyperTune's samplers as the benches name them, each made from a seed.</summary>
    public static IEnumerable<(string Name, Func<int, ISampler> Make)> Methods(BenchProblem problem)
    {
        // As in the reference table: 10×10 on two dimensions, 2^6 on six.
        var resolution = problem.Space.Parameters.Count == 2 ? 10 : 2;
        yield return ("random", s => new RandomSampler(s));
        yield return ($"grid {resolution}^{problem.Space.Parameters.Count}", s => new GridSampler(s, resolution));
        yield return ("sobol", s => new SobolSampler(s));
        yield return ("coarse-to-fine 50/25/25", s => new StagedCoarseToFine(s, [50, 25, 25]));
        yield return ("coarse-to-fine 40/20/20/20", s => new StagedCoarseToFine(s, [40, 20, 20, 20]));
        yield return ("gp", s => new GpSampler(s));
        yield return ("tpe", s => new TpeSampler(s));
        yield return ("tpe multivariate", s => new TpeSampler(s, multivariate: true));
    }

    private static (double[] Regrets, double MsPerTrial) Measure(BenchProblem problem, Func<int, ISampler> make, int seeds, int trials, int[] checkpoints)
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

        return (regrets.Select(BenchStats.Median).ToArray(), clock.Elapsed.TotalMilliseconds / (seeds * trials));
    }

    private static IEnumerable<string> RunOptuna(string problem, int seeds, int trials, int[] checkpoints, string[]? only) =>
        OptunaScript.Methods("optuna_search.py", problem, $"{seeds}", $"{trials}", string.Join(",", checkpoints), string.Join(",", only ?? []))
            .Select(m => Row(m.Label, [.. checkpoints.Select(c => m.Figures.GetProperty("regret").GetProperty($"{c}").GetDouble())],
                m.Figures.GetProperty("ms_per_trial").GetDouble()));

    private static string Row(string name, double[] regrets, double ms) =>
        $"| {name} | {string.Join(" | ", regrets.Select(Format))} | {ms.ToString("F2", CultureInfo.InvariantCulture)} |";

    private static string Format(double x) => x.ToString("G3", CultureInfo.InvariantCulture);
}
