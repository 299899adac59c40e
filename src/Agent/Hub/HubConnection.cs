using System.Reflection;
using Grpc.Core;
using HyperTune.Agent.Checkpoints;
using HyperTune.Agent.Slots;
using HyperTune.Agent.Telemetry;
using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Hub;

/// <summary>
/// Keeps one AgentHub.Connect stream open to the dashboard: Hello, then heartbeats and the outbox (re-sent in order on
/// every new connection) going up; Welcome, StartTrial, StopTrial and Ack coming down. Redials with capped, jittered
/// exponential back-off. A StopTrial is answered at once with a CommandReceived.
/// </summary>
public sealed partial class HubConnection(
    IOptions<AgentOptions> options,
    AgentTokenSource tokens,
    Outbox outbox,
    TrialLogBuffer logs,
    TrialSlots slots,
    CheckpointClient checkpoints,
    WorkloadRegistry workloads,
    GpuProbe gpus,
    TelemetrySampler telemetry,
    TimeProvider time,
    ILogger<HubConnection> logger) : BackgroundService
{
    // A dashboard that accepts the stream but never welcomes the agent is treated as unreachable.
    private static readonly TimeSpan WelcomeTimeout = TimeSpan.FromSeconds(30);

    private static readonly string Version =
        typeof(HubConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private readonly AgentOptions _options = options.Value;

    /// <summary>True while a welcomed stream is open.</summary>
    public bool Connected { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(_options.ReconnectMaxSeconds));
        var hardware = gpus.Probe();
        using var channel = DashboardChannel.Create(_options);
        var client = new AgentHub.AgentHubClient(channel);
        var unreachableSince = (DateTimeOffset?)null;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            var token = tokens.TryRead(out var whyNoToken);
            if (token is null)
            {
                wait = backoff.Next();
                LogWaitingForToken(whyNoToken!, wait.TotalSeconds);
            }
            else
            {
                try
                {
                    await RunOnceAsync(client, token, hardware, () =>
                    {
                        backoff.Reset();
                        if (unreachableSince is { } since)
                        {
                            LogBack(_options.DashboardUrl, _options.Id, (time.GetUtcNow() - since).TotalSeconds, outbox.Count);
                        }
                        else
                        {
                            LogConnected(_options.DashboardUrl, _options.Id, outbox.Count);
                        }

                        unreachableSince = null;
                    }, stoppingToken).ConfigureAwait(false);
                    wait = backoff.Next();
                    LogClosed(_options.DashboardUrl, wait.TotalSeconds);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
                {
                    wait = backoff.Slow();
                    LogRefused(_options.DashboardUrl, e.Status.Detail, wait.TotalSeconds);
                }
                catch (Exception e)
                {
                    wait = backoff.Next();
                    unreachableSince ??= time.GetUtcNow();
                    LogUnreachable(_options.DashboardUrl, Describe(e), wait.TotalSeconds);
                }
                finally
                {
                    Connected = false;
                }
            }

            try
            {
                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        var wait = _options.ShutdownWait;
        try
        {
            await slots.StopAllAsync("the agent is shutting down", wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Trials still running after {Seconds} s of shutdown; leaving them", wait.TotalSeconds);
        }
    }

    private async Task RunOnceAsync(AgentHub.AgentHubClient client, string token, IReadOnlyList<Gpu> hardware, Action welcomed, CancellationToken stoppingToken)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var headers = new Metadata { { "authorization", $"Bearer {token}" } };
        using var call = client.Connect(headers, cancellationToken: connection.Token);

        await call.RequestStream.WriteAsync(new AgentMessage { Hello = Hello(hardware) }, connection.Token).ConfigureAwait(false);
        using (var welcomeWait = CancellationTokenSource.CreateLinkedTokenSource(connection.Token))
        {
            welcomeWait.CancelAfter(WelcomeTimeout);
            bool any;
            try
            {
                any = await call.ResponseStream.MoveNext(welcomeWait.Token).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && !stoppingToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no Welcome within {WelcomeTimeout.TotalSeconds:F0} s of Hello", e);
            }

            if (!any)
            {
                throw new IOException("the dashboard closed the stream before its Welcome");
            }

            if (call.ResponseStream.Current.KindCase != HubMessage.KindOneofCase.Welcome)
            {
                throw new InvalidOperationException($"the dashboard's first message was {call.ResponseStream.Current.KindCase}, expected Welcome");
            }
        }

        Connected = true;
        welcomed();
        var writer = WriteAsync(call.RequestStream, connection.Token);
        try
        {
            while (await call.ResponseStream.MoveNext(connection.Token).ConfigureAwait(false))
            {
                Handle(call.ResponseStream.Current);
            }
        }
        finally
        {
            await connection.CancelAsync().ConfigureAwait(false);
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or IOException or InvalidOperationException)
            {
                // The stream is gone; the outbox keeps what was not acknowledged.
            }
        }
    }

    /// <summary>
    /// Sends the whole outbox (all unacknowledged, in order), then whatever is added, a heartbeat every
    /// Agent:HeartbeatSeconds, and the trials' log lines whenever a batch is ready.
    /// </summary>
    private async Task WriteAsync(IClientStreamWriter<AgentMessage> stream, CancellationToken cancellationToken)
    {
        using var heartbeat = new PeriodicTimer(TimeSpan.FromSeconds(_options.HeartbeatSeconds), time);
        var tick = heartbeat.WaitForNextTickAsync(cancellationToken).AsTask();
        var logsReady = logs.WaitReadyAsync(cancellationToken);
        long sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var (ordinal, message) in outbox.After(sent))
            {
                await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                sent = ordinal;
            }

            outbox.Written(sent);

            var added = outbox.WaitAfterAsync(sent);
            var first = await Task.WhenAny(added, tick, logsReady).ConfigureAwait(false);
            if (first == logsReady)
            {
                await logsReady.ConfigureAwait(false);
                foreach (var batch in logs.Drain())
                {
                    await stream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                }

                logsReady = logs.WaitReadyAsync(cancellationToken);
            }
            else if (first == tick)
            {
                await tick.ConfigureAwait(false);
                await stream.WriteAsync(new AgentMessage { Heartbeat = telemetry.Heartbeat(time.GetUtcNow(), slots.Busy) }, cancellationToken).ConfigureAwait(false);
                tick = heartbeat.WaitForNextTickAsync(cancellationToken).AsTask();
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private static string Describe(Exception e) => e switch
    {
        // The innermost exception says why (a refused TLS certificate, a refused connection); the outer ones only wrap it.
        RpcException { Status.DebugException: { } inner } rpc => $"{rpc.StatusCode}: {rpc.Status.Detail} {inner.GetBaseException().Message}",
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => e.Message,
    };

    private void Handle(HubMessage message)
    {
        switch (message.KindCase)
        {
            case HubMessage.KindOneofCase.StartTrial:
                slots.Start(message.StartTrial);
                break;
            case HubMessage.KindOneofCase.StopTrial:
                slots.Stop(message.StopTrial.TrialId, message.StopTrial.Attempt, message.StopTrial.Reason, message.StopTrial.Mode);
                break;
            case HubMessage.KindOneofCase.Ack:
                outbox.Acknowledge(message.Ack.TrialId, message.Ack.Attempt, message.Ack.Seq);
                break;
            case HubMessage.KindOneofCase.SendCheckpoint:
                // Another agent forks or resumes from a checkpoint held here: upload it beside the stream.
                _ = Task.Run(() => checkpoints.UploadAsync(message.SendCheckpoint.Checkpoint, CancellationToken.None));
                break;
            case HubMessage.KindOneofCase.Welcome:
                break;
            default:
                logger.LogWarning("Ignored a hub message of unknown kind {Kind}", message.KindCase);
                break;
        }
    }

    private Hello Hello(IReadOnlyList<Gpu> hardware)
    {
        var hello = new Hello
        {
            AgentId = _options.Id,
            HostName = Environment.MachineName,
            Slots = slots.Count,
            Version = Version,
        };
        hello.Gpus.Add(hardware);
        hello.Workloads.Add(workloads.Names);
        hello.Commands.Add(workloads.Commands);
        hello.Running.Add(slots.Running());
        hello.Replaying = outbox.Unacknowledged;
        return hello;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to dashboard {Url} as agent {AgentId}; {Unacknowledged} unacknowledged message(s) to send")]
    private partial void LogConnected(string url, string agentId, int unacknowledged);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to dashboard {Url} as agent {AgentId} again, after {Seconds:F0} s unreachable; re-sending {Unacknowledged} unacknowledged message(s)")]
    private partial void LogBack(string url, string agentId, double seconds, int unacknowledged);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard {Url} unreachable: {Reason}; retrying in {Seconds:0.#} s")]
    private partial void LogUnreachable(string url, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dashboard at {Url} closed the agent stream; reconnecting in {Seconds:F1} s")]
    private partial void LogClosed(string url, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The dashboard refused the agent token ({Url}: {Detail}); check Agent:Token or Agent:TokenFile, and Agent:Id. Retrying in {Seconds:F0} s")]
    private partial void LogRefused(string url, string detail, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for the agent token: {Reason}; retrying in {Seconds:F1} s")]
    private partial void LogWaitingForToken(string reason, double seconds);
}
