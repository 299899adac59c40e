using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HyperTune.Shared.Pruners;
using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Bench;

/// <summary>
/// The learning-curve surrogate of BENCHMARKS.md §2: random search with no stopping, median, ASHA and Hyperband, HyperTune's
/// pruners simulated here epoch by epoch and Optuna's run by optuna_early_stopping.py in the same bench run.
/// </summary>
internal static class EarlyStoppingBench
{
    private const int Epochs = 27;
    private const double Optimum = 0.08;
    private const double NoiseSd = 0.005;
    private static readonly double[] Fractions = [0.10, 0.25, 0.50, 1.00];
    private static readonly string[] Methods = ["none", "median", "asha", "hyperband"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly SearchSpace Space = new(
    [
        new FloatParameter("log_lr", -5, -1, Scale.Linear),
        new FloatParameter("log_wd", -6, -2, Scale.Linear),
        new IntParameter("width", 16, 512, Scale.Log),
        new FloatParameter("dropout", 0, 0.8, Scale.Linear),
    ]);

    public static int Run(string[] args)
    {
        var seeds = BenchArgs.Option(args, "--seeds", 10);
        var budget = BenchArgs.Option(args, "--budget", Epochs * 100);
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- early-stopping --seeds {seeds} --budget {budget}";

        var clock = Stopwatch.StartNew();
        var hyperTune = Methods.ToDictionary(m => m, m => Enumerable.Range(0, seeds).Select(seed => Simulate(m, seed, budget)).ToList());
        var hyperTuneSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var (optuna, version, problem) = RunOptuna(seeds, budget);
        var optunaSeconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine($"Early stopping on the learning-curve surrogate (BENCHMARKS.md §2): budget {budget:N0} epochs, t = 1..{Epochs}, " +
            $"noise sd {NoiseSd}, {seeds} seeds; regret = best e∞ among trials that reached epoch {Epochs} − {Optimum}, median over seeds; " +
            $"HyperTune {hyperTuneSeconds:F1} s, Optuna {optunaSeconds:F1} s");
        Console.WriteLine();
        Console.WriteLine("| stack | sampler + pruner | regret @10% budget | @25% | @50% | @100% | trials started | reached epoch 27 |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var method in Methods)
        {
            Row("HyperTune", method, hyperTune[method]);
            if (optuna is not null)
            {
                Row($"Optuna {version}", method, optuna[method]);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Reproduce: `{command}`");
        if (problem is not null)
        {
            Console.Error.WriteLine($"Optuna rows missing: {problem}");
            return 1;
        }

        return 0;
    }

    private static IPruner? Pruner(string method) => method switch
    {
        "median" => new MedianPruner(startupTrials: 5, warmupEpochs: 0),
        "asha" => new AshaPruner(minEpochs: 1, reductionFactor: 3, maxEpochs: Epochs),
        "hyperband" => new HyperbandPruner(minEpochs: 1, maxEpochs: Epochs, reductionFactor: 3),
        _ => null,
    };

    private static string Describe(string method) => method switch
    {
        "median" => "random + median stopping (5 startup trials)",
        "asha" => "random + successive halving (ASHA, η=3)",
        "hyperband" => "random + Hyperband (η=3, R=27)",
        _ => "random, no stopping",
    };

    /// <summary>Trials one after another, every epoch report put to the pruner, until the budget of epochs is spent.</summary>
    private static Summary Simulate(string method, int seed, int budget)
    {
        var pruner = Pruner(method);
        var sampler = new RandomSampler(seed);
        var noise = new Random(seed);
        var ended = new List<TrialCurve>();
        var complete = new List<(int Used, double EInf)>();
        var used = 0;
        while (used < budget)
        {
            var p = sampler.Propose(new SamplerContext(Space, ended.Count));
            double logLr = p["log_lr"].Number, logWd = p["log_wd"].Number, width = p["width"].Number, dropout = p["dropout"].Number;
            var eInf = Optimum + (0.30 * Math.Pow((logLr + 2.5) / 2, 2)) + (0.05 * Math.Pow((logWd + 4) / 2, 2))
                + (0.05 * Math.Pow(Math.Log2(width) - 8, 2) / 9) + (0.10 * Math.Pow(dropout - 0.3, 2));
            var values = new List<double>(Epochs);
            for (var t = 1; t <= Epochs && used < budget; t++)
            {
                used++;
                values.Add(eInf + ((0.9 - eInf) * Math.Pow(t, -(0.3 + (0.25 * (logLr + 5))))) + (NoiseSd * Gaussian(noise)));
                // As in the Optuna script, a trial that ran its last epoch is complete: nobody asks the pruner there.
                if (t < Epochs && pruner?.Decide(new PrunerContext(new TrialCurve(ended.Count, values, false), ended, false, "error")).Prune == true)
                {
                    break;
                }
            }

            if (values.Count == Epochs)
            {
                complete.Add((used, eInf));
            }

            ended.Add(new TrialCurve(ended.Count, values, true));
        }

        var regrets = Fractions.Select(f => complete.Where(c => c.Used <= f * budget).Select(c => (double?)c.EInf - Optimum).Min()).ToArray();
        return new Summary(regrets, ended.Count, complete.Count);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static (Dictionary<string, List<Summary>>? Rows, string Version, string? Problem) RunOptuna(int seeds, int budget)
    {
        var (stdout, problem) = OptunaScript.Run("optuna_early_stopping.py", "--seeds", $"{seeds}", "--budget", $"{budget}");
        if (stdout is null)
        {
            return (null, "", problem);
        }

        var output = JsonSerializer.Deserialize<OptunaOutput>(stdout, Json)!;
        return (output.Methods, output.Version, null);
    }

    private static void Row(string stack, string method, List<Summary> seeds)
    {
        var cells = Enumerable.Range(0, Fractions.Length).Select(i => MedianOrDash(seeds.Select(s => s.Regrets[i])));
        Console.WriteLine($"| {stack} | {Describe(method)} | {string.Join(" | ", cells)} | " +
            $"{BenchStats.Median(seeds.Select(s => (double)s.Started)):F0} | {BenchStats.Median(seeds.Select(s => (double)s.Complete)):F1} |");
    }

    // A seed with no trial at epoch 27 yet has no regret; the cell shows how many seeds had one when some did not.
    private static string MedianOrDash(IEnumerable<double?> regrets)
    {
        var all = regrets.ToList();
        var known = all.OfType<double>().ToList();
        if (known.Count == 0)
        {
            return "–";
        }

        var median = BenchStats.Median(known).ToString("F4", CultureInfo.InvariantCulture);
        return known.Count == all.Count ? median : $"{median} ({known.Count}/{all.Count} seeds)";
    }

    private sealed record Summary(double?[] Regrets, int Started, int Complete);

    private sealed record OptunaOutput(string Version, Dictionary<string, List<Summary>> Methods);
}
