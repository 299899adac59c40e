using Grpc.Net.Client;

namespace HyperTune.Agent.Hub;

/// <summary>The gRPC channel to Agent:DashboardUrl; over https it trusts the dashboard only as <see cref="DashboardCertificateCheck"/> says.</summary>
public static class DashboardChannel
{
    public static GrpcChannel Create(AgentOptions options) =>
        GrpcChannel.ForAddress(options.DashboardUrl, new GrpcChannelOptions { HttpHandler = CreateHandler(options), DisposeHttpClient = true });

    /// <summary>The channel's HTTP handler, for settings of its own (keep-alive pings) before it is wrapped in a channel.</summary>
    public static SocketsHttpHandler CreateHandler(AgentOptions options)
    {
        // HTTP/2 pings find a dead dashboard or a cut network even while nothing else is written.
        var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);
        var handler = new SocketsHttpHandler
        {
            KeepAlivePingDelay = heartbeat,
            KeepAlivePingTimeout = 2 * heartbeat,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        };
        if (new Uri(options.DashboardUrl).Scheme == Uri.UriSchemeHttps)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = DashboardCertificateCheck.FromOptions(options).Validate;
        }

        return handler;
    }
}
