using System.Text.Json;
using System.Threading.Channels;
using Grpc.Core;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Dashboard.Trials;
using HyperTune.Protos.V1;
using HyperTune.Shared.Trials;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace HyperTune.Dashboard.Grpc;

/// <summary>The agents' stream: registers the agent, stores its reports, acknowledges after commit, carries commands.</summary>
public sealed class AgentHubService(
    AgentRegistry registry,
    StudyStore store,
    StudyEvents events,
    SchedulerSignal scheduler,
    TrialPruning pruning,
    TrialControl control,
    AgentTokens tokens,
    LostTrials lostTrials,
    IOptions<DashboardOptions> options,
    TimeProvider clock,
    ILogger<AgentHubService> logger) : AgentHub.AgentHubBase
{
    public const string DashboardVersion = "0.1.0";

    /// <summary>At most this many waiting epoch reports are stored in one transaction.</summary>
    public const int MaxReportBatch = 64;

    /// <summary>The most slots one agent may declare: the fleet page draws each one.</summary>
    public const int MaxSlots = 1024;

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

        if (hello.Slots is < 0 or > MaxSlots)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"hello.slots must be 0 to {MaxSlots}, got {hello.Slots}"));
        }

        // A per-agent token connects only as its own agent id; nothing about a refused agent is stored.
        var caller = AgentCaller.Of(context);
        if (await tokens.RefusalAsync(caller, hello.AgentId, ct) is { } refusal)
        {
            logger.LogWarning("Refused agent {AgentId} from {Peer}: {Refusal}", hello.AgentId, context.Peer, refusal);
            throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));
        }

        var connection = new AgentConnection(hello, clock.GetUtcNow());
        logger.LogInformation("Agent {AgentId} connected from {Peer}: host {Host}, {Slots} slot(s), {Gpus} GPU(s), workloads {Workloads}",
            hello.AgentId, context.Peer, hello.HostName, hello.Slots, hello.Gpus.Count, string.Join(", ", connection.Workloads));
        await store.UpsertAgentAsync(new AgentRow
        {
            Id = hello.AgentId,
            HostName = hello.HostName,
            Version = hello.Version,
            Slots = hello.Slots,
            GpusJson = JsonSerializer.Serialize(hello.Gpus.Select(AgentRegistry.ToView)),
            WorkloadsJson = JsonSerializer.Serialize(connection.Workloads),
            FirstSeenAt = connection.ConnectedAt,
            LastSeenAt = connection.ConnectedAt,
        }, ct);

        // Settle which of its trials the agent still runs before the scheduler can see it, or a trial handed to
        // the new connection in between would look forgotten.
        var superseded = await ReattachAsync(connection, ct);
        registry.Register(connection)?.Closed.Cancel();
        using var revocation = caller.Revoked.Register(connection.Closed.Cancel);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, connection.Closed.Token);
        connection.Send(new HubMessage { Welcome = new Welcome { DashboardVersion = DashboardVersion, ServerTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(clock.GetUtcNow()) } });
        foreach (var stop in superseded)
        {
            connection.Send(new HubMessage { StopTrial = stop });
        }

        await SettleLostAsync(connection, replayed: 0, ct);
        var writer = WriteAsync(connection, responseStream, linked.Token);
        var watchdog = WatchSilenceAsync(connection, linked.Token);
        await control.ResendPendingAsync(connection, ct);
        events.Publish(new AgentsChanged());
        scheduler.Poke();
        try
        {
            await ReceiveAsync(connection, requestStream, linked.Token);
        }
        catch (OperationCanceledException) when (caller.Revoked.IsCancellationRequested)
        {
            logger.LogWarning("Agent {AgentId}: its token was revoked; stream closed", hello.AgentId);
            throw new RpcException(new Status(StatusCode.Unauthenticated, AgentTokens.RevokedMessage(caller.Token!)));
        }
        catch (OperationCanceledException) when (connection.Closed.IsCancellationRequested)
        {
            logger.LogInformation("Agent {AgentId}: stream closed, {Why}", hello.AgentId, connection.ClosedBecause ?? "replaced by a new connection");
        }
        catch (Exception e) when (e is SqliteException || e.InnerException is SqliteException)
        {
            // Nothing unstored was acknowledged: the agent keeps it in its spool and sends it again once reconnected.
            logger.LogError(e, "Agent {AgentId}: storing its messages failed; stream closed, the agent will send them again", hello.AgentId);
            throw new RpcException(new Status(StatusCode.Unavailable, $"the dashboard could not store the agent's messages ({(e as SqliteException ?? e.InnerException)!.Message}); they stay in the agent's spool and are sent again on reconnect"));
        }
        finally
        {
            await connection.Closed.CancelAsync();
            connection.Outbound.Writer.TryComplete();
            await writer;
            await watchdog;
            if (registry.Unregister(connection))
            {
                logger.LogWarning("Agent {AgentId} disconnected", hello.AgentId);
                lostTrials.Watch(hello.AgentId);
            }

            events.Publish(new AgentsChanged());
        }
    }

    /// <summary>
    /// Handles the agent's messages in order. Epoch reports that are already waiting when one is handled are stored
    /// together, in one transaction: at a trickle each report commits alone, a backlog (an agent's outbox after a
    /// reconnect, many slots at once) drains at the speed of batches instead of one fsync per report.
    /// </summary>
    private async Task ReceiveAsync(AgentConnection connection, IAsyncStreamReader<AgentMessage> requestStream, CancellationToken ct)
    {
        var inbox = Channel.CreateBounded<AgentMessage>(new BoundedChannelOptions(MaxReportBatch) { SingleReader = true, SingleWriter = true });
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = Task.Run(async () =>
        {
            try
            {
                while (await requestStream.MoveNext(reading.Token))
                {
                    // Alive as of its arrival, however long the messages before it take to store.
                    connection.LastSeenAt = clock.GetUtcNow();
                    await inbox.Writer.WriteAsync(requestStream.Current, reading.Token);
                }
            }
            finally
            {
                inbox.Writer.TryComplete();
            }
        }, ct);

        var batch = new List<EpochReport>(MaxReportBatch);
        try
        {
            while (await inbox.Reader.WaitToReadAsync(ct))
            {
                while (inbox.Reader.TryPeek(out var next))
                {
                    if (next.KindCase == AgentMessage.KindOneofCase.EpochReport && batch.Count < MaxReportBatch)
                    {
                        inbox.Reader.TryRead(out _);
                        batch.Add(next.EpochReport);
                        continue;
                    }

                    if (batch.Count > 0)
                    {
                        break;
                    }

                    inbox.Reader.TryRead(out _);
                    await HandleAsync(connection, next, ct);
                }

                if (batch.Count > 0)
                {
                    await RecordAsync(connection, batch, ct);
                    batch.Clear();
                }
            }
        }
        catch
        {
            // A message that could not be handled (the database locked past every timeout) ends the stream: stop
            // reading, or heartbeats would keep the stream alive with nothing stored until the inbox filled.
            await reading.CancelAsync();
            await pump.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        // The stream's own end or failure (a dropped agent) is the pump's to report.
        await pump;
    }

    private async Task HandleAsync(AgentConnection connection, AgentMessage message, CancellationToken ct)
    {
        connection.LastSeenAt = clock.GetUtcNow();
        switch (message.KindCase)
        {
            case AgentMessage.KindOneofCase.Heartbeat:
                // The agent writes its whole replay before its first heartbeat: whatever was announced and not seen never comes.
                await SettleLostAsync(connection, connection.ReplayLeft, ct);
                await store.TouchAgentAsync(connection.AgentId, connection.LastSeenAt, ct);
                registry.RecordTelemetry(connection.AgentId, ProtoMapping.ToTelemetry(message.Heartbeat, connection.LastSeenAt));
                events.Publish(new TelemetryRecorded(connection.AgentId));
                break;
            case AgentMessage.KindOneofCase.EpochReport:
                await RecordAsync(connection, [message.EpochReport], ct);
                break;
            case AgentMessage.KindOneofCase.TrialFinished:
                await FinishAsync(connection, message.TrialFinished, ct);
                break;
            case AgentMessage.KindOneofCase.Log:
                await AppendLogAsync(connection, message.Log, ct);
                break;
            case AgentMessage.KindOneofCase.CommandReceived:
                await control.ReceivedAsync(connection.AgentId, message.CommandReceived, ct);
                break;
            default:
                logger.LogWarning("Agent {AgentId} sent an unexpected {Kind}; ignored", connection.AgentId, message.KindCase);
                break;
        }
    }

    private async Task RecordAsync(AgentConnection connection, IReadOnlyList<EpochReport> reports, CancellationToken ct)
    {
        var results = await store.RecordEpochsAsync(
            [.. reports.Select(r => new EpochIngest(r.TrialId, r.Attempt, r.Seq, r.Epoch, new Dictionary<string, double>(r.Metrics),
                r.EndedAt?.ToDateTimeOffset(), [.. r.CheckpointEpochs], connection.AgentId))], ct);
        var stored = new Dictionary<long, TrialView>();
        for (var i = 0; i < reports.Count; i++)
        {
            var (report, (outcome, trial, point)) = (reports[i], results[i]);
            switch (outcome)
            {
                case IngestOutcome.Stored:
                    events.Publish(new EpochRecorded(trial!.StudyId, point!));
                    events.Publish(new TrialChanged(trial));
                    stored[trial.Id] = trial;
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
        }

        // The pruner decides on each trial's newest epoch.
        foreach (var trial in stored.Values)
        {
            await pruning.EvaluateAsync(trial, ct);
        }

        await SettleLostAsync(connection, reports.Count, ct);
    }

    /// <summary>Keeps the lines as the tail of the trial's log; best effort, so nothing is acknowledged.</summary>
    private async Task AppendLogAsync(AgentConnection connection, TrialLog log, CancellationToken ct)
    {
        var lines = log.Lines.Take(TrialLogRow.KeptLines).Select(TrialLogRow.Clip).ToList();
        var studyId = await store.AppendTrialLogAsync(log.TrialId, log.Attempt, lines, ct);
        if (studyId is { } id)
        {
            events.Publish(new TrialLogAppended(id, log.TrialId, log.Attempt, lines));
        }
        else
        {
            logger.LogDebug("Agent {AgentId}: log lines for trial {TrialId} attempt {Attempt} dropped (unknown trial or stale attempt)",
                connection.AgentId, log.TrialId, log.Attempt);
        }
    }

    private async Task FinishAsync(AgentConnection connection, TrialFinished finished, CancellationToken ct)
    {
        if (ProtoMapping.ToState(finished.Outcome) is { } state)
        {
            // Only the agent the trial was handed to may end it, and only its current attempt (fencing).
            var owner = (await store.GetTrialAsync(finished.TrialId, ct))?.AgentId;
            var trial = owner == connection.AgentId ? await store.FinishTrialAsync(finished.TrialId, finished.Attempt, state, finished.Reason, ct) : null;
            if (owner != connection.AgentId)
            {
                logger.LogWarning("Agent {AgentId}: finish of trial {TrialId} refused: it is not this agent's (it runs on {Owner})",
                    connection.AgentId, finished.TrialId, owner ?? "no agent, or does not exist");
            }
            else if (trial is not null && StudyStore.IsFenced(trial, finished.Attempt))
            {
                // A newer attempt owns the trial, or is queued to; the stale one's end changes nothing.
                logger.LogWarning("Agent {AgentId}: finish of trial {TrialId} attempt {Attempt} ({Outcome}) refused: the attempt is stale (the trial is {State} at attempt {Current})",
                    connection.AgentId, finished.TrialId, finished.Attempt, state.ToWire(), trial.State.ToWire(), trial.Attempt);
            }
            else if (trial is not null)
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
        await SettleLostAsync(connection, 1, ct);
        events.Publish(new AgentsChanged());
        scheduler.Poke();
    }

    /// <summary>
    /// After a reconnect: keeps the trials the agent still runs. Those it came back without are re-queued (or fail past
    /// the study's retry budget) once the reports it replays first are stored. Attempts it still runs that a newer attempt
    /// superseded keep their slot until they end; the StopTrials (kill) returned end them.
    /// </summary>
    private async Task<IReadOnlyList<StopTrial>> ReattachAsync(AgentConnection connection, CancellationToken ct)
    {
        var stillRunning = connection.Hello.Running.ToDictionary(r => r.TrialId, r => r.Attempt);
        var ours = (await store.ListTrialsInStateAsync(TrialState.Running, ct)).Where(t => t.AgentId == connection.AgentId).ToList();
        foreach (var trial in ours)
        {
            if (stillRunning.TryGetValue(trial.Id, out var attempt) && attempt == trial.Attempt && connection.FreeSlot() is { } slot)
            {
                connection.Occupy(slot, trial.Id);
                stillRunning.Remove(trial.Id);
            }
            else
            {
                connection.LostAfterReplay.Add(trial.Id);
            }
        }

        var stops = new List<StopTrial>();
        foreach (var (trialId, attempt) in stillRunning)
        {
            var current = await store.GetTrialAsync(trialId, ct);
            logger.LogWarning("Agent {AgentId} came back running trial {TrialId} attempt {Attempt}, which is stale (the trial is {State} at attempt {Current}): killing it",
                connection.AgentId, trialId, attempt, current?.State.ToWire() ?? "unknown", current?.Attempt ?? 0);
            if (connection.FreeSlot() is { } slot)
            {
                connection.Occupy(slot, trialId);
            }

            stops.Add(new StopTrial { TrialId = trialId, Attempt = attempt, Mode = StopMode.Kill, Reason = $"attempt {attempt} was superseded while agent {connection.AgentId} was unreachable" });
        }

        return stops;
    }

    /// <summary>Counts <paramref name="replayed"/> messages of the agent's replay; once it is all stored, settles the trials the agent came back without.</summary>
    private async Task SettleLostAsync(AgentConnection connection, int replayed, CancellationToken ct)
    {
        connection.ReplayLeft -= replayed;
        if (connection.ReplayLeft > 0 || connection.LostAfterReplay.Count == 0)
        {
            return;
        }

        var lost = connection.LostAfterReplay.ToList();
        connection.LostAfterReplay.Clear();
        await lostTrials.RequeueAsync(lost, $"agent {connection.AgentId} came back without it (the agent restarted)", ct);
    }

    /// <summary>Closes the stream of an agent that sent nothing (heartbeats count) for Dashboard:AgentSilentAfterSeconds.</summary>
    private async Task WatchSilenceAsync(AgentConnection connection, CancellationToken ct)
    {
        var window = TimeSpan.FromSeconds(options.Value.AgentSilentAfterSeconds);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Sleep until the window after the last message ends; a message meanwhile moves the end.
                var silence = clock.GetUtcNow() - connection.LastSeenAt;
                if (silence < window)
                {
                    await Task.Delay(window - silence, clock, ct);
                }
                else
                {
                    connection.ClosedBecause = $"the agent sent nothing for {silence.TotalSeconds:0} s (Dashboard:AgentSilentAfterSeconds is {window.TotalSeconds:0})";
                    logger.LogWarning("Agent {AgentId}: {Why}; closing its stream", connection.AgentId, connection.ClosedBecause);
                    await connection.Closed.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stream ended first.
        }
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
