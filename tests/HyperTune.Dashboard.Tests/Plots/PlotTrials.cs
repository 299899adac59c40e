using HyperTune.Dashboard.Data;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Tests.Plots;

/// <summary>A three-parameter study definition and trial views of it, for the plot tests.</summary>
internal static class PlotTrials
{
    public static readonly StudyDefinition Definition = new(
        "plots",
        "fashion-mnist-cnn",
        new Objective("val_accuracy", Direction.Maximize),
        new SamplerSpec("random", 3),
        new Budget(20, 4),
        new Dictionary<string, ParamValue>(),
        new SearchSpace(
        [
            new FloatParameter("lr", 1e-4, 0.3, Scale.Log),
            new FloatParameter("dropout", 0, 0.5, Scale.Linear),
            new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam")]),
        ]));

    /// <summary>Trial <paramref name="number"/> in <paramref name="state"/> with best value <paramref name="best"/>.</summary>
    public static TrialView Trial(int number, TrialState state, double? best, TrialKind kind = TrialKind.Training, double lr = 0.01, double dropout = 0.2, string optimizer = "adam") =>
        new(number, 1, number, state, new Dictionary<string, ParamValue>
            {
                ["lr"] = ParamValue.Of(lr),
                ["dropout"] = ParamValue.Of(dropout),
                ["optimizer"] = ParamValue.Of(optimizer),
            },
            1, "agent", null, null, 1, best, best, DateTimeOffset.UnixEpoch, null, null, Kind: kind);

    /// <summary><paramref name="count"/> completed trials numbered from <paramref name="first"/>, spread over the space.</summary>
    public static List<TrialView> Completed(int count, int first = 1) =>
        [.. Enumerable.Range(first, count).Select(n => Trial(n, TrialState.Completed, 0.5 + (0.01 * (n % 7)),
            lr: Math.Pow(10, -4 + (n % 4)), dropout: (n % 6) / 12.0, optimizer: n % 2 == 0 ? "sgd" : "adam"))];
}
