using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Shared.Pruners;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Trials;

/// <summary>Asks the study's pruner after every stored epoch report, and stops the trial when it says so.</summary>
public sealed class TrialPruning(StudyStore store, AgentRegistry registry, StudyEvents events, SchedulerSignal scheduler, ILogger<TrialPruning> logger)
{
    public async Task<PruneDecision> EvaluateAsync(TrialView trial, CancellationToken ct = default)
    {
        // An LR range test is one sweep, not a training to compare with others.
        if (trial.State.IsFinal() || trial.Kind == TrialKind.LrRangeTest || await store.GetDefinitionAsync(trial.StudyId, ct) is not { } definition
            || Algorithms.CreatePruner(definition.Pruner) is not { } pruner)
        {
            return PruneDecision.Continue;
        }

        var objective = definition.Objective;
        var curves = await store.LoadCurvesAsync(trial.StudyId, objective.Metric, ct);
        var mine = curves.FirstOrDefault(c => c.TrialId == trial.Id);
        if (mine is null || mine.Values.Count == 0)
        {
            return PruneDecision.Continue;
        }

        var decision = pruner.Decide(new PrunerContext(mine, [.. curves.Where(c => c.TrialId != trial.Id)], objective.Direction == Direction.Maximize, objective.Metric));
        if (!decision.Prune || !await store.MarkPruneAsync(trial.Id, decision.Reason!, ct))
        {
            return decision;
        }

        logger.LogInformation("Trial {TrialId} {Reason}", trial.Id, decision.Reason);
        var agent = trial.AgentId is null ? null : registry.Find(trial.AgentId);
        if (agent is not null && agent.Send(new Protos.V1.HubMessage
        {
            StopTrial = new Protos.V1.StopTrial { TrialId = trial.Id, Attempt = trial.Attempt, Reason = decision.Reason },
        }))
        {
            return decision;
        }

        // An external (ask/tell) trial, or one whose agent is gone: it ends here, as pruned.
        if (await store.FinishTrialAsync(trial.Id, trial.Attempt, TrialState.Stopped, decision.Reason, ct) is { } ended)
        {
            agent?.Release(trial.Id);
            events.Publish(new TrialChanged(ended));
            scheduler.Poke();
        }

        return decision;
    }
}
