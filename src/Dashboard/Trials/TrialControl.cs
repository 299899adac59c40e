using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Grpc;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Dashboard.Security;
using HyperTune.Protos.V1;
using ParamValue = HyperTune.Shared.SearchSpaces.ParamValue;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using HyperTune.Shared.Workloads;

namespace HyperTune.Dashboard.Trials;

/// <summary>How a control request ended.</summary>
public enum ControlStatus
{
    Done,
    NotFound,
    Conflict,
    Invalid,
}

/// <summary>The outcome of a command: the trial as it is now (with the command's delivery state), or why nothing happened.</summary>
public sealed record ControlResult(ControlStatus Status, TrialView? Trial, string? Message = null, IReadOnlyList<FieldError>? Errors = null);

/// <summary>
/// A person's commands on a trial, from the UI or the REST API. Stop, Kill and Pause of a running trial become a typed
/// StopTrial on its agent's stream; the agent confirms it (CommandReceived) and ends the attempt between two batches.
/// Resume, Re-run, Clone and Fork queue a trial for the scheduler. Each command's delivery state is stored with the
/// trial and published on every change.
/// </summary>
public sealed class TrialControl(StudyStore store, AgentRegistry registry, StudyEvents events, SchedulerSignal scheduler, UserAccess access, ILogger<TrialControl> logger)
{
    /// <summary>Graceful stop: queued or paused trials stop at once; a running one ends between two batches on its agent.</summary>
    public Task<ControlResult> StopAsync(long trialId, CancellationToken ct = default) => EndAsync(trialId, TrialCommand.Stop, ct);

    /// <summary>Kill: like Stop, but the agent ends it at once without a last checkpoint, and kills a command's process tree without signalling it first.</summary>
    public Task<ControlResult> KillAsync(long trialId, CancellationToken ct = default) => EndAsync(trialId, TrialCommand.Kill, ct);

    /// <summary>
    /// Pause: a running trial ends between two batches keeping its last epoch's checkpoint, and holds no slot until
    /// resumed; a queued one is paused at once. Refused for workloads that cannot save a checkpoint.
    /// </summary>
    public Task<ControlResult> PauseAsync(long trialId, CancellationToken ct = default) => EndAsync(trialId, TrialCommand.Pause, ct);

    /// <summary>Resume: a paused trial is queued; its next attempt continues from its checkpoint, on whichever agent has a free slot.</summary>
    public async Task<ControlResult> ResumeAsync(long trialId, CancellationToken ct = default)
    {
        await DemandAsync(TrialCommand.Resume, ct);
        return Queued(await store.ResumeAsync(trialId, ct), TrialCommand.Resume);
    }

    /// <summary>Re-run: a stopped, pruned, failed or diverged trial is queued again as a new attempt from the start.</summary>
    public async Task<ControlResult> RerunAsync(long trialId, CancellationToken ct = default)
    {
        await DemandAsync(TrialCommand.Rerun, ct);
        // No agent runs an ask/tell study's trials: its loop asks for a new one instead.
        if (await store.GetTrialAsync(trialId, ct) is { } trial && await store.GetStudyAsync(trial.StudyId, ct) is { Summary.Workload: StudyStore.ExternalWorkload })
        {
            return new ControlResult(ControlStatus.Conflict, trial, $"trial #{trial.Number} ran outside HyperTune (ask/tell): ask for a new trial instead");
        }

        return Queued(await store.RerunAsync(trialId, ct), TrialCommand.Rerun);
    }

    /// <summary>Why the trial cannot be paused, or null when it can: only workloads that save a checkpoint every epoch can.</summary>
    public static string? PauseProblem(TrialView trial, string workload)
    {
        if (CommandWorkloads.TryGetCommand(workload, out var name))
        {
            return $"trial #{trial.Number} runs command {name}, which saves no checkpoint HyperTune can resume from: stop it instead";
        }

        if (workload == StudyStore.ExternalWorkload)
        {
            return $"trial #{trial.Number} runs outside HyperTune (ask/tell): it cannot be paused";
        }

        return trial.Kind == TrialKind.LrRangeTest ? $"trial #{trial.Number} is an LR range test, which saves no checkpoint: stop it or re-run it" : null;
    }

