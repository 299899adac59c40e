using System.Collections.Concurrent;
using System.Threading.Channels;
using HyperTune.Dashboard.Data;
using HyperTune.Protos.V1;

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

    public IReadOnlyCollection<string> Workloads => Hello.Workloads;

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

/// <summary>The agents connected right now. An agent that reconnects replaces its older stream.</summary>
public sealed class AgentRegistry
{
    private readonly ConcurrentDictionary<string, AgentConnection> connections = new();

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

    public static GpuView ToView(Gpu gpu) => new(gpu.Index, gpu.Name, gpu.MemoryTotalBytes);
}
