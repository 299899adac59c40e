using HyperTune.Dashboard.Data;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Agents;

/// <summary>The fleet page's model: every machine with its telemetry and slots, and the trials waiting for a slot.</summary>
public sealed class Fleet(AgentDirectory directory, AgentRegistry registry, StudyStore store)
{
    public async Task<FleetView> LoadAsync(CancellationToken ct = default)
    {
        var agents = await directory.ListAsync(ct);
        var running = (await store.ListTrialsInStateAsync(TrialState.Running, ct)).ToDictionary(t => t.Id);
        var studies = (await store.ListStudiesAsync(ct)).ToDictionary(s => s.Id, s => s.Name);
        var queue = await store.CountWaitingTrialsAsync(ct);
        var machines = agents
            .OrderByDescending(a => a.Online).ThenBy(a => a.Id, StringComparer.Ordinal)
            .Select(agent => new MachineView(agent, registry.TelemetryOf(agent.Id), Slots(agent, running, studies)))
            .ToList();
        return new FleetView(machines, queue);
    }

    /// <summary>The latest samples of one agent, for a telemetry-only refresh that needs no database.</summary>
    public IReadOnlyList<TelemetrySample> TelemetryOf(string agentId) => registry.TelemetryOf(agentId);

    private IReadOnlyList<SlotView> Slots(AgentView agent, IReadOnlyDictionary<long, TrialView> running, IReadOnlyDictionary<long, string> studies)
    {
        var busy = registry.Find(agent.Id)?.BusySlots ?? new Dictionary<int, long>();
        return [.. Enumerable.Range(0, agent.Online ? agent.Slots : 0).Select(slot =>
            busy.TryGetValue(slot, out var trialId)
                ? running.TryGetValue(trialId, out var trial)
                    ? new SlotView(slot, trialId, trial.StudyId, studies.GetValueOrDefault(trial.StudyId), trial.Number, trial.EpochCount)
                    : new SlotView(slot, trialId, null, null, null, null)
                : new SlotView(slot, null, null, null, null, null))];
    }
}

/// <summary>Every machine, online ones first, and the queue.</summary>
public sealed record FleetView(IReadOnlyList<MachineView> Machines, QueueDepth Queue);

/// <summary>One agent's machine: what it is, its kept telemetry (oldest first) and its slots.</summary>
public sealed record MachineView(AgentView Agent, IReadOnlyList<TelemetrySample> Samples, IReadOnlyList<SlotView> Slots)
{
    public TelemetrySample? Latest => Samples.Count > 0 ? Samples[^1] : null;

    /// <summary>GPUs of the latest sample below <see cref="GpuReading.IdleBelowPercent"/> utilisation.</summary>
    public int IdleGpus => Latest?.Gpus.Count(g => g.UtilizationPercent < GpuReading.IdleBelowPercent) ?? 0;
}

/// <summary>One slot: free (no trial), or the trial in it with its study and the epochs it reported.</summary>
public sealed record SlotView(int Slot, long? TrialId, long? StudyId, string? StudyName, int? TrialNumber, int? Epochs);
