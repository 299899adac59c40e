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

    /// <summary>A person's Markdown notes on the study; null when none.</summary>
    public string? Notes { get; set; }

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

    public TrialKind Kind { get; set; }

    /// <summary>The agent holding this trial's checkpoints, the attempt they belong to, and their epochs as JSON ("[2,3]").</summary>
    public string? CheckpointAgentId { get; set; }

    public int CheckpointAttempt { get; set; }

    public string? CheckpointEpochsJson { get; set; }

    /// <summary>Where the next (or current) attempt starts from: a checkpoint of this trial (resume) or of another (fork).</summary>
    public long? ResumeTrialId { get; set; }

    public int? ResumeAttempt { get; set; }

    public int? ResumeEpoch { get; set; }

    /// <summary>The agent that held the resume checkpoint when it was chosen (it is fetched from there for another agent).</summary>
    public string? ResumeAgentId { get; set; }

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

    /// <summary>Every metric of the trial's latest epoch report as JSON ({"val_loss": 0.4, "loss": "NaN"}); null before the first.</summary>
    public string? LastMetricsJson { get; set; }

    /// <summary>A person's tags as a JSON array (["baseline","good"]); null when none.</summary>
    public string? TagsJson { get; set; }

    /// <summary>A person's Markdown notes on the trial; null when none.</summary>
    public string? Notes { get; set; }
    /// <summary>The first attempt of the current run: a re-run starts a new run; a resume continues the same one.</summary>
    public int RunFromAttempt { get; set; }

    /// <summary>Times the trial was re-queued because its agent was lost; at the study's budget.max_retries it fails instead.</summary>
    public int LostRetries { get; set; }

    /// <summary>The last command a person gave the trial, how far it got, when, and why (a failure's sentence).</summary>
    public TrialCommand? Command { get; set; }

    public CommandDelivery? CommandState { get; set; }

    public DateTimeOffset? CommandAt { get; set; }

    public string? CommandMessage { get; set; }

    /// <summary>The user name of whoever gave <see cref="Command"/> (null when nobody signed in gave it).</summary>
    public string? CommandBy { get; set; }
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

/// <summary>One line a trial printed; only the last <see cref="KeptLines"/> of each trial are kept.</summary>
public sealed class TrialLogRow
{
    public const int KeptLines = 200;

    /// <summary>Longest line stored; longer ones are cut.</summary>
    public const int MaxLineLength = 2000;

    public long Id { get; set; }

    public long TrialId { get; set; }

    public int Attempt { get; set; }

    public required string Line { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public static string Clip(string line) => line.Length > MaxLineLength ? line[..MaxLineLength] + "…" : line;
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

/// <summary>What a stage runs: trials drawn from its space, or one LR range test whose curve proposes the next stage's lr bounds.</summary>
public enum StageKind
{
    Search,
    LrRangeTest,
}

/// <summary>One stage of a study: a version of the search space and how many trials come from it.</summary>
public sealed class StageRow
{
    public StageKind Kind { get; set; }

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
