namespace HyperTune.Shared.Trials;

/// <summary>What a trial runs: a training with its hyperparameters, or an LR range test (one run sweeping lr).</summary>
public enum TrialKind
{
    Training,
    LrRangeTest,
}
