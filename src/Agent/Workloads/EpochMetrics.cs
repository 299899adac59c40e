namespace HyperTune.Agent.Workloads;

/// <summary>
/// What one epoch of a trial measured; <see cref="EpochSeconds"/> covers training and validation. The last epoch of a trial
/// also carries the test-set metrics, and <see cref="StoppedEarlyAt"/> when patience ended the trial before its epochs were done.
/// </summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValLoss, double ValAccuracy, double EpochSeconds, double TrainImagesPerSecond)
{
    public const string TrainLossName = "train_loss";
    public const string ValLossName = "val_loss";
    public const string ValAccuracyName = "val_accuracy";
    public const string EpochSecondsName = "epoch_seconds";
    public const string TrainImagesPerSecondName = "train_images_per_second";
    public const string TestLossName = "test_loss";
    public const string TestAccuracyName = "test_accuracy";
    public const string StoppedEarlyAtName = "stopped_early_at";

    public double? TestLoss { get; init; }

    public double? TestAccuracy { get; init; }

    /// <summary>The epoch after which patience ran out (this one), or null when the trial ran all its epochs.</summary>
    public int? StoppedEarlyAt { get; init; }

    /// <summary>The metric names and values as they travel in an epoch report.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var metrics = new Dictionary<string, double>
        {
            [TrainLossName] = TrainLoss,
            [ValLossName] = ValLoss,
            [ValAccuracyName] = ValAccuracy,
            [EpochSecondsName] = EpochSeconds,
            [TrainImagesPerSecondName] = TrainImagesPerSecond,
        };
        if (TestLoss is { } testLoss && TestAccuracy is { } testAccuracy)
        {
            metrics[TestLossName] = testLoss;
            metrics[TestAccuracyName] = testAccuracy;
        }

        if (StoppedEarlyAt is { } stoppedAt)
        {
            metrics[StoppedEarlyAtName] = stoppedAt;
        }

        return metrics;
    }
}
