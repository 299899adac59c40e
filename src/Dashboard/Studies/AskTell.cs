using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Security;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.Pruners;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Studies;

/// <summary>The outcome of an ask/tell call: the trial, or why not (with an HTTP-like kind).</summary>
public sealed record AskTellResult(TrialView? Trial, string? Problem = null, bool NotFound = false, PruneDecision? Decision = null);

/// <summary>
/// Lets any external training loop use HyperTune's samplers and pruners: ask for parameters, report epochs (and learn
/// whether to stop), tell the outcome. Only studies with the "external" workload are driven this way.
/// </summary>
public sealed class AskTell(StudyStore store, StudyEvents events, TrialPruning pruning, UserAccess access)
{
    public async Task<AskTellResult> AskAsync(long studyId, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "ask for trials", ct);
        var study = await store.GetStudyAsync(studyId, ct);
        if (study is null)
        {
            return new AskTellResult(null, $"study {studyId} does not exist", NotFound: true);
        }

        if (study.Definition.Workload != StudyStore.ExternalWorkload)
        {
            return new AskTellResult(null, $"study {studyId} runs on agents (workload {study.Definition.Workload}); ask/tell drives studies whose workload is \"{StudyStore.ExternalWorkload}\"");
        }

        var trial = await store.AskTrialAsync(studyId, ct);
        if (trial is null)
        {
            return new AskTellResult(null, study.Summary.TrialCount >= study.Summary.BudgetTrials
                ? $"study {studyId} has spent its budget of {study.Summary.BudgetTrials} trials"
                : $"study {studyId} has no trial to hand out now: its stage's trials must end, or its next stage waits to be started");
        }

        events.Publish(new TrialChanged(trial));
        return new AskTellResult(trial);
    }

    public async Task<AskTellResult> ReportAsync(long trialId, int epoch, IReadOnlyDictionary<string, double> metrics, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "report epochs", ct);
        if (await ExternalRunningTrialAsync(trialId, ct) is { Trial: null } refused)
        {
            return refused;
        }

        var trial = (await store.GetTrialAsync(trialId, ct))!;

        // The epoch is the sequence number: reporting the same epoch twice stores it once.
        var (outcome, stored, point) = await store.RecordEpochAsync(trialId, trial.Attempt, epoch, epoch, metrics, DateTimeOffset.UtcNow, ct: ct);
        if (outcome == IngestOutcome.Stored)
        {
            events.Publish(new EpochRecorded(stored!.StudyId, point!));
            events.Publish(new TrialChanged(stored));
        }

        var decision = await pruning.EvaluateAsync(stored ?? trial, ct);
        return new AskTellResult(await store.GetTrialAsync(trialId, ct), Decision: decision);
    }

    public async Task<AskTellResult> TellAsync(long trialId, double? value, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "tell results", ct);
        if (await ExternalRunningTrialAsync(trialId, ct) is { Trial: null } refused)
        {
            return refused;
        }

        var trial = await store.TellAsync(trialId, value, ct);
        if (trial is null)
        {
            return new AskTellResult(null, $"trial {trialId} is not running");
        }

        events.Publish(new TrialChanged(trial));
        return new AskTellResult(trial);
    }

    private async Task<AskTellResult> ExternalRunningTrialAsync(long trialId, CancellationToken ct)
    {
        var trial = await store.GetTrialAsync(trialId, ct);
        if (trial is null)
        {
            return new AskTellResult(null, $"trial {trialId} does not exist", NotFound: true);
        }

        var study = await store.GetStudyAsync(trial.StudyId, ct);
        if (study!.Definition.Workload != StudyStore.ExternalWorkload)
        {
            return new AskTellResult(null, $"trial {trialId} runs on an agent; only trials of \"{StudyStore.ExternalWorkload}\" studies take reports and tells over the API");
        }

        return trial.State == TrialState.Running
            ? new AskTellResult(trial)
            : new AskTellResult(null, $"trial {trialId} is already {trial.State.ToWire()}{(trial.Reason is null ? "" : $" ({trial.Reason})")}");
    }
}
