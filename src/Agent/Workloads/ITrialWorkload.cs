using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Agent.Workloads;

/// <summary>One trial to run: its parameters as the dashboard sent them, and the slot it occupies.</summary>
public sealed record TrialRequest(long TrialId, int Attempt, string Workload, IReadOnlyDictionary<string, ParamValue> Parameters, int Slot);

/// <summary>A built-in workload the agent can run by name.</summary>
public interface ITrialWorkload
{
    string Name { get; }

    /// <summary>
    /// Trains on the calling thread, calling <paramref name="onEpoch"/> after every epoch. Throws
    /// <see cref="TrialFailedException"/> when the trial cannot go on and <see cref="OperationCanceledException"/> when stopped.
    /// </summary>
    void Run(TrialRequest request, Action<EpochMetrics> onEpoch, CancellationToken cancellationToken);
}
