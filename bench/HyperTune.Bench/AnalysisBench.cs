using System.Diagnostics;
using System.Globalization;
using HyperTune.Shared.Analysis;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Bench;

/// <summary>
/// Time of the study page's analyses on a large study: parameter importance (forest fit and fANOVA), a 40×40 contour,
/// the best-so-far series and the parameter axes, over random trials of an 8-parameter space.
/// </summary>
/// <remarks>The first importance call pays ML.NET's JIT and is shown apart; the other figures are medians of later runs.</remarks>
internal static class AnalysisBench
{
    private static readonly SearchSpace Space = new(
    [
        new FloatParameter("lr", 1e-5, 0.3, Scale.Log),
        new FloatParameter("momentum", 0.5, 0.999, Scale.ReverseLog),
        new FloatParameter("dropout", 0, 0.5, Scale.Linear),
        new FloatParameter("weight_decay", 1e-6, 1e-2, Scale.Log),
        new IntParameter("units", 8, 1024, Scale.Log),
        new IntParameter("layers", 1, 6, Scale.Linear),
        new IntParameter("batch", 16, 256, Scale.Linear, Step: 16),
        new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam"), ParamValue.Of("rmsprop")]),
    ]);

    public static int Run(string[] args)
    {
        var trials = BenchArgs.Option(args, "--trials", 10_000);
        var runs = BenchArgs.Option(args, "--runs", 5);
        var random = new Random(3);
        var scored = Enumerable.Range(1, trials).Select(n =>
        {
            var values = Space.Parameters.ToDictionary(p => p.Name, p => p.FromUnit(random.NextDouble()));
            var value = -Math.Pow(Math.Log10(values["lr"].Number) + 2.5, 2) - values["dropout"].Number + (0.05 * random.NextDouble());
            return new ScoredTrial(n, value, values);
        }).ToList();

        var cold = Stopwatch.StartNew();
        var result = ParameterImportance.Compute(Space, scored, seed: 1);
        var coldMs = cold.Elapsed.TotalMilliseconds;
        var axes = new List<ParameterAxis>();
        var rows = new (string Name, Func<object> Work)[]
        {
            ($"importance ({ParameterImportance.Trees} trees, fitted on {result.TrialsUsed} of {result.TrialsAvailable})", () => ParameterImportance.Compute(Space, scored, seed: 1)),
            ($"contour lr × dropout ({Contour.DefaultSize}×{Contour.DefaultSize}, {Contour.Neighbours} nearest)", () => Contour.Build(axes[0], axes[2], scored)),
            ("best-so-far series", () => BestSoFar.Series(scored, Direction.Maximize)),
            ("parameter axes (8)", () => axes = [.. Space.Parameters.Select(p => ParameterAxis.For(p, scored.Select(t => t.Params)))]),
        };
        rows[3].Work();
        Console.WriteLine($"Study page analyses, {trials} trials × {Space.Parameters.Count} params, median of {runs} runs " +
            $"({Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd})");
        Console.WriteLine();
        Console.WriteLine("| analysis | median ms |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| importance, first call (ML.NET JIT included) | {coldMs.ToString("F0", CultureInfo.InvariantCulture)} |");
        foreach (var (name, work) in rows)
        {
            var times = Enumerable.Range(0, runs).Select(_ =>
            {
                var watch = Stopwatch.StartNew();
                work();
                return watch.Elapsed.TotalMilliseconds;
            }).Order().ToList();
            Console.WriteLine($"| {name} | {times[times.Count / 2].ToString("F1", CultureInfo.InvariantCulture)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Top parameters: {string.Join(", ", result.Parameters.Take(3).Select(p => $"{p.Name} {p.Importance:P0}"))}");
        Console.WriteLine($"Reproduce: `dotnet run -c Release --project bench/HyperTune.Bench -- analysis --trials {trials} --runs {runs}`");
        return 0;
    }
}
