using HyperTune.Dashboard.Security;
using HyperTune.Shared.Trials;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>What a command did to a trial: the trial as it is now and whether this call changed it, or why it could not.</summary>
public sealed record CommandOutcome(TrialView? Trial, bool Changed, string? Problem = null);

/// <summary>
/// A person's commands on trials (stop, kill, pause, resume, re-run, clone, fork) and how far each got: requested when
/// stored, delivered when the agent confirms it (or, for resume and re-run, when the new attempt is handed to an agent),
/// done when the trial reaches the state asked for, failed with a sentence otherwise.
/// </summary>
public sealed partial class StudyStore
{
    /// <summary>
    /// Records that a person asked attempt <paramref name="attempt"/> of a running trial to stop, be killed or pause. The
    /// same command still on its way changes nothing (Changed false); a trial that no longer runs that attempt is returned
    /// unchanged.
    /// </summary>
    public async Task<CommandOutcome> RequestEndAsync(long trialId, int attempt, TrialCommand command, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.State != TrialState.Running || trial.Attempt != attempt || IsPending(trial, command))
        {
            return new CommandOutcome(trial is null ? null : ToView(trial), false);
        }

        var now = clock.GetUtcNow();
        Record(trial, command, CommandDelivery.Requested, null, now);
        if (command != TrialCommand.Pause)
        {
            trial.StopRequestedAt ??= now;
        }

