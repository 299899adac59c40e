using HyperTune.Shared.LearningRate;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Agent.Workloads;

/// <summary>One trial to run: its parameters as the dashboard sent them, and the slot it occupies.</summary>
public sealed record TrialRequest(long TrialId, int Attempt, string Workload, IReadOnlyDictionary<string, ParamValue> Parameters, int Slot)
{
    /// <summary>Set when the dashboard asks for an LR range test instead of a training.</summary>
    public LrRangeTestSpec? LrRangeTest { get; init; }

    /// <summary>Set when the trial continues from a checkpoint (a fork, or a resume after a restart) instead of fresh weights.</summary>
    public ResumePoint? Resume { get; init; }

    /// <summary>
    /// Cancelled (together with the run's own token) when the trial is killed rather than stopped: a workload then skips
    /// any grace it would give (a command's process tree is killed without SIGINT or SIGTERM).
    /// </summary>
    public CancellationToken Kill { get; init; }
}

/// <summary>A checkpoint file on this agent and the epoch it was saved after; training continues at the next epoch.</summary>
public sealed record ResumePoint(string Path, int Epoch)
{
}

/// <summary>A workload the agent can run by name: a built-in TorchSharp training or a command its configuration declares.</summary>
public interface ITrialWorkload
{
    string Name { get; }

    /// <summary>
    /// Trains on the calling thread, telling <paramref name="reporter"/> every epoch. Throws
    /// <see cref="TrialFailedException"/> when the trial cannot go on and <see cref="OperationCanceledException"/> when stopped,
    /// killed or paused (a pause keeps the checkpoint of the last finished epoch, saved as every epoch's).
    /// </summary>
    void Run(TrialRequest request, ITrialReporter reporter, CancellationToken cancellationToken);
}
