using System.Collections.Concurrent;
using System.Threading.Channels;
using HyperTune.Dashboard.Data;
using HyperTune.Protos.V1;
using HyperTune.Shared.Workloads;

namespace HyperTune.Dashboard.Agents;

/// <summary>One connected agent's open stream: what it offers and the queue of messages to send it.</summary>
public sealed class AgentConnection(Hello hello, DateTimeOffset connectedAt)
{
    private readonly ConcurrentDictionary<int, long> busySlots = new();

    public string AgentId { get; } = hello.AgentId;

    public Hello Hello { get; } = hello;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    public DateTimeOffset LastSeenAt { get; set; } = connectedAt;

    /// <summary>Messages for the agent; a single writer task drains it into the gRPC stream.</summary>
    public Channel<HubMessage> Outbound { get; } = Channel.CreateUnbounded<HubMessage>(new UnboundedChannelOptions { SingleReader = true });

    public CancellationTokenSource Closed { get; } = new();

    /// <summary>Why the dashboard itself closed the stream (the agent fell silent, the dashboard stops); null when a newer stream replaced it.</summary>
    public string? ClosedBecause { get; set; }

    /// <summary>Reports and finishes the agent announced in Hello.replaying that have not arrived yet.</summary>
    public int ReplayLeft { get; set; } = hello.Replaying;

    /// <summary>Trials the agent came back without, settled once its replay is stored (their last epochs may be in it).</summary>
    public List<long> LostAfterReplay { get; } = [];

    /// <summary>What the agent can run: its built-in workloads and "command:&lt;name&gt;" for each command it declares.</summary>
    public IReadOnlyCollection<string> Workloads { get; } = [.. hello.Workloads, .. hello.Commands.Select(CommandWorkloads.WorkloadName)];

    public int Slots => Math.Max(Hello.Slots, 0);

    public IReadOnlyDictionary<int, long> BusySlots => busySlots;

    public int? FreeSlot()
    {
        for (var slot = 0; slot < Slots; slot++)
        {
            if (!busySlots.ContainsKey(slot))
            {
                return slot;
            }
        }

        return null;
    }

    public void Occupy(int slot, long trialId) => busySlots[slot] = trialId;

    public void Release(long trialId)
    {
        foreach (var (slot, id) in busySlots)
        {
            if (id == trialId)
            {
                busySlots.TryRemove(slot, out _);
            }
        }
    }

    public bool Send(HubMessage message) => Outbound.Writer.TryWrite(message);
}

/// <summary>
/// The agents connected right now (an agent that reconnects replaces its older stream), and the last
/// <see cref="TelemetrySamplesKept"/> telemetry samples of every agent seen since the dashboard started.
/// </summary>
public sealed class AgentRegistry
{
    /// <summary>Samples kept per agent: five minutes at the default heartbeat of 5 s.</summary>
    public const int TelemetrySamplesKept = 60;

    private readonly ConcurrentDictionary<string, AgentConnection> connections = new();
    private readonly ConcurrentDictionary<string, TelemetryHistory> telemetry = new();

    public IReadOnlyCollection<AgentConnection> Connected => [.. connections.Values];

    public AgentConnection? Find(string agentId) => connections.GetValueOrDefault(agentId);

    /// <summary>Adds the connection; returns the one it replaced, if any.</summary>
    public AgentConnection? Register(AgentConnection connection)
    {
        AgentConnection? previous = null;
        connections.AddOrUpdate(connection.AgentId, connection, (_, old) =>
        {
            previous = old;
            return connection;
        });
        return previous;
    }

    /// <summary>Removes the connection unless a newer one for the same agent has replaced it.</summary>
    public bool Unregister(AgentConnection connection) =>
        connections.TryRemove(new KeyValuePair<string, AgentConnection>(connection.AgentId, connection));

    public void RecordTelemetry(string agentId, TelemetrySample sample) =>
        telemetry.GetOrAdd(agentId, _ => new TelemetryHistory(TelemetrySamplesKept)).Add(sample);

    /// <summary>The agent's kept samples, oldest first; empty when it never sent one.</summary>
    public IReadOnlyList<TelemetrySample> TelemetryOf(string agentId) =>
        telemetry.TryGetValue(agentId, out var history) ? history.Snapshot() : [];

    public static GpuView ToView(Gpu gpu) => new(gpu.Index, gpu.Name, gpu.MemoryTotalBytes);
}
