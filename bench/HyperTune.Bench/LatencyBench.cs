using System.Globalization;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.Bench;

/// <summary>
/// Time from an epoch's end on the agent to its point drawn in an open study page: the real dashboard (gRPC ingest,
/// SQLite commit with synchronous=FULL, live push over the Blazor circuit, Plotly extendTraces) in real Chromium.
/// The sender is a scripted agent, so the time measured is the platform's, not training's.
/// </summary>
internal static class LatencyBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var reports = BenchArgs.Option(args, "--reports", 100);
        var gapMs = BenchArgs.Option(args, "--gap-ms", 100);
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- latency --reports {reports} --gap-ms {gapMs}";

        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "latency-bench");
        var studyId = await dashboard.CreateStudyAsync($$"""
            { "name": "latency", "workload": "fashion-mnist-cnn",
              "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "budget": { "trials": 1 }, "fixed": { "epochs": {{reports}} },
              "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
            """);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        await using var browser = await HyperTune.EndToEnd.Tests.Browser.LaunchAsync();
        await browser.LoginAsync(dashboard.WebUri, RunningDashboard.AdminUser);
        var page = browser.Page;
        await page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString());
        await page.Locator("[data-testid=learning-curves]").WaitForAsync();

        // The page records when each point count first shows; the clocks are the same machine's.
        await page.EvaluateAsync("""
            () => {
              window.__seen = {};
              const el = document.querySelector('[data-testid=learning-curves]');
              new MutationObserver(() => { const n = el.dataset.points; if (!(n in window.__seen)) window.__seen[n] = Date.now(); })
                .observe(el, { attributes: true, attributeFilter: ['data-points'] });
            }
            """);

        var latencies = new List<double>();
        for (var epoch = 1; epoch <= reports; epoch++)
        {
            var endedAt = DateTimeOffset.UtcNow;
            var report = new EpochReport
            {
                TrialId = start.TrialId, Attempt = start.Attempt, Seq = epoch, Epoch = epoch,
                EndedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(endedAt),
            };
            report.Metrics.Add(new Dictionary<string, double> { ["val_accuracy"] = 0.5 + (epoch * 0.001), ["val_loss"] = 1.0 / epoch });
            await agent.SendAsync(new AgentMessage { EpochReport = report });
            await page.WaitForFunctionAsync($"() => window.__seen['{epoch}'] !== undefined");
            var seen = await page.EvaluateAsync<double>($"() => window.__seen['{epoch}']");
            latencies.Add(seen - endedAt.ToUnixTimeMilliseconds());
            await Task.Delay(gapMs);
        }

        latencies.Sort();
        string Ms(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)].ToString("0", CultureInfo.InvariantCulture);
        Console.WriteLine($"Epoch report → point drawn in Chromium, {reports} reports, one open study page ({Environment.ProcessorCount} cores)");
        Console.WriteLine();
        Console.WriteLine("| percentile | ms |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| p50 | {Ms(0.50)} |");
        Console.WriteLine($"| p95 | {Ms(0.95)} |");
        Console.WriteLine($"| max | {Ms(1.0)} |");
        Console.WriteLine();
        Console.WriteLine($"Reproduce: {command}");
        return 0;
    }
}
