using System.Globalization;
using HyperTune.Agent.Slots;

namespace HyperTune.Agent.Terminal;

/// <summary>One line per running trial, e.g. "trial 12 slot 0: epoch 2/3, batch 140/157, loss 0.4312, 2150 images/s".</summary>
public static class ProgressLine
{
    public static string Format(RunningTrialView trial)
    {
        var who = trial.Attempt > 1
            ? string.Create(CultureInfo.InvariantCulture, $"trial {trial.TrialId} (attempt {trial.Attempt}) slot {trial.Slot}")
            : string.Create(CultureInfo.InvariantCulture, $"trial {trial.TrialId} slot {trial.Slot}");
        if (trial.Progress is not { } p)
        {
            return $"{who}: {trial.Workload} starting";
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{who}: epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.Batches}, loss {p.Loss:0.0000}, {p.ImagesPerSecond:0} images/s");
    }

    /// <summary>The line cut to <paramref name="width"/> columns, so that a terminal never wraps it.</summary>
    public static string Fit(string line, int width) => width < 2 || line.Length <= width ? line : line[..(width - 1)] + "…";
}
