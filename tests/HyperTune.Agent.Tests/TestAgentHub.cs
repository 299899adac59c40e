using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Grpc.Core;
using HyperTune.Protos.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HyperTune.Agent.Tests;

/// <summary>
/// Test double of the dashboard's AgentHub on real Kestrel (127.0.0.1, port 0, HTTP/2 without TLS): checks the bearer
/// token, welcomes, records what agents send, lets the test push commands, acknowledge, or drop the stream.
/// </summary>
public sealed class TestAgentHub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private Connection? _current;

    private TestAgentHub(WebApplication app) => _app = app;

    public string Token { get; set; } = "test-token-0123456789";

    /// <summary>When true, every epoch report and trial finish is acknowledged as soon as it arrives.</summary>
    public bool AutoAck { get; set; } = true;

    public string Url { get; private set; } = "";

    /// <summary>The authorization header of every Connect call, accepted or not.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    public Channel<AgentMessage> Received { get; } = Channel.CreateUnbounded<AgentMessage>();

    public static async Task<TestAgentHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<Service>();
        var app = builder.Build();
        var hub = new TestAgentHub(app);
        app.Services.GetRequiredService<Service>().Hub = hub;
        app.MapGrpcService<Service>();
        await app.StartAsync();
        hub.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return hub;
    }

    /// <summary>The next message of <paramref name="kind"/> an agent sends (others are skipped), or a timeout failure.</summary>
    public async Task<AgentMessage> NextAsync(AgentMessage.KindOneofCase kind, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var message = await Received.Reader.ReadAsync(cancel.Token);
                if (message.KindCase == kind)
                {
                    return message;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {kind} from the agent within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds} s");
        }
    }

    public async Task SendAsync(HubMessage message)
    {
        for (var i = 0; i < 300 && _current is null; i++)
        {
            await Task.Delay(100);
        }

        await (_current ?? throw new InvalidOperationException("no agent is connected")).Outgoing.Writer.WriteAsync(message);
    }

    /// <summary>Ends the current stream as a restarting dashboard would; the agent should dial again.</summary>
    public void DropConnection() => _current?.Drop.Cancel();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class Connection
    {
        public Channel<HubMessage> Outgoing { get; } = Channel.CreateUnbounded<HubMessage>();

        public CancellationTokenSource Drop { get; } = new();
    }

    private sealed class Service : AgentHub.AgentHubBase
    {
        public TestAgentHub Hub { get; set; } = null!;

        public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<HubMessage> responseStream, ServerCallContext context)
        {
            var authorization = context.RequestHeaders.GetValue("authorization") ?? "";
            Hub.Authorizations.Enqueue(authorization);
            if (authorization != $"Bearer {Hub.Token}")
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "wrong agent token"));
            }

            var connection = new Connection();
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, connection.Drop.Token);
            if (!await requestStream.MoveNext(ended.Token) || requestStream.Current.KindCase != AgentMessage.KindOneofCase.Hello)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "the first message must be Hello"));
            }

            await Hub.Received.Writer.WriteAsync(requestStream.Current, ended.Token);
            await responseStream.WriteAsync(new HubMessage { Welcome = new Welcome { DashboardVersion = "test" } }, ended.Token);
            Hub._current = connection;
            var writer = Task.Run(async () =>
            {
                await foreach (var message in connection.Outgoing.Reader.ReadAllAsync(ended.Token))
                {
                    await responseStream.WriteAsync(message, ended.Token);
                }
            }, ended.Token);
            try
            {
                while (await requestStream.MoveNext(ended.Token))
                {
                    var message = requestStream.Current;
                    await Hub.Received.Writer.WriteAsync(message, ended.Token);
                    if (Hub.AutoAck && AckFor(message) is { } ack)
                    {
                        await connection.Outgoing.Writer.WriteAsync(new HubMessage { Ack = ack }, ended.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (connection.Drop.IsCancellationRequested)
            {
                // Dropped by the test: end the call.
            }
            finally
            {
                Interlocked.CompareExchange(ref Hub._current, null, connection);
                connection.Outgoing.Writer.TryComplete();
                await ended.CancelAsync();
                await writer.ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        private static Ack? AckFor(AgentMessage message) => message.KindCase switch
        {
            AgentMessage.KindOneofCase.EpochReport => new Ack { TrialId = message.EpochReport.TrialId, Attempt = message.EpochReport.Attempt, Seq = message.EpochReport.Seq },
            AgentMessage.KindOneofCase.TrialFinished => new Ack { TrialId = message.TrialFinished.TrialId, Attempt = message.TrialFinished.Attempt, Seq = message.TrialFinished.Seq },
            _ => null,
        };
    }
}
