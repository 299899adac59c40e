using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace HyperTune.TestSupport;

/// <summary>
/// A TCP proxy on 127.0.0.1 port 0 in front of <see cref="Target"/>, to cut the network between an agent and the
/// dashboard. <see cref="Cut"/> is a black hole, like a pulled cable: open connections stop carrying bytes and new ones
/// are accepted but never reach the target, so each end learns of it only by its own timeouts (no FIN, no RST).
/// <see cref="Restore"/> drops everything the cut stranded and forwards new connections again.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<Link, byte> _links = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private volatile bool _cut;

    private TcpProxy(IPEndPoint target)
    {
        Target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Where new connections go; may change while the proxy runs (a restarted dashboard on a new port).</summary>
    public IPEndPoint Target { get; set; }

    /// <summary>The proxy's own address, for the agent's Agent:DashboardUrl.</summary>
    public Uri Uri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Connections accepted so far.</summary>
    public int Accepted { get; private set; }

    public static TcpProxy Start(Uri target) => new(new IPEndPoint(IPAddress.Loopback, target.Port));

    /// <summary>Stops carrying bytes: open connections freeze, new ones hang.</summary>
    public void Cut()
    {
        _cut = true;
        foreach (var link in _links.Keys)
        {
            link.Frozen = true;
        }
    }

    /// <summary>Closes every connection the cut froze or stranded; new connections reach the target again.</summary>
    public void Restore()
    {
        foreach (var link in _links.Keys.Where(l => l.Frozen))
        {
            link.Close();
        }

        _cut = false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        foreach (var link in _links.Keys)
        {
            link.Close();
        }

        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            Accepted++;
            var link = new Link(client) { Frozen = _cut };
            _links[link] = 0;
            _ = RunAsync(link);
        }
    }

    private async Task RunAsync(Link link)
    {
        try
        {
            if (link.Frozen)
            {
                // Accepted during the cut: it never reaches the target; Restore closes it.
                await link.Closed.Task;
                return;
            }

            link.Server = new TcpClient();
            await link.Server.ConnectAsync(Target, _stopping.Token);
            await Task.WhenAny(PumpAsync(link, link.Client, link.Server), PumpAsync(link, link.Server, link.Client));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The target is down, or one side went away: the other side is closed below.
        }
        finally
        {
            link.Close();
            _links.TryRemove(link, out _);
        }
    }

    private static async Task PumpAsync(Link link, TcpClient from, TcpClient to)
    {
        var buffer = new byte[64 * 1024];
        var source = from.GetStream();
        var sink = to.GetStream();
        while (true)
        {
            var read = await source.ReadAsync(buffer);
            if (read == 0 || link.Frozen)
            {
                // A frozen link swallows what it reads, as a dead network would, until Restore closes it.
                if (link.Frozen)
                {
                    await link.Closed.Task;
                }

                return;
            }

            await sink.WriteAsync(buffer.AsMemory(0, read));
        }
    }

    private sealed class Link(TcpClient client)
    {
        public TcpClient Client { get; } = client;

        private volatile bool _frozen;

        public TcpClient? Server { get; set; }

        public bool Frozen
        {
            get => _frozen;
            set => _frozen = value;
        }

        public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Close()
        {
            Client.Dispose();
            Server?.Dispose();
            Closed.TrySetResult();
        }
    }
}
