using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Shared.Trials;
using Microsoft.Extensions.Options;

namespace HyperTune.Dashboard.Agents;

/// <summary>
/// The running trials of agents that are gone: re-queued (within each study's budget.max_retries) once their agent has
/// been away for Dashboard:AgentLostAfterSeconds. At start, the trials the database says are running wait the same
/// grace for their agent to reconnect after a dashboard restart.
/// </summary>
public sealed class LostTrials(
    StudyStore store,
    AgentRegistry registry,
    StudyEvents events,
    SchedulerSignal scheduler,
    IOptions<DashboardOptions> options,
    TimeProvider clock,
    ILogger<LostTrials> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    // A stopped dashboard must not re-queue anything later (its database may belong to the next start by then).
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Re-queues (or fails, past the budget) each of <paramref name="trialIds"/> still running; <paramref name="reason"/> says what happened to its agent.</summary>
    public async Task RequeueAsync(IReadOnlyCollection<long> trialIds, string reason, CancellationToken ct = default)
    {
        if (trialIds.Count == 0)
        {
            return;
        }

        foreach (var trial in await store.RequeueLostAsync(trialIds, reason, ct))
        {
            logger.LogWarning("Trial {TrialId} (attempt {Attempt}) {State}: {Reason}", trial.Id, trial.Attempt, trial.State.ToWire(), trial.Reason);
            events.Publish(new TrialChanged(trial));
        }

        scheduler.Poke();
    }

    /// <summary>After <paramref name="agentId"/> disconnected: unless it is back within the grace, its running trials are re-queued.</summary>
    public void Watch(string agentId)
    {
        if (!_stopping.IsCancellationRequested)
        {
            _ = WatchAsync(agentId, _stopping.Token);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var agents = (await store.ListTrialsInStateAsync(TrialState.Running, stoppingToken))
            .Select(t => t.AgentId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        await Task.WhenAll(agents.Select(agent => WatchAsync(agent, stoppingToken)));
    }

    private async Task WatchAsync(string agentId, CancellationToken ct)
    {
        var grace = TimeSpan.FromSeconds(options.Value.AgentLostAfterSeconds);
        try
        {
            await Task.Delay(grace, clock, ct);

            // A failed try (the database locked past every timeout) is made again while the agent stays away: given up,
            // its trials would show "running" forever.
            for (var attempt = 1; registry.Find(agentId) is null; attempt++)
            {
                try
                {
                    var running = (await store.ListTrialsInStateAsync(TrialState.Running, ct)).Where(t => t.AgentId == agentId).Select(t => t.Id).ToList();
                    await RequeueAsync(running, $"agent {agentId} lost: no connection for {grace.TotalSeconds:0} s", ct);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Re-queueing the trials of lost agent {AgentId} failed (try {Attempt}); trying again in {Seconds} s",
                        agentId, attempt, RetryDelay.TotalSeconds);
                    await Task.Delay(RetryDelay, clock, ct);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping; the next start watches again.
        }
    }
}