        await db.SaveChangesAsync(ct);
        return new CommandOutcome(ToView(trial), true);
    }

    /// <summary>
    /// The agent has the person's command for the attempt: requested becomes delivered. Null when nothing changed (another
    /// command, another attempt, or already further).
    /// </summary>
    public async Task<TrialView?> MarkDeliveredAsync(long trialId, int attempt, TrialCommand command, string agentId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.Attempt != attempt || trial.Command != command || trial.CommandState != CommandDelivery.Requested)
        {
            return null;
        }

        Record(trial, command, CommandDelivery.Delivered, $"agent {agentId} has it", clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>Fails the person's command with <paramref name="message"/> when it is still on its way; null when nothing changed.</summary>
    public async Task<TrialView?> FailCommandAsync(long trialId, TrialCommand command, string message, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || !IsPending(trial, command))
        {
            return null;
        }

        Record(trial, command, CommandDelivery.Failed, message, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>
    /// The dashboard ends a running attempt itself, because its agent is offline or does not run it: stop and kill end it
    /// stopped (pruned when the pruner had asked), pause pauses it at its last checkpoint. The same command still on its way
    /// ends with <paramref name="commandState"/> and <paramref name="commandMessage"/>. Unchanged when that attempt no longer runs.
    /// </summary>
    public async Task<TrialView?> EndWithoutAgentAsync(long trialId, int attempt, TrialCommand command, string reason,
        CommandDelivery commandState, string commandMessage, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.State != TrialState.Running || trial.Attempt != attempt)
        {
            return trial is null ? null : ToView(trial);
        }

        var now = clock.GetUtcNow();
        var asked = IsPending(trial, command);
        End(trial, command == TrialCommand.Pause ? TrialState.Paused : TrialState.Stopped, reason, now);
        if (asked)
        {
            Record(trial, command, commandState, commandMessage, now);
        }

        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>
    /// Stop or kill of a trial that holds no slot (queued or paused): it is stopped at once and the command is done. A
    /// problem when it is in another state.
    /// </summary>
    public async Task<CommandOutcome> StopIdleAsync(long trialId, TrialCommand command, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.State is not (TrialState.Queued or TrialState.Paused))
        {
            return new CommandOutcome(trial is null ? null : ToView(trial), false, NotIn(trial, trialId, "queued or paused"));
        }

        var now = clock.GetUtcNow();
        Record(trial, command, CommandDelivery.Requested, null, now);
        End(trial, TrialState.Stopped, reason, now);
        await db.SaveChangesAsync(ct);
        return new CommandOutcome(ToView(trial), true);
    }

    /// <summary>Pause of a queued trial: it is paused at once (it keeps the checkpoint it would have started from) and the command is done.</summary>
    public async Task<CommandOutcome> PauseQueuedAsync(long trialId, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.State != TrialState.Queued)
        {
            return new CommandOutcome(trial is null ? null : ToView(trial), false, NotIn(trial, trialId, "queued"));
        }

        var now = clock.GetUtcNow();
        Record(trial, TrialCommand.Pause, CommandDelivery.Requested, null, now);
        End(trial, TrialState.Paused, reason, now);
        await db.SaveChangesAsync(ct);
        return new CommandOutcome(ToView(trial), true);
    }

    /// <summary>Resume: a paused trial is queued again; its next attempt continues from the checkpoint it was paused at (on any agent).</summary>
    public async Task<CommandOutcome> ResumeAsync(long trialId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.State != TrialState.Paused)
        {
            return new CommandOutcome(trial is null ? null : ToView(trial), false, NotIn(trial, trialId, "paused"));
        }

        trial.State = TrialState.Queued;
        trial.Reason = $"resumed by {Actor}; {StartsFrom(trial)}";
        Record(trial, TrialCommand.Resume, CommandDelivery.Requested, "waits for a free slot", clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return new CommandOutcome(ToView(trial), true);
    }

    /// <summary>
    /// Re-run: a trial that ended without completing is queued again as a new run from where it first started (fresh
    /// weights, or a fork's source checkpoint). Its earlier attempts' epochs stay stored; views show the new run.
    /// </summary>
    public async Task<CommandOutcome> RerunAsync(long trialId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || !trial.State.IsFinal() || trial.State == TrialState.Completed)
        {
            return new CommandOutcome(trial is null ? null : ToView(trial), false,
                trial?.State == TrialState.Completed
                    ? $"trial #{trial.Number} completed: clone it to train those parameters again"
                    : NotIn(trial, trialId, "stopped, pruned, failed or diverged"));
        }

        var ended = trial.State.ToWire();
        trial.State = TrialState.Queued;
        trial.RunFromAttempt = trial.Attempt + 1;
        if (trial.ResumeTrialId == trial.Id)
        {
            (trial.ResumeTrialId, trial.ResumeAttempt, trial.ResumeEpoch, trial.ResumeAgentId) = (null, null, null, null);
        }

        (trial.EpochCount, trial.LastValue, trial.BestValue) = (0, null, null);
        (trial.StartedAt, trial.EndedAt, trial.Slot, trial.PruneReason, trial.StopRequestedAt) = (null, null, null, null, null);
        trial.Reason = $"re-run by {Actor} after it {ended}";
        Record(trial, TrialCommand.Rerun, CommandDelivery.Requested, "waits for a free slot", clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return new CommandOutcome(ToView(trial), true);
    }

    /// <summary>
    /// Records a clone or fork of the trial as done (<paramref name="message"/> names the new trial), unless a stop, kill
    /// or pause of it is still on its way; null when nothing changed.
    /// </summary>
    public async Task<TrialView?> RecordCopyAsync(long trialId, TrialCommand command, string message, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.Command is { } pending && pending.EndsTheAttempt() && trial.CommandState is { } state && state.IsPending())
        {
            return null;
        }

        Record(trial, command, CommandDelivery.Done, message, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>
    /// Ends a trial's attempt as <paramref name="outcome"/>: a stop or pause the pruner asked for ends it pruned with the
    /// pruner's sentence; a pause keeps where it resumes from. Then settles the person's command.
    /// </summary>
    private static void End(TrialRow trial, TrialState outcome, string? reason, DateTimeOffset now)
    {
        var pruned = outcome is TrialState.Stopped or TrialState.Paused && trial.PruneReason is not null;
        if (outcome == TrialState.Paused && !pruned)
        {
            Pause(trial, reason);
        }
        else
        {
            trial.State = pruned ? TrialState.Pruned : outcome;
            trial.Reason = pruned ? trial.PruneReason : string.IsNullOrWhiteSpace(reason) ? null : reason;
            trial.EndedAt = now;
        }

        trial.Slot = null;
        Settle(trial, now);
    }

    /// <summary>Paused at the last checkpoint of this attempt; without one, at the checkpoint the attempt started from, if any.</summary>
    private static void Pause(TrialRow trial, string? reason)
    {
        var epochs = trial.CheckpointAttempt == trial.Attempt ? CheckpointEpochs(trial) : [];
        if (epochs.Count > 0)
        {
            trial.ResumeTrialId = trial.Id;
            trial.ResumeAttempt = trial.Attempt;
            trial.ResumeEpoch = epochs.Max();
            trial.ResumeAgentId = trial.CheckpointAgentId;
        }

        trial.State = TrialState.Paused;
        trial.Reason = $"{(string.IsNullOrWhiteSpace(reason) ? "paused" : reason)}; resume {StartsFrom(trial)}";
    }

    /// <summary>Where the trial's next attempt starts, in words.</summary>
    private static string StartsFrom(TrialRow trial) => trial.ResumeTrialId switch
    {
        null => "starts it over from epoch 1 (it has no checkpoint yet)",
        var from when from == trial.Id => $"continues from its checkpoint after epoch {trial.ResumeEpoch}",
        _ => $"starts again from the checkpoint it was forked from (epoch {trial.ResumeEpoch})",
    };

    /// <summary>
    /// A lost attempt (its agent restarted or vanished) whose person's stop, kill or pause had not come to an end ends as
    /// asked, instead of being resumed or failed; false when no such command was on its way.
    /// </summary>
    private static bool EndAsAsked(TrialRow trial, string lostReason, DateTimeOffset now)
    {
        if (trial.Command is not { } command || !command.EndsTheAttempt() || !IsPending(trial, command))
        {
            return false;
        }

        End(trial, command == TrialCommand.Pause ? TrialState.Paused : TrialState.Stopped, $"{command.Done()} by {trial.CommandBy ?? "user"} ({lostReason})", now);
        return true;
    }

    /// <summary>The scheduler handed the trial's new attempt to an agent: a fresh start begins a new run; a resume or re-run is delivered.</summary>
    private static void Claimed(TrialRow trial, string agentId, DateTimeOffset now)
    {
        if (trial.ResumeTrialId != trial.Id)
        {
            trial.RunFromAttempt = trial.Attempt;
        }

        if (trial.Command is TrialCommand.Resume or TrialCommand.Rerun && trial.CommandState is { } state && state.IsPending())
        {
            Record(trial, trial.Command.Value, CommandDelivery.Delivered, $"attempt {trial.Attempt} handed to agent {agentId}", now);
        }
    }

    /// <summary>The first epoch of a resumed or re-run attempt proves it runs: the command is done.</summary>
    private static void EpochStored(TrialRow trial, int epoch, DateTimeOffset now)
    {
        if (trial.Command is TrialCommand.Resume or TrialCommand.Rerun && trial.CommandState is { } state && state.IsPending() && trial.State == TrialState.Running)
        {
            Record(trial, trial.Command.Value, CommandDelivery.Done, $"attempt {trial.Attempt} reported epoch {epoch}", now);
        }
    }

    /// <summary>Once the trial has left the running state, a person's command still on its way is done or has failed.</summary>
    private static void Settle(TrialRow trial, DateTimeOffset now)
    {
        if (trial.Command is not { } command || trial.CommandState is not { } state || !state.IsPending() || trial.State is TrialState.Running or TrialState.Queued)
        {
            return;
        }

        var reached = command switch
        {
            TrialCommand.Stop or TrialCommand.Kill => trial.State is TrialState.Stopped or TrialState.Pruned,
            TrialCommand.Pause => trial.State == TrialState.Paused,
            _ => trial.State == TrialState.Completed,
        };

        // A stop that finds the trial paused (the pause got there first) is settled by whoever applies it next.
        if (!reached && trial.State == TrialState.Paused && command is TrialCommand.Stop or TrialCommand.Kill)
        {
            return;
        }

        Record(trial, command, reached ? CommandDelivery.Done : CommandDelivery.Failed,
            reached ? trial.Reason : $"trial #{trial.Number} {trial.State.ToWire()} before the {command.Verb()} took effect{(trial.Reason is null ? "" : $": {trial.Reason}")}", now);
    }

    private static bool IsPending(TrialRow trial, TrialCommand command) =>
        trial.Command == command && trial.CommandState is { } state && state.IsPending();

    private static void Record(TrialRow trial, TrialCommand command, CommandDelivery state, string? message, DateTimeOffset now)
    {
        // A person's request names them; the dashboard's own follow-ups (an agent's answer) keep the name stored.
        if (state == CommandDelivery.Requested && UserAccess.Current?.Identity?.Name is { } by)
        {
            trial.CommandBy = by;
        }

        trial.Command = command;
        trial.CommandState = state;
        trial.CommandAt = now;
        trial.CommandMessage = message;
    }

    /// <summary>Who acts, for the reasons a command leaves: the signed-in user giving it (the services demand one).</summary>
    private static string Actor => UserAccess.Current?.Identity?.Name ?? "user";

    private static string NotIn(TrialRow? trial, long trialId, string states) => trial is null
        ? $"trial {trialId} does not exist"
        : $"trial #{trial.Number} is {trial.State.ToWire()}, not {states}";
}
