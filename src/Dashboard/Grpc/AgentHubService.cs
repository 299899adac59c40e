using System.Text.Json;
using Grpc.Core;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Dashboard.Trials;
using HyperTune.Protos.V1;
using HyperTune.Shared.Trials;
using Microsoft.Extensions.Options;

namespace HyperTune.Dashboard.Grpc;

/// <summary>The agents' stream: registers the agent, stores its reports, acknowledges after commit, carries commands.</summary>
public sealed class AgentHubService(
    AgentRegistry registry,
    StudyStore store,
    StudyEvents events,
    SchedulerSignal scheduler,
    TrialPruning pruning,
    IOptions<DashboardOptions> options,
    TimeProvider clock,
    ILogger<AgentHubService> logger) : AgentHub.AgentHubBase
{
    public const string DashboardVersion = "0.1.0";

    public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<HubMessage> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct) || requestStream.Current.KindCase != AgentMessage.KindOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first message on the stream must be Hello"));
        }

        var hello = requestStream.Current.Hello;
        if (string.IsNullOrWhiteSpace(hello.AgentId) || hello.AgentId.Length > 200)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"hello.agent_id must be 1 to 200 characters, got \"{hello.AgentId}\""));
        }

        var connection = new AgentConnection(hello, clock.GetUtcNow());
        logger.LogInformation("Agent {AgentId} connected from {Peer}: host {Host}, {Slots} slot(s), {Gpus} GPU(s), workloads {Workloads}",
            hello.AgentId, context.Peer, hello.HostName, hello.Slots, hello.Gpus.Count, string.Join(", ", hello.Workloads));
        await store.UpsertAgentAsync(new AgentRow
        {
            Id = hello.AgentId,
            HostName = hello.HostName,
            Version = hello.Version,
            Slots = hello.Slots,
            GpusJson = JsonSerializer.Serialize(hello.Gpus.Select(AgentRegistry.ToView)),
            WorkloadsJson = JsonSerializer.Serialize(hello.Workloads),
            FirstSeenAt = connection.ConnectedAt,
            LastSeenAt = connection.ConnectedAt,
        }, ct);

        // Settle which of its trials the agent still runs before the scheduler can see it, or a trial handed to
        // the new connection in between would look forgotten.
        await ReattachAsync(connection, ct);
        registry.Register(connection)?.Closed.Cancel();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, connection.Closed.Token);
        connection.Send(new HubMessage { Welcome = new Welcome { DashboardVersion = DashboardVersion, ServerTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(clock.GetUtcNow()) } });

        var writer = WriteAsync(connection, responseStream, linked.Token);
        events.Publish(new AgentsChanged());
        scheduler.Poke();
        try
        {
            while (await requestStream.MoveNext(linked.Token))
            {
                await HandleAsync(connection, requestStream.Current, linked.Token);
            }
        }
        catch (OperationCanceledException) when (connection.Closed.IsCancellationRequested)
        {
            logger.LogInformation("Agent {AgentId}: an older stream was replaced by a new connection", hello.AgentId);
        }
        finally
        {
            await connection.Closed.CancelAsync();
            connection.Outbound.Writer.TryComplete();
            await writer;
            if (registry.Unregister(connection))
            {
                logger.LogWarning("Agent {AgentId} disconnected", hello.AgentId);
                WatchForLoss(hello.AgentId);
            }

            events.Publish(new AgentsChanged());
        }
    }

    private async Task HandleAsync(AgentConnection connection, AgentMessage message, CancellationToken ct)
    {
        connection.LastSeenAt = clock.GetUtcNow();
        switch (message.KindCase)
        {
            case AgentMessage.KindOneofCase.Heartbeat:
                await store.TouchAgentAsync(connection.AgentId, connection.LastSeenAt, ct);
                break;
            case AgentMessage.KindOneofCase.EpochReport:
                await RecordAsync(connection, message.EpochReport, ct);
                break;
            case AgentMessage.KindOneofCase.TrialFinished:
                await FinishAsync(connection, message.TrialFinished, ct);
                break;
            default:
                logger.LogWarning("Agent {AgentId} sent an unexpected {Kind}; ignored", connection.AgentId, message.KindCase);
                break;
        }
    }

    private async Task RecordAsync(AgentConnection connection, EpochReport report, CancellationToken ct)
    {
        var metrics = new Dictionary<string, double>(report.Metrics);
        var (outcome, trial, point) = await store.RecordEpochAsync(
            report.TrialId, report.Attempt, report.Seq, report.Epoch, metrics, report.EndedAt?.ToDateTimeOffset(), ct);
        switch (outcome)
        {
            case IngestOutcome.Stored:
                events.Publish(new EpochRecorded(trial!.StudyId, point!));
                events.Publish(new TrialChanged(trial));
                break;
            case IngestOutcome.Duplicate:
                logger.LogDebug("Replayed report {TrialId}/{Attempt}/{Seq} was already stored", report.TrialId, report.Attempt, report.Seq);
                break;
            default:
                logger.LogWarning("Agent {AgentId}: report for trial {TrialId} attempt {Attempt} seq {Seq} refused ({Outcome})",
                    connection.AgentId, report.TrialId, report.Attempt, report.Seq, outcome);
                break;
        }

        // Acknowledge only now: the report is committed (or was already, or can never be).
        connection.Send(new HubMessage { Ack = new Ack { TrialId = report.TrialId, Attempt = report.Attempt, Seq = report.Seq } });
        if (outcome == IngestOutcome.Stored)
        {
            await pruning.EvaluateAsync(trial!, ct);
        }
    }

    private async Task FinishAsync(AgentConnection connection, TrialFinished finished, CancellationToken ct)
    {
        if (ProtoMapping.ToState(finished.Outcome) is { } state)
        {
            var trial = await store.FinishTrialAsync(finished.TrialId, finished.Attempt, state, finished.Reason, ct);
            if (trial is not null)
            {
                logger.LogInformation("Trial {TrialId} {State}{Reason}", trial.Id, trial.State.ToWire(),
                    trial.Reason is null ? "" : $": {trial.Reason}");
                events.Publish(new TrialChanged(trial));
            }
        }
        else
        {
            logger.LogWarning("Agent {AgentId}: finish of trial {TrialId} without an outcome; ignored", connection.AgentId, finished.TrialId);
        }

        connection.Release(finished.TrialId);
        connection.Send(new HubMessage { Ack = new Ack { TrialId = finished.TrialId, Attempt = finished.Attempt, Seq = finished.Seq } });
        events.Publish(new AgentsChanged());
        scheduler.Poke();
    }

    /// <summary>After a reconnect: keep the trials the agent still runs, fail those it forgot.</summary>
    private async Task ReattachAsync(AgentConnection connection, CancellationToken ct)
    {
        var stillRunning = connection.Hello.Running.ToDictionary(r => r.TrialId, r => r.Attempt);
        var ours = (await store.ListTrialsInStateAsync(TrialState.Running, ct)).Where(t => t.AgentId == connection.AgentId).ToList();
        var lost = new List<long>();
        foreach (var trial in ours)
        {
            if (stillRunning.TryGetValue(trial.Id, out var attempt) && attempt == trial.Attempt && connection.FreeSlot() is { } slot)
            {
                connection.Occupy(slot, trial.Id);
            }
            else
            {
                lost.Add(trial.Id);
            }
        }

        foreach (var trial in await store.FailRunningAsync(lost, $"agent {connection.AgentId} reconnected without this trial (it restarted)", ct))
        {
            events.Publish(new TrialChanged(trial));
        }
    }

    private void WatchForLoss(string agentId)
    {
        var grace = TimeSpan.FromSeconds(options.Value.AgentLostAfterSeconds);
        _ = Task.Run(async () =>
        {
            await Task.Delay(grace, clock);
            if (registry.Find(agentId) is not null)
            {
                return;
            }

            var running = (await store.ListTrialsInStateAsync(TrialState.Running)).Where(t => t.AgentId == agentId).Select(t => t.Id).ToList();
            foreach (var trial in await store.FailRunningAsync(running, $"agent {agentId} lost: no connection for {grace.TotalSeconds:0} s"))
            {
                events.Publish(new TrialChanged(trial));
            }

            scheduler.Poke();
        });
    }

    private async Task WriteAsync(AgentConnection connection, IServerStreamWriter<HubMessage> stream, CancellationToken ct)
    {
        try
        {
            await foreach (var message in connection.Outbound.Reader.ReadAllAsync(ct))
            {
                await stream.WriteAsync(message, ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            logger.LogDebug("Stream to agent {AgentId} closed: {Message}", connection.AgentId, ex.Message);
        }
    }
}
