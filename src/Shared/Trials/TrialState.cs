namespace HyperTune.Shared.Trials;

/// <summary>Where a trial is in its life. Completed, Stopped, Pruned, Failed and Diverged are final.</summary>
public enum TrialState
{
    Queued,
    Running,
    Completed,
    Stopped,
    Failed,

    /// <summary>Stopped early by the study's pruner; the reason says why.</summary>
    Pruned,

    /// <summary>The training loss became NaN or infinite; the reason names the epoch and batch.</summary>
    Diverged,

    /// <summary>Paused by a person: holds no slot and is never scheduled until resumed from its last checkpoint.</summary>
    Paused,
}

/// <summary>Helpers on <see cref="TrialState"/>.</summary>
public static class TrialStates
{
    public static bool IsFinal(this TrialState state) => state is TrialState.Completed or TrialState.Stopped or TrialState.Failed or TrialState.Pruned or TrialState.Diverged;

    public static string ToWire(this TrialState state) => state.ToString().ToLowerInvariant();
}