    /// <summary>
    /// Queues a new trial with the source's parameters, changed by <paramref name="overrides"/> (each validated); with
    /// <paramref name="forkEpoch"/>, it continues from the source's checkpoint after that epoch ("fork from epoch k").
    /// </summary>
    public async Task<ControlResult> CloneAsync(long trialId, IReadOnlyDictionary<string, ParamValue> overrides, int? forkEpoch = null, CancellationToken ct = default)
    {
        await DemandAsync(forkEpoch is null ? TrialCommand.Clone : TrialCommand.Fork, ct);
        var source = await store.GetTrialAsync(trialId, ct);
        if (source is null)
        {
            return new ControlResult(ControlStatus.NotFound, null, $"trial {trialId} does not exist");
        }

        var study = await store.GetStudyAsync(source.StudyId, ct);
        var errors = overrides
            .Select(o => (o.Key, Problem: StudySpecParser.RejectValue(study!.Definition, o.Key, o.Value)))
            .Where(o => o.Problem is not null)
            .Select(o => new FieldError($"params.{o.Key}", o.Problem!))
            .ToList();
        if (errors.Count > 0)
        {
            return new ControlResult(ControlStatus.Invalid, source, "some parameters are not valid", errors);
        }

        TrialView copy;
        string done;
        if (forkEpoch is { } epoch)
        {
            var fork = await store.ForkTrialAsync(trialId, epoch, overrides, ct);
            if (fork.Trial is null)
            {
                return new ControlResult(ControlStatus.Conflict, source, fork.Problem);
            }

            copy = fork.Trial;
            done = $"fork #{copy.Number} queued from epoch {epoch}";
            logger.LogInformation("Trial {TrialId} forked from epoch {Epoch} as trial {ForkId}", trialId, epoch, copy.Id);
        }
        else
        {
            copy = (await store.CloneTrialAsync(trialId, overrides, ct))!;
            done = $"clone #{copy.Number} queued";
            logger.LogInformation("Trial {TrialId} cloned as trial {CloneId}", trialId, copy.Id);
        }

        scheduler.Poke();
        if (await store.RecordCopyAsync(trialId, forkEpoch is null ? TrialCommand.Clone : TrialCommand.Fork, done, ct) is { } recorded)
        {
            events.Publish(new TrialChanged(recorded));
        }

        return Published(copy);
    }

    /// <summary>
    /// The agent's answer to a StopTrial. Found: the person's command is delivered. Not found: the agent does not run that
    /// attempt, so the dashboard ends it itself as asked (a stop the pruner sent ends it pruned) and the command fails
    /// with a sentence; a trial that ended meanwhile keeps its state.
    /// </summary>
    public async Task ReceivedAsync(string agentId, CommandReceived received, CancellationToken ct = default)
    {
        var command = ProtoMapping.ToCommand(received.Mode);
        if (received.Found)
        {
            if (await store.MarkDeliveredAsync(received.TrialId, received.Attempt, command, agentId, ct) is { } delivered)
            {
                events.Publish(new TrialChanged(delivered));
            }

            return;
        }

        var trial = await store.GetTrialAsync(received.TrialId, ct);
        if (trial is null || trial.Attempt != received.Attempt)
        {
            return;
        }

        logger.LogWarning("Agent {AgentId} does not run trial {TrialId} attempt {Attempt} it was asked to {Command}", agentId, trial.Id, trial.Attempt, command.Verb());
        var notThere = $"agent {agentId} was not running trial #{trial.Number} (attempt {trial.Attempt})";
        if (trial.State == TrialState.Running && trial.AgentId == agentId)
        {
            Publish(await EndHereAsync(trial, command, CommandDelivery.Failed, $"{notThere}: the dashboard {Ended(command)} itself", ct));
        }
        else if (trial.State == TrialState.Paused && command != TrialCommand.Pause && trial.Command?.Command == command)
        {
            // The pause got there first: the stop now applies to the paused trial.
            Publish((await store.StopIdleAsync(trial.Id, command, Reason(command, By(trial)), ct)).Trial);
        }
        else if (await store.FailCommandAsync(trial.Id, command, $"{notThere}; it is {trial.State.ToWire()}", ct) is { } failed)
        {
            events.Publish(new TrialChanged(failed));
        }
    }

