using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Data;

// EF Core rows: mutable, internal to the store. Pages and the API only ever see the snapshot records in Views.cs.

public sealed class StudyRow
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required string Workload { get; set; }

    /// <summary>The canonical spec (with its seed), parsed again whenever the study is loaded.</summary>
    public required string SpecJson { get; set; }

    public required string ObjectiveMetric { get; set; }

    public bool Maximize { get; set; }

    public int BudgetTrials { get; set; }

    public int Parallel { get; set; }

    /// <summary>How many trials the sampler has proposed so far (clones do not count).</summary>
    public int SampledCount { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<TrialRow> Trials { get; set; } = [];
}

public sealed class TrialRow
{
    public long Id { get; set; }

    public long StudyId { get; set; }

    public StudyRow? Study { get; set; }

    /// <summary>1-based number within the study, as people refer to it ("trial #3").</summary>
    public int Number { get; set; }

    public TrialState State { get; set; }

    public required string ParamsJson { get; set; }

    /// <summary>0 until first started; every start increments it, and reports carry it.</summary>
    public int Attempt { get; set; }

    public string? AgentId { get; set; }

    public int? Slot { get; set; }

    public long? ClonedFromTrialId { get; set; }

    /// <summary>The stage (0-based) whose space the trial was sampled from.</summary>
    public int StageIndex { get; set; }

    public string? Reason { get; set; }

    public int EpochCount { get; set; }

    public double? LastValue { get; set; }

    public double? BestValue { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public DateTimeOffset? StopRequestedAt { get; set; }

    /// <summary>Set when the pruner decided to stop the trial; the agent's "stopped" then ends it as pruned.</summary>
    public string? PruneReason { get; set; }
}

/// <summary>One epoch report, unique on (trial, attempt, seq) so a replay is stored once.</summary>
public sealed class EpochReportRow
{
    public long Id { get; set; }

    public long TrialId { get; set; }

    public int Attempt { get; set; }

    public long Seq { get; set; }

    public int Epoch { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public List<EpochMetricRow> Metrics { get; set; } = [];
}

/// <summary>One metric of one epoch report; NaN and ±Inf are kept through <see cref="Kind"/>.</summary>
public sealed class EpochMetricRow
{
    public long Id { get; set; }

    public long ReportId { get; set; }

    public required string Name { get; set; }

    public MetricKind Kind { get; set; }

    public double? Value { get; set; }
}

public sealed class AgentRow
{
    public required string Id { get; set; }

    public required string HostName { get; set; }

    public required string Version { get; set; }

    public int Slots { get; set; }

    public required string GpusJson { get; set; }

    public required string WorkloadsJson { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }
}

/// <summary>How far a stage is.</summary>
public enum StageState
{
    /// <summary>Trials are drawn from its space.</summary>
    Running,

    /// <summary>Its space is proposed and waits for a person to edit and start it.</summary>
    Proposed,
}

/// <summary>One stage of a study: a version of the search space and how many trials come from it.</summary>
public sealed class StageRow
{
    public long Id { get; set; }

    public long StudyId { get; set; }

    public int Index { get; set; }

    /// <summary>The study's spec with this stage's space, parsed like any spec.</summary>
    public required string SpecJson { get; set; }

    public int Trials { get; set; }

    public StageState State { get; set; }

    /// <summary>Where the space came from, in words: "spec", "zoom around the best of stage 1", "narrowed around trial #7", "edited".</summary>
    public required string Origin { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }
}
