namespace HyperTune.Agent.Workloads;

/// <summary>Where a running workload tells what happens: epoch reports travel to the dashboard, progress stays on the agent.</summary>
public interface ITrialReporter
{
    /// <summary>One finished epoch (or one step of an LR range test): sent to the dashboard, numbered and acknowledged.</summary>
    void Epoch(int epoch, IReadOnlyDictionary<string, double> metrics);

    /// <summary>Where the trial is inside an epoch, for the agent's console; cheap, call it every few batches.</summary>
    void Progress(TrialProgress progress);

    /// <summary>One line of the trial's output, kept as the tail of its log.</summary>
    void Log(string line);

    /// <summary>
    /// Saves the state after <paramref name="epoch"/> through <paramref name="write"/>, before that epoch is reported; the
    /// agent keeps the last and the best (<paramref name="isBest"/>) of the attempt, and the report says which it holds.
    /// </summary>
    void SaveCheckpoint(int epoch, bool isBest, Action<Stream> write);
}

/// <summary>A running trial's position: epoch and batch (both from 1), the last loss and the training speed.</summary>
public sealed record TrialProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double ImagesPerSecond);
