using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HyperTune.Dashboard.Extensions;

/// <summary>The two Kestrel endpoints: plain HTTP cannot negotiate Blazor (HTTP/1.1 + WebSockets) and gRPC (HTTP/2) on one port.</summary>
public sealed class Endpoints
{
    public ListenOptions? Web { get; set; }

    public ListenOptions? Grpc { get; set; }

    /// <summary>The bound web address (the real port, also when configured as 0).</summary>
    public Uri WebUri => ToUri(Web);

    public Uri GrpcUri => ToUri(Grpc);

    public static bool TryParse(string url, out IPEndPoint endPoint)
    {
        endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.IsDefaultPort && !url.Contains(":80", StringComparison.Ordinal))
        {
            return false;
        }

        var address = uri.Host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : null;
        if (address is null)
        {
            return false;
        }

        endPoint = new IPEndPoint(address, uri.Port);
        return true;
    }

    private static Uri ToUri(ListenOptions? options)
    {
        var ep = options?.IPEndPoint ?? throw new InvalidOperationException("the dashboard has not started listening yet");
        var host = ep.Address.Equals(IPAddress.Any) || ep.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : ep.Address.ToString();
        return new Uri($"http://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{ep.Port}");
    }
}
