using System.Diagnostics;
using System.Globalization;
using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Bench;

/// <summary>
/// Time per suggestion: the mean milliseconds of one proposal over trials 1–100 and over the last 100 trials of a study,
/// with 2 parameters (Branin) and 8 (Branin plus six quadratics), every HyperTune sampler and Optuna's in the same run.
/// </summary>
/// <remarks>
/// HyperTune's clock runs around <see cref="ISampler.Propose"/> alone; Optuna's around study.ask() and the
/// suggest_float calls (in-memory storage). Each sampler first runs a discarded 30-trial study, so neither side pays
/// its JIT or import warm-up inside the figures.
/// </remarks>
internal static class SuggestBench
{
    private const int Window = 100;
    private const int WarmUpTrials = 30;
    private const int WarmUpSeed = 999;
    private static readonly BenchProblem[] Problems = [BenchProblem.Branin, BenchProblem.Branin8DQuadratic];

    public static int Run(string[] args)
    {
        var trials = BenchArgs.Option(args, "--trials", 1000);
        var seeds = BenchArgs.Option(args, "--seeds", 1);
        var optuna = BenchArgs.Option(args, "--optuna", 1) != 0;
        var only = BenchArgs.Option(args, "--samplers")?.Split(',');
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- suggest --trials {trials} --seeds {seeds} --optuna {(optuna ? 1 : 0)}"
            + (only is null ? "" : $" --samplers \"{string.Join(',', only)}\"");
        if (trials < Window)
        {
            Console.Error.WriteLine($"--trials must be at least {Window}, got {trials}");
            return 2;
        }

        var rows = new List<string>();
        var methods = Problems.Select(p => SearchBench.Methods(p).ToList()).ToList();
        for (var i = 0; i < methods[0].Count; i++)
        {
            // One row per sampler; the grid's resolution differs by problem (10^2, 2^8), so the row shows both.
            var label = string.Join(" / ", methods.Select(m => m[i].Name).Distinct());
            if (!SearchBench.Selected(methods[0][i].Name, only))
            {
                continue;
            }

            var cells = new List<(double First, double Last)>();
            for (var p = 0; p < Problems.Length; p++)
            {
                var make = methods[p][i].Make;
                Time(Problems[p], make(WarmUpSeed), WarmUpTrials);
                var runs = Enumerable.Range(0, seeds).Select(seed => Time(Problems[p], make(seed), trials)).ToList();
                cells.Add((runs.SelectMany(r => r[..Window]).Average(), runs.SelectMany(r => r[^Window..]).Average()));
                Console.Error.WriteLine($"suggest HyperTune {label} {Problems[p].Space.Parameters.Count} params: done");
            }

            rows.Add(Row($"HyperTune {label}", cells));
        }

        if (optuna)
        {
            rows.AddRange(RunOptuna(trials, seeds, only));
        }

        var last = $"trials {trials - Window + 1}–{trials}";
        Console.WriteLine($"Mean ms per suggestion, {seeds} seed(s) × {trials} trials; 2 params: Branin, 8 params: Branin on x0–x1 plus (x − 0.5)² on x2–x7 " +
            $"({Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd})");
        Console.WriteLine();
        Console.WriteLine($"| stack / sampler | 2 params, trials 1–{Window} | 2 params, {last} | 8 params, trials 1–{Window} | 8 params, {last} |");
        Console.WriteLine("|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine($"Reproduce: `{command}`");
        return 0;
    }

    /// <summary>Milliseconds of each proposal of one study, trial by trial.</summary>
    private static double[] Time(BenchProblem problem, ISampler sampler, int trials)
    {
        var history = new List<TrialResult>();
        var elapsed = new double[trials];
        for (var n = 0; n < trials; n++)
        {
            var context = new SamplerContext(problem.Space, n, history.ToList(), Direction.Minimize);
            var started = Stopwatch.GetTimestamp();
            var proposal = sampler.Propose(context);
            elapsed[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            history.Add(new TrialResult(proposal, problem.Evaluate(proposal)));
        }

        return elapsed;
    }

    private static IEnumerable<string> RunOptuna(int trials, int seeds, string[]? only) =>
        OptunaScript.Methods("optuna_suggest.py", string.Join(",", Problems.Select(p => p.Space.Parameters.Count)), $"{trials}", $"{seeds}", $"{Window}", string.Join(",", only ?? []))
            .Select(m => Row(m.Label, [.. Problems.Select(p => m.Figures.GetProperty($"{p.Space.Parameters.Count}")).Select(c => (c[0].GetDouble(), c[1].GetDouble()))]));

    private static string Row(string name, List<(double First, double Last)> cells) =>
        $"| {name} | {string.Join(" | ", cells.Select(c => $"{Ms(c.First)} | {Ms(c.Last)}"))} |";

    private static string Ms(double ms) => ms.ToString(ms < 0.1 ? "F3" : ms < 10 ? "F2" : "F0", CultureInfo.InvariantCulture);
}
