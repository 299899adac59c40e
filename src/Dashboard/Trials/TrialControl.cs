using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;

using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Trials;

/// <summary>How a control request ended.</summary>
public enum ControlStatus
{
    Done,
    NotFound,
    Conflict,
    Invalid,
}

/// <summary>The outcome of Stop or Clone: the trial as it is now, or why nothing happened.</summary>
public sealed record ControlResult(ControlStatus Status, TrialView? Trial, string? Message = null, IReadOnlyList<FieldError>? Errors = null);

/// <summary>A person's Stop and Clone, from the UI or the REST API; both become typed commands or queued trials.</summary>
public sealed class TrialControl(StudyStore store, AgentRegistry registry, StudyEvents events, SchedulerSignal scheduler, ILogger<TrialControl> logger)
{
    public const string StoppedByUser = "stopped by user";

    /// <summary>
    /// Queued: stopped at once. Running: a StopTrial command goes to its agent, whose training loop ends
    /// between two batches and reports the trial stopped; with its agent offline, it is stopped at once.
    /// </summary>
    public async Task<ControlResult> StopAsync(long trialId, CancellationToken ct = default)
    {
        var trial = await store.GetTrialAsync(trialId, ct);
        if (trial is null)
        {
            return new ControlResult(ControlStatus.NotFound, null, $"trial {trialId} does not exist");
        }

        if (trial.State.IsFinal())
        {
            return new ControlResult(ControlStatus.Conflict, trial, $"trial {trialId} is already {trial.State.ToWire()}");
        }

        if (trial.State == TrialState.Queued && await store.StopQueuedAsync(trialId, StoppedByUser + " before it started", ct) is { } stoppedQueued)
        {
            return Published(stoppedQueued);
        }

        var agent = trial.AgentId is null ? null : registry.Find(trial.AgentId);
        if (agent is not null)
        {
            // Publish "stop requested" before the command leaves, so the agent's "stopped" can never be overtaken by it.
            var requested = Published(await store.MarkStopRequestedAsync(trialId, ct) ?? trial);
            if (agent.Send(new Protos.V1.HubMessage
            {
                StopTrial = new Protos.V1.StopTrial { TrialId = trial.Id, Attempt = trial.Attempt, Reason = StoppedByUser },
            }))
            {
                logger.LogInformation("Stop of trial {TrialId} sent to agent {AgentId}", trial.Id, trial.AgentId);
                return requested;
            }
        }

        var stopped = await store.FinishTrialAsync(trial.Id, trial.Attempt, TrialState.Stopped, $"{StoppedByUser} while its agent was offline", ct);
        agent?.Release(trial.Id);
        scheduler.Poke();
        return Published(stopped ?? trial);
    }

    /// <summary>Queues a new trial with the source's parameters, changed by <paramref name="overrides"/> (each validated).</summary>
    public async Task<ControlResult> CloneAsync(long trialId, IReadOnlyDictionary<string, ParamValue> overrides, CancellationToken ct = default)
    {
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

        var clone = await store.CloneTrialAsync(trialId, overrides, ct);
        logger.LogInformation("Trial {TrialId} cloned as trial {CloneId}", trialId, clone!.Id);
        scheduler.Poke();
        return Published(clone);
    }

    private ControlResult Published(TrialView trial)
    {
        events.Publish(new TrialChanged(trial));
        return new ControlResult(ControlStatus.Done, trial);
    }
}