    /// <summary>After an agent reconnects: its running trials' stop, kill or pause commands it never confirmed are sent again.</summary>
    public async Task ResendPendingAsync(AgentConnection agent, CancellationToken ct = default)
    {
        foreach (var trial in (await store.ListTrialsInStateAsync(TrialState.Running, ct)).Where(t => t.AgentId == agent.AgentId))
        {
            if (trial.Command is { State: CommandDelivery.Requested, Command: var command } && command.EndsTheAttempt())
            {
                agent.Send(StopMessage(trial, command));
                logger.LogInformation("{Command} of trial {TrialId} sent again to agent {AgentId} after it reconnected", command, trial.Id, agent.AgentId);
            }
        }
    }

    // A person's command: only operators and admins may give one (the agent's answers and resends are not commands).
    private Task DemandAsync(TrialCommand command, CancellationToken ct) => access.DemandAsync(Roles.Operator, $"{command.Verb()} trials", ct);

    private async Task<ControlResult> EndAsync(long trialId, TrialCommand command, CancellationToken ct)
    {
        await DemandAsync(command, ct);
        var trial = await store.GetTrialAsync(trialId, ct);
        if (trial is null)
        {
            return new ControlResult(ControlStatus.NotFound, null, $"trial {trialId} does not exist");
        }

        if (command == TrialCommand.Pause && await store.GetStudyAsync(trial.StudyId, ct) is { } study && PauseProblem(trial, study.Summary.Workload) is { } problem)
        {
            return new ControlResult(ControlStatus.Conflict, trial, problem);
        }

        if (Refusal(trial, command) is { } refusal)
        {
            return new ControlResult(ControlStatus.Conflict, trial, refusal);
        }

        if (trial.State != TrialState.Running)
        {
            var idle = command == TrialCommand.Pause
                ? await store.PauseQueuedAsync(trial.Id, Reason(command, By(trial)), ct)
                : await store.StopIdleAsync(trial.Id, command, $"{Reason(command, By(trial))} {(trial.State == TrialState.Paused ? "while paused" : "before it started")}", ct);
            return idle.Changed ? Published(idle.Trial!) : new ControlResult(ControlStatus.Conflict, idle.Trial, idle.Problem);
        }

        var requested = await store.RequestEndAsync(trial.Id, trial.Attempt, command, ct);
        if (!requested.Changed)
        {
            // The same command is already on its way (a double click), or the attempt ended meanwhile: nothing more is sent.
            return requested.Trial is { State: TrialState.Running } same
                ? new ControlResult(ControlStatus.Done, same)
                : new ControlResult(ControlStatus.Conflict, requested.Trial, $"trial #{trial.Number} is {requested.Trial?.State.ToWire()} now");
        }

        // Publish "requested" before the command leaves, so the agent's answer can never be overtaken by it.
        Publish(requested.Trial);
        if (trial.AgentId is null)
        {
            // An ask/tell trial runs outside HyperTune: it ends here.
            return Published(await EndHereAsync(trial, command, CommandDelivery.Done, $"trial #{trial.Number} runs outside HyperTune (ask/tell): the dashboard {Ended(command)}", ct));
        }

        if (registry.Find(trial.AgentId) is { } agent && agent.Send(StopMessage(requested.Trial!, command)))
        {
            logger.LogInformation("{Command} of trial {TrialId} sent to agent {AgentId}", command, trial.Id, trial.AgentId);
            return new ControlResult(ControlStatus.Done, requested.Trial);
        }

        var offline = $"agent {trial.AgentId} is offline, so the {command.Verb()} could not be delivered: the dashboard {Ended(command)} itself";
        return Published(await EndHereAsync(trial, command, CommandDelivery.Failed, offline, ct));
    }

