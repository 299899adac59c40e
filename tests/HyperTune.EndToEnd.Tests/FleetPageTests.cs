using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The fleet page (/agents) in real Chromium. No GPU exists where the tests run: a scripted agent sends the heartbeats a GPU machine would.</summary>
public sealed class FleetPageTests
{
    private const string Spec = """
        { "name": "fleet", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 3 },
          "budget": { "trials": 5, "parallel": 1 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task FleetPage_ScriptedGpuAgentHeartbeats_ShowsTheGpuRowAndItsSparklineGrowsWithoutReload()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "scripted-gpu-box", slots: 2);
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);
        await dashboard.CreateStudyAsync(Spec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.5 });
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);
        await agent.HeartbeatAsync(1, Host(35), Gpu(0, 91, 64), Gpu(1, 0, 38));
        await using var browser = await Browser.LaunchAsync();

        await browser.OpenAsync(new Uri(dashboard.WebUri, "/agents").ToString(), "[data-testid=gpu-row]");
        await browser.Page.EvaluateAsync("() => window.__notReloaded = true");
        var busyGpu = browser.Page.Locator("[data-testid=gpu-row][data-gpu='0']");
        await Assertions.Expect(busyGpu).ToContainTextAsync("NVIDIA RTX A6000");
        await Assertions.Expect(busyGpu.Locator("[data-testid=gpu-utilization]")).ToContainTextAsync("91 %");
        await Assertions.Expect(busyGpu.Locator("[data-testid=gpu-temperature]")).ToContainTextAsync("64 °C");
        await Assertions.Expect(busyGpu.Locator("[data-testid=gpu-power]")).ToContainTextAsync("250 W");
        await Assertions.Expect(busyGpu.Locator("[data-testid=gpu-idle]")).ToHaveCountAsync(0);
        await Assertions.Expect(browser.Page.Locator("[data-testid=gpu-row][data-gpu='1'] [data-testid=gpu-idle]")).ToBeVisibleAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=fleet-idle-gpus]")).ToContainTextAsync("1 of 2 GPU(s) idle");
        await Assertions.Expect(browser.Page.Locator("[data-testid=host-row]")).ToContainTextAsync("35 %");
        await Assertions.Expect(browser.Page.Locator("[data-testid=slot-row][data-slot='0']")).ToContainTextAsync($"trial {start.TrialId}");
        await Assertions.Expect(browser.Page.Locator("[data-testid=slot-row][data-slot='0']")).ToContainTextAsync("fleet");
        await Assertions.Expect(browser.Page.Locator("[data-testid=queue-depth]")).ToContainTextAsync("4 trial(s) waiting");
        var sparkline = busyGpu.Locator("[data-testid=gpu-utilization-sparkline]");
        await Assertions.Expect(sparkline).ToHaveAttributeAsync("data-points", "1");

        await agent.HeartbeatAsync(1, Host(60), Gpu(0, 42, 66), Gpu(1, 0, 38));
        await Assertions.Expect(sparkline).ToHaveAttributeAsync("data-points", "2");
        await Assertions.Expect(sparkline).ToHaveAttributeAsync("data-last", "42");
        await agent.HeartbeatAsync(1, Host(55), Gpu(0, 77, 67), Gpu(1, 0, 38));
        await Assertions.Expect(sparkline).ToHaveAttributeAsync("data-points", "3");
        await Assertions.Expect(busyGpu.Locator("[data-testid=gpu-utilization]")).ToContainTextAsync("77 %");
        Assert.Matches(@"^[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+$", await sparkline.Locator("polyline").GetAttributeAsync("points"));
        Assert.True(await browser.Page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await browser.ScreenshotAsync("fleet");

        await agent.DisposeAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=machine-status]")).ToHaveTextAsync("offline");
        await browser.ScreenshotAsync("fleet-offline");
    }

    private static HostSample Host(double cpuPercent) =>
        new() { CpuPercent = cpuPercent, MemoryUsedBytes = 21L << 30, MemoryTotalBytes = 64L << 30, CpuCount = 32 };

    private static GpuSample Gpu(int index, double utilization, double temperature) => new()
    {
        Index = index,
        Name = "NVIDIA RTX A6000",
        UtilizationPercent = utilization,
        MemoryUsedBytes = (long)(utilization / 100 * 40) << 30,
        MemoryTotalBytes = 48L << 30,
        TemperatureCelsius = temperature,
        PowerWatts = utilization > 5 ? 250 : 22.5,
    };
}
