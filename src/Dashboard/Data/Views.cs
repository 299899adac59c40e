using HyperTune.Shared.LearningRate;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Data;

/// <summary>What a study looks like from outside: derived state and best value, never a tracked entity.</summary>
public sealed record StudySummary(
    long Id,
    string Name,
    string Workload,
    string State,
    Objective Objective,
    int BudgetTrials,
    int Parallel,
    int TrialCount,
    int FinishedCount,
    int RunningCount,
    double? BestValue,
    long? BestTrialId,
    DateTimeOffset CreatedAt)
{
    /// <summary>
    /// The counts, best value and state from the study's trials: running while anything is queued or running or the
    /// sampler has budget left, waiting while a proposed stage waits for a person, completed otherwise.
    /// </summary>
    public StudySummary Recount(IReadOnlyCollection<TrialTally> trials, int sampledCount, bool waitingForPerson)
    {
        TrialTally? best = null;
        foreach (var t in trials.Where(t => t.BestValue is not null))
        {
            if (Objective.IsBetter(t.BestValue!.Value, best?.BestValue))
            {
                best = t;
            }
        }

        var running = trials.Count(t => t.State == TrialState.Running);
        var active = running > 0 || trials.Any(t => t.State == TrialState.Queued) || sampledCount < BudgetTrials;

        // A paused trial waits for a person to resume it.
        waitingForPerson |= trials.Any(t => t.State == TrialState.Paused);
        return this with
        {
            State = waitingForPerson && running == 0 ? "waiting" : active ? "running" : "completed",
            TrialCount = trials.Count,
            FinishedCount = trials.Count(t => t.State.IsFinal()),
            RunningCount = running,
            BestValue = best?.BestValue,
            BestTrialId = best?.TrialId,
        };
    }
}

/// <summary>What a study summary counts of one trial.</summary>
public sealed record TrialTally(long TrialId, TrialState State, double? BestValue);

public sealed record StudyDetail(StudySummary Summary, StudyDefinition Definition, string SpecJson);

public sealed record TrialView(
    long Id,
    long StudyId,
    int Number,
    TrialState State,
    IReadOnlyDictionary<string, ParamValue> Params,
    int Attempt,
    string? AgentId,
    long? ClonedFromTrialId,
    string? Reason,
    int EpochCount,
    double? LastValue,
    double? BestValue,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    int StageIndex = 0,
    TrialKind Kind = TrialKind.Training)
{
    /// <summary>The epochs of the current attempt whose checkpoints its agent holds (fork offers these).</summary>
    public IReadOnlyList<int> CheckpointEpochs { get; init; } = [];

    /// <summary>The checkpoint the trial continues from (fork or resume), or null when it starts fresh.</summary>
    public CheckpointPointer? Resume { get; init; }

    /// <summary>Every metric of its latest epoch report (NaN and ±Inf kept); empty before the first.</summary>
    public IReadOnlyDictionary<string, double> LastMetrics { get; init; } = EmptyMetrics;

    /// <summary>A person's tags, in the order they were added.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>A person's Markdown notes; null when none.</summary>
    public string? Notes { get; init; }

    /// <summary>The last command a person gave the trial and how far it got; null when none was given.</summary>
    public ControlCommandView? Command { get; init; }

    /// <summary>The first attempt of the current run: epochs of earlier attempts belong to a run a re-run replaced.</summary>
    public int RunFromAttempt { get; init; }

    private static readonly IReadOnlyDictionary<string, double> EmptyMetrics = new Dictionary<string, double>();
}

/// <summary>A person's last command on a trial: what, how far it got (requested, delivered, done, failed), since when, and a sentence.</summary>
public sealed record ControlCommandView(TrialCommand Command, CommandDelivery State, DateTimeOffset At, string? Message, string? By = null)
{
    /// <summary>What the delivery chip says: "stop requested", "stop delivered", "stopped", "stop failed".</summary>
    public string Label => State switch
    {
        CommandDelivery.Requested => $"{Command.Verb()} requested",
        CommandDelivery.Delivered => $"{Command.Verb()} delivered",
        CommandDelivery.Done => Command.Done(),
        _ => $"{Command.Verb()} failed",
    };
}

/// <summary>A checkpoint: the state trial <paramref name="TrialId"/>'s attempt saved after <paramref name="Epoch"/>, held by <paramref name="AgentId"/>.</summary>
public sealed record CheckpointPointer(long TrialId, int Attempt, int Epoch, string? AgentId);

/// <summary>One stored epoch of a trial: metric name → value (NaN and ±Inf kept).</summary>
public sealed record EpochPoint(long TrialId, int Attempt, int Epoch, IReadOnlyDictionary<string, double> Metrics);

public sealed record TrialWithEpochs(TrialView Trial, IReadOnlyList<EpochPoint> Epochs);

/// <summary>The kept tail of a trial's log (its current attempt), oldest line first.</summary>
public sealed record TrialLogView(long TrialId, int Number, int Attempt, IReadOnlyList<string> Lines);

public sealed record GpuView(int Index, string Name, long MemoryTotalBytes);

/// <summary>Trials waiting for a slot: <paramref name="Queued"/> already made (clones, retries), <paramref name="Unsampled"/> still to be proposed.</summary>
public sealed record QueueDepth(int Queued, int Unsampled)
{
    public int Total => Queued + Unsampled;
}

public sealed record AgentView(
    string Id,
    string HostName,
    string Version,
    bool Online,
    int Slots,
    int BusySlots,
    IReadOnlyList<GpuView> Gpus,
    IReadOnlyList<string> Workloads,
    IReadOnlyList<long> RunningTrialIds,
    DateTimeOffset LastSeenAt);

/// <summary>An LR range test trial with its (lr, loss) steps and the analysis of its curve.</summary>
public sealed record LrRangeTestView(TrialView Trial, IReadOnlyList<LrLossPoint> Points, LrRangeAnalysis Analysis);

/// <summary>One stage of a study: its space, how many trials it holds and how far it is.</summary>
public sealed record StageView(
    int Index,
    StageKind Kind,
    StageState State,
    int Trials,
    int Sampled,
    int Ended,
    string Origin,
    SearchSpace Space,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt);
