using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Checkpoints;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Grpc;
using HyperTune.Dashboard.Live;

namespace HyperTune.Dashboard.Scheduling;

/// <summary>Hands trials to free agent slots until each study's budget is spent, at most its parallel limit at once.</summary>
public sealed class TrialScheduler(
    SchedulerSignal signal,
    AgentRegistry registry,
    StudyStore store,
    StudyEvents events,
    CheckpointRelay checkpoints,
    ILogger<TrialScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan FallbackTick = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ScheduleAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Scheduling pass failed; retrying on the next signal");
            }

            await signal.WaitAsync(FallbackTick, stoppingToken);
        }
    }

    /// <summary>Fills every free slot it can, one claim at a time.</summary>
    public async Task ScheduleAsync(CancellationToken ct)
    {
        foreach (var agent in registry.Connected)
        {
            while (!agent.Closed.IsCancellationRequested && agent.FreeSlot() is { } slot)
            {
                var (claim, stagesAdded) = await store.ClaimNextTrialAsync(agent.Workloads, agent.AgentId, slot, checkpoints.CanHandOver, ct);
                foreach (var studyId in stagesAdded.Distinct())
                {
                    events.Publish(new StagesChanged(studyId));
                }

                if (claim is null)
                {
                    break;
                }

                agent.Occupy(slot, claim.Trial.Id);
                agent.Send(new Protos.V1.HubMessage { StartTrial = ProtoMapping.ToStartTrial(claim, slot) });
                logger.LogInformation("Trial {TrialId} (study {StudyId} #{Number}, attempt {Attempt}) → agent {AgentId} slot {Slot}",
                    claim.Trial.Id, claim.Trial.StudyId, claim.Trial.Number, claim.Trial.Attempt, agent.AgentId, slot);
                events.Publish(new TrialChanged(claim.Trial));
                events.Publish(new AgentsChanged());
            }
        }
    }
}
