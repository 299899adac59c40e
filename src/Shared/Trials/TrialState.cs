namespace HyperTune.Shared.Trials;

/// <summary>Where a trial is in its life. Completed, Stopped, Pruned and Failed are final.</summary>
public enum TrialState
{
    Queued,
    Running,
    Completed,
    Stopped,
    Failed,

    /// <summary>Stopped early by the study's pruner; the reason says why.</summary>
    Pruned,
}

/// <summary>Helpers on <see cref="TrialState"/>.</summary>
public static class TrialStates
{
    public static bool IsFinal(this TrialState state) => state is TrialState.Completed or TrialState.Stopped or TrialState.Failed or TrialState.Pruned;

    public static string ToWire(this TrialState state) => state.ToString().ToLowerInvariant();
}
