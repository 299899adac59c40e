using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HyperTune.Dashboard.Extensions;

/// <summary>
/// The Kestrel endpoints: plain HTTP cannot negotiate Blazor (HTTP/1.1 + WebSockets) and gRPC (HTTP/2) on one port, so
/// there are two; with https both may share one (ALPN picks the protocol), and then <see cref="Web"/> is <see cref="Grpc"/>.
/// </summary>
public sealed class Endpoints
{
    public ListenOptions? Web { get; set; }

    public ListenOptions? Grpc { get; set; }

    public bool WebTls { get; set; }

    public bool GrpcTls { get; set; }

    /// <summary>The bound web address (the real port, also when configured as 0).</summary>
    public Uri WebUri => ToUri(Web, WebTls);

    public Uri GrpcUri => ToUri(Grpc, GrpcTls);

    /// <summary>Parses an http or https URL whose host is an IP address or localhost and whose port is explicit.</summary>
    public static bool TryParse(string url, out IPEndPoint endPoint, out bool tls)
    {
        endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        tls = false;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.IsDefaultPort && !url.Contains($":{uri.Port}", StringComparison.Ordinal))
        {
            return false;
        }

        var address = uri.Host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : null;
        if (address is null)
        {
            return false;
        }

        endPoint = new IPEndPoint(address, uri.Port);
        tls = uri.Scheme == Uri.UriSchemeHttps;
        return true;
    }

    private static Uri ToUri(ListenOptions? options, bool tls)
    {
        var ep = options?.IPEndPoint ?? throw new InvalidOperationException("the dashboard has not started listening yet");
        var host = ep.Address.Equals(IPAddress.Any) || ep.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : ep.Address.ToString();
        return new Uri($"{(tls ? "https" : "http")}://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{ep.Port}");
    }
}
