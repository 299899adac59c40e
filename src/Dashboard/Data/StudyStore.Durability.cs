using System.Globalization;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>Trials whose agent was lost (it vanished, or came back without them): re-queued within the study's retry budget.</summary>
public sealed partial class StudyStore
{
    /// <summary>
    /// Each of <paramref name="trialIds"/> still running (an attempt whose agent is lost) is queued again as a new attempt,
    /// resuming from the attempt's last checkpoint when it has one, while the study's budget.max_retries allows; past it,
    /// the trial fails with a sentence saying so. A person's stop, kill or pause still on its way ends the trial as asked.
    /// <paramref name="reason"/> says what happened to the agent. Returns the trials changed.
    /// </summary>
    public async Task<IReadOnlyList<TrialView>> RequeueLostAsync(IReadOnlyCollection<long> trialIds, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.Trials.Include(t => t.Study).Where(t => trialIds.Contains(t.Id) && t.State == TrialState.Running).ToListAsync(ct);
        var now = clock.GetUtcNow();
        foreach (var trial in rows)
        {
            if (EndAsAsked(trial, reason, now))
            {
                continue;
            }

            var budget = Definition(trial.Study!).Budget.MaxRetries;
            if (trial.LostRetries >= budget)
            {
                trial.State = TrialState.Failed;
                trial.Reason = budget == 0
                    ? $"{reason}; not re-queued: the study's budget.max_retries is 0"
                    : $"{reason}; not re-queued: it was already re-queued {trial.LostRetries} time(s), the study's budget.max_retries of {budget}";
                trial.EndedAt = now;
            }
            else
            {
                Requeue(trial);
                trial.Reason = $"{reason}; re-queued (retry {trial.LostRetries} of {budget}), {StartsFrom(trial)}";
            }

            trial.Slot = null;
            Settle(trial, now);
        }

        await db.SaveChangesAsync(ct);
        return [.. rows.Select(ToView)];
    }

    /// <summary>
    /// Fencing: <paramref name="attempt"/> may no longer write to the trial. A newer attempt owns it, or it is queued
    /// for one (re-queued after its agent was lost, or re-run): the queued attempt number is still the lost one's.
    /// </summary>
    public static bool IsFenced(TrialView trial, int attempt) => attempt != trial.Attempt || trial.State == TrialState.Queued;

    private static bool IsFenced(TrialRow trial, int attempt) => attempt != trial.Attempt || trial.State == TrialState.Queued;

    /// <summary>
    /// A re-queued lost attempt goes on from its checkpoint, which lives on the agent that was lost. When that agent is
    /// not connected, the dashboard holds no copy and the trial goes to another agent, the checkpoint cannot travel:
    /// the trial starts over from epoch 1 as a new run instead of failing on the agent. A person's Resume is left as
    /// asked (it fails saying why). Returns the sentence that says so, or null when nothing changed.
    /// </summary>
    private static string? StartOverWithoutCheckpoint(TrialRow trial, string agentId, Func<CheckpointPointer, bool> canHandOver)
    {
        if (trial.LostRetries == 0 || trial.ResumeTrialId != trial.Id || trial.ResumeAgentId == agentId
            || (trial.Command == TrialCommand.Resume && trial.CommandState is { } state && state.IsPending()))
        {
            return null;
        }

        var checkpoint = new CheckpointPointer(trial.Id, trial.ResumeAttempt ?? 0, trial.ResumeEpoch ?? 0, trial.ResumeAgentId);
        if (canHandOver(checkpoint))
        {
            return null;
        }

        (trial.ResumeTrialId, trial.ResumeAttempt, trial.ResumeEpoch, trial.ResumeAgentId) = (null, null, null, null);
        (trial.EpochCount, trial.LastValue, trial.BestValue, trial.LastMetricsJson) = (0, null, null, null);
        return string.Create(CultureInfo.InvariantCulture,
            $"started over from epoch 1 on agent {agentId}: its checkpoint after epoch {checkpoint.Epoch} is on agent {checkpoint.AgentId}, which is not connected");
    }

    /// <summary>Queued for a new attempt: from this attempt's last checkpoint, else from where the run first started.</summary>
    private static void Requeue(TrialRow trial)
    {
        trial.State = TrialState.Queued;
        trial.LostRetries++;
        var epochs = trial.CheckpointAttempt == trial.Attempt ? CheckpointEpochs(trial) : [];
        if (epochs.Count > 0)
        {
            (trial.ResumeTrialId, trial.ResumeAttempt, trial.ResumeEpoch, trial.ResumeAgentId) = (trial.Id, trial.Attempt, epochs.Max(), trial.CheckpointAgentId);
        }
        else if (trial.ResumeTrialId != trial.Id)
        {
            // Starts over (fresh weights or a fork's source checkpoint): the next attempt begins a new run, as a re-run does.
            (trial.EpochCount, trial.LastValue, trial.BestValue, trial.LastMetricsJson) = (0, null, null, null);
        }
    }
}