    /// <summary>Why the trial's state does not allow the command, or null when it does.</summary>
    private static string? Refusal(TrialView trial, TrialCommand command)
    {
        if (trial.State.IsFinal())
        {
            return $"trial #{trial.Number} is already {trial.State.ToWire()}";
        }

        if (command == TrialCommand.Pause && trial.State == TrialState.Paused)
        {
            return $"trial #{trial.Number} is already paused";
        }

        // A kill outranks a stop, which outranks a pause: a weaker command never replaces a stronger one on its way.
        return trial.Command is { State: CommandDelivery.Requested or CommandDelivery.Delivered, Command: var pending }
            && pending.EndsTheAttempt() && Rank(pending) > Rank(command)
            ? $"a {pending.Verb()} of trial #{trial.Number} is already on its way"
            : null;
    }

    private async Task<TrialView> EndHereAsync(TrialView trial, TrialCommand command, CommandDelivery state, string message, CancellationToken ct)
    {
        var ended = await store.EndWithoutAgentAsync(trial.Id, trial.Attempt, command, Reason(command, By(trial)), state, message, ct) ?? trial;
        if (trial.AgentId is not null)
        {
            registry.Find(trial.AgentId)?.Release(trial.Id);
        }

        events.Publish(new AgentsChanged());
        scheduler.Poke();
        return ended;
    }

    private ControlResult Queued(CommandOutcome outcome, TrialCommand command)
    {
        if (!outcome.Changed)
        {
            return outcome.Trial is null
                ? new ControlResult(ControlStatus.NotFound, null, outcome.Problem)
                : new ControlResult(ControlStatus.Conflict, outcome.Trial, outcome.Problem);
        }

        logger.LogInformation("Trial {TrialId} queued again ({Command})", outcome.Trial!.Id, command);
        scheduler.Poke();
        return Published(outcome.Trial);
    }

    private static HubMessage StopMessage(TrialView trial, TrialCommand command) => new()
    {
        StopTrial = new StopTrial { TrialId = trial.Id, Attempt = trial.Attempt, Reason = Reason(command, By(trial)), Mode = ProtoMapping.ToMode(command) },
    };

    /// <summary>The reason a Stop, Kill or Pause leaves on the trial, naming who gave it: "stopped by alice".</summary>
    private static string Reason(TrialCommand command, string? by) => command switch
    {
        TrialCommand.Kill => "killed",
        TrialCommand.Pause => "paused",
        _ => "stopped",
    } + $" by {by ?? "user"}";

    /// <summary>
    /// Who gave the command: the signed-in user giving it now (every command demands one), or, when the dashboard acts
    /// on its own (an agent's answer, a resend after a reconnect), the user stored with the trial's command.
    /// </summary>
    private static string? By(TrialView trial) => UserAccess.Current?.Identity?.Name ?? trial.Command?.By;

    private static string Ended(TrialCommand command) => command == TrialCommand.Pause ? "paused the trial" : "ended the trial as stopped";

    private static int Rank(TrialCommand command) => command switch
    {
        TrialCommand.Kill => 2,
        TrialCommand.Stop => 1,
        _ => 0,
    };

    private TrialView? Publish(TrialView? trial)
    {
        if (trial is not null)
        {
            events.Publish(new TrialChanged(trial));
        }

        return trial;
    }

    private ControlResult Published(TrialView trial)
    {
        events.Publish(new TrialChanged(trial));
        return new ControlResult(ControlStatus.Done, trial);
    }
}
