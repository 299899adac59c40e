using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.LearningRate;

/// <summary>
/// The LR range test (Smith, 2017) run as a study's first stage: one training run whose learning rate rises exponentially
/// from <see cref="MinLr"/> to <see cref="MaxLr"/> over <see cref="Steps"/> batches; its loss curve proposes the lr bounds
/// of the next stage. With <see cref="Auto"/> the next stage starts at once, else a person reviews and starts it.
/// </summary>
public sealed record LrRangeTestSpec(double MinLr, double MaxLr, int Steps, bool Auto)
{
    public const string Field = "lr_range_test";

    /// <summary>The searched parameter whose bounds the test proposes.</summary>
    public const string LrParameter = "lr";

    public static OptionSpec[] Options { get; } =
    [
        // The built-in workloads accept lr in [1e-7, 10].
        OptionSpec.Number("min_lr", 1e-7, 1e-7, 10),
        OptionSpec.Number("max_lr", 10, 1e-7, 10),
        OptionSpec.WholeNumber("steps", 200, 20, 100_000),
        OptionSpec.Flag("auto", false),
    ];

    /// <summary>The learning rate of step <paramref name="step"/> (0-based): exponential from min to max.</summary>
    public double LrAt(int step) => Steps == 1 ? MinLr : MinLr * Math.Pow(MaxLr / MinLr, (double)step / (Steps - 1));

    public static LrRangeTestSpec From(AlgorithmSpec options) =>
        new(options.Number("min_lr"), options.Number("max_lr"), options.WholeNumber("steps"), options.Flag("auto"));

    public AlgorithmSpec ToOptions() => new(Field, new Dictionary<string, ParamValue>
    {
        ["min_lr"] = ParamValue.Of(MinLr),
        ["max_lr"] = ParamValue.Of(MaxLr),
        ["steps"] = ParamValue.Of(Steps),
        ["auto"] = ParamValue.Of(Auto),
    });
}
