using HyperTune.Dashboard.Agents;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

public sealed class TelemetryTests
{
    private static TelemetrySample At(int second) =>
        new(DateTimeOffset.UnixEpoch.AddSeconds(second), new HostReading(second, null, null, 2), []);

    [Fact]
    public void Snapshot_FewerSamplesThanCapacity_GivesThemOldestFirst()
    {
        var history = new TelemetryHistory(capacity: 3);
        history.Add(At(1));
        history.Add(At(2));

        Assert.Equal([1.0, 2.0], history.Snapshot().Select(s => s.Host!.CpuPercent!.Value));
    }

    [Fact]
    public void Snapshot_MoreSamplesThanCapacity_KeepsOnlyTheNewestOldestFirst()
    {
        var history = new TelemetryHistory(capacity: 3);
        for (var second = 1; second <= 7; second++)
        {
            history.Add(At(second));
        }

        Assert.Equal([5.0, 6.0, 7.0], history.Snapshot().Select(s => s.Host!.CpuPercent!.Value));
    }

    [Fact]
    public void TelemetryHistory_ZeroCapacity_IsRefusedNamingTheValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TelemetryHistory(0));

        Assert.Contains("capacity must be > 0", error.Message);
    }

    [Fact]
    public void RecordTelemetry_ManyHeartbeats_KeepsTheLastSixtyPerAgent()
    {
        var registry = new AgentRegistry();
        for (var second = 0; second < 100; second++)
        {
            registry.RecordTelemetry("a", At(second));
        }

        registry.RecordTelemetry("b", At(1000));

        Assert.Equal(AgentRegistry.TelemetrySamplesKept, registry.TelemetryOf("a").Count);
        Assert.Equal(99.0, registry.TelemetryOf("a")[^1].Host!.CpuPercent);
        Assert.Single(registry.TelemetryOf("b"));
        Assert.Empty(registry.TelemetryOf("never-seen"));
    }

    [Fact]
    public async Task Heartbeat_FromScriptedGpuAgent_IsKeptWithUnreportedValuesAsNull()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "gpu-box");
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);

        await agent.HeartbeatAsync(0,
            new HostSample { CpuPercent = 12.5, MemoryUsedBytes = 8L << 30, MemoryTotalBytes = 32L << 30, CpuCount = 16 },
            new GpuSample { Index = 0, Name = "NVIDIA A100-SXM4-40GB", UtilizationPercent = 97, MemoryUsedBytes = 30L << 30, MemoryTotalBytes = 40L << 30, TemperatureCelsius = 64, PowerWatts = double.NaN });
        var registry = dashboard.App.Services.GetRequiredService<AgentRegistry>();
        for (var i = 0; i < 100 && registry.TelemetryOf("gpu-box").Count == 0; i++)
        {
            await Task.Delay(50);
        }

        var sample = Assert.Single(registry.TelemetryOf("gpu-box"));
        Assert.Equal(new HostReading(12.5, 8L << 30, 32L << 30, 16), sample.Host);
        var gpu = Assert.Single(sample.Gpus);
        Assert.Equal(("NVIDIA A100-SXM4-40GB", 97.0, 64.0), (gpu.Name, gpu.UtilizationPercent!.Value, gpu.TemperatureCelsius!.Value));
        Assert.Null(gpu.PowerWatts);
    }
}
