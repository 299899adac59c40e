namespace HyperTune.Agent.Workloads;

/// <summary>What one epoch of a trial measured; <see cref="EpochSeconds"/> covers training and validation.</summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValLoss, double ValAccuracy, double EpochSeconds, double TrainImagesPerSecond)
{
    public const string TrainLossName = "train_loss";
    public const string ValLossName = "val_loss";
    public const string ValAccuracyName = "val_accuracy";
    public const string EpochSecondsName = "epoch_seconds";
    public const string TrainImagesPerSecondName = "train_images_per_second";

    /// <summary>The metric names and values as they travel in an epoch report.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        [TrainLossName] = TrainLoss,
        [ValLossName] = ValLoss,
        [ValAccuracyName] = ValAccuracy,
        [EpochSecondsName] = EpochSeconds,
        [TrainImagesPerSecondName] = TrainImagesPerSecond,
    };
}
