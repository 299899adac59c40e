using System.Text.Json;
using HyperTune.Dashboard.Data;

namespace HyperTune.Dashboard.Agents;

/// <summary>Every agent ever seen, with whether it is connected now and what it is running.</summary>
public sealed class AgentDirectory(StudyStore store, AgentRegistry registry)
{
    public async Task<IReadOnlyList<AgentView>> ListAsync(CancellationToken ct = default)
    {
        var rows = await store.ListAgentRowsAsync(ct);
        return [.. rows.Select(row =>
        {
            var live = registry.Find(row.Id);
            return new AgentView(
                row.Id,
                row.HostName,
                row.Version,
                live is not null,
                row.Slots,
                live?.BusySlots.Count ?? 0,
                JsonSerializer.Deserialize<List<GpuView>>(row.GpusJson) ?? [],
                JsonSerializer.Deserialize<List<string>>(row.WorkloadsJson) ?? [],
                live is null ? [] : [.. live.BusySlots.OrderBy(s => s.Key).Select(s => s.Value)],
                live?.LastSeenAt ?? row.LastSeenAt);
        })];
    }
}
