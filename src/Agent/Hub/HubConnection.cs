using System.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
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
/// exponential back-off.
/// </summary>
public sealed partial class HubConnection(
    IOptions<AgentOptions> options,
    AgentTokenSource tokens,
    Outbox outbox,
    TrialSlots slots,
    WorkloadRegistry workloads,
    GpuProbe gpus,
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
        using var channel = GrpcChannel.ForAddress(_options.DashboardUrl);
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
                            LogBack(_options.DashboardUrl, (time.GetUtcNow() - since).TotalSeconds, outbox.Count);
                        }
                        else
                        {
                            LogConnected(_options.DashboardUrl, outbox.Count);
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
                catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
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
        try
        {
            await slots.StopAllAsync("the agent is shutting down", TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Trials still running after 5 s of shutdown; leaving them");
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

    /// <summary>Sends the whole outbox (all unacknowledged, in order), then whatever is added, and a heartbeat every Agent:HeartbeatSeconds.</summary>
    private async Task WriteAsync(IClientStreamWriter<AgentMessage> stream, CancellationToken cancellationToken)
    {
        using var heartbeat = new PeriodicTimer(TimeSpan.FromSeconds(_options.HeartbeatSeconds), time);
        var tick = heartbeat.WaitForNextTickAsync(cancellationToken).AsTask();
        long sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var (ordinal, message) in outbox.After(sent))
            {
                await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                sent = ordinal;
            }

            var added = outbox.WaitAfterAsync(sent);
            if (await Task.WhenAny(added, tick).ConfigureAwait(false) == tick)
            {
                await tick.ConfigureAwait(false);
                await stream.WriteAsync(new AgentMessage { Heartbeat = new Heartbeat { SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow()), BusySlots = slots.Busy } }, cancellationToken).ConfigureAwait(false);
                tick = heartbeat.WaitForNextTickAsync(cancellationToken).AsTask();
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private static string Describe(Exception e) => e switch
    {
        RpcException { Status.DebugException: { } inner } rpc => $"{rpc.StatusCode}: {rpc.Status.Detail} {inner.Message}",
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
                slots.Stop(message.StopTrial.TrialId, message.StopTrial.Attempt, message.StopTrial.Reason);
                break;
            case HubMessage.KindOneofCase.Ack:
                outbox.Acknowledge(message.Ack.TrialId, message.Ack.Attempt, message.Ack.Seq);
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
        hello.Running.Add(slots.Running());
        return hello;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to the dashboard at {Url}; {Unacknowledged} unacknowledged message(s) to send")]
    private partial void LogConnected(string url, int unacknowledged);

    [LoggerMessage(Level = LogLevel.Information, Message = "The dashboard at {Url} is reachable again after {Seconds:F0} s; re-sending {Unacknowledged} unacknowledged message(s)")]
    private partial void LogBack(string url, double seconds, int unacknowledged);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dashboard at {Url} is unreachable ({Reason}); retrying in {Seconds:F1} s")]
    private partial void LogUnreachable(string url, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dashboard at {Url} closed the agent stream; reconnecting in {Seconds:F1} s")]
    private partial void LogClosed(string url, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The dashboard refused the agent token ({Url} answered Unauthenticated: {Detail}); check Agent:Token or Agent:TokenFile. Retrying in {Seconds:F0} s")]
    private partial void LogRefused(string url, string detail, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for the agent token: {Reason}; retrying in {Seconds:F1} s")]
    private partial void LogWaitingForToken(string reason, double seconds);
}
