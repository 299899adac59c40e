namespace HyperTune.Shared.Pruners;

/// <summary>One trial's objective values so far, epoch by epoch (NaN where an epoch had none).</summary>
/// <param name="TrialId">The trial.</param>
/// <param name="Values">Objective value after epoch 1, 2, …; index i is epoch i + 1.</param>
/// <param name="Finished">True when the trial ended (completed, stopped, pruned or failed).</param>
public sealed record TrialCurve(long TrialId, IReadOnlyList<double> Values, bool Finished);

/// <summary>What a pruner may look at when a trial reports an epoch.</summary>
/// <param name="Trial">The trial that just reported.</param>
/// <param name="Others">Every other trial of the study, running or ended.</param>
/// <param name="Maximize">True when larger objective values are better.</param>
/// <param name="Metric">The objective metric's name, for the sentence.</param>
public sealed record PrunerContext(TrialCurve Trial, IReadOnlyList<TrialCurve> Others, bool Maximize, string Metric);

/// <summary>Stop now, with a sentence a person understands, or go on.</summary>
public sealed record PruneDecision(bool Prune, string? Reason)
{
    public static PruneDecision Continue { get; } = new(false, null);

    public static PruneDecision Stop(string reason) => new(true, reason);
}

/// <summary>Answers one question after every epoch report: stop this trial early or not.</summary>
public interface IPruner
{
    PruneDecision Decide(PrunerContext context);
}
