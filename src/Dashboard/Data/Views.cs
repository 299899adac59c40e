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
    int StageIndex = 0);

/// <summary>One stored epoch of a trial: metric name → value (NaN and ±Inf kept).</summary>
public sealed record EpochPoint(long TrialId, int Attempt, int Epoch, IReadOnlyDictionary<string, double> Metrics);

public sealed record TrialWithEpochs(TrialView Trial, IReadOnlyList<EpochPoint> Epochs);

public sealed record GpuView(int Index, string Name, long MemoryTotalBytes);

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

/// <summary>One stage of a study: its space, how many trials it holds and how far it is.</summary>
public sealed record StageView(
    int Index,
    StageState State,
    int Trials,
    int Sampled,
    int Ended,
    string Origin,
    SearchSpace Space,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt);
