using System.Diagnostics;
using System.Globalization;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.Bench;

/// <summary>
/// The study page's plots on a large study in real Chromium: an external (ask/tell) study with 8 parameters gets its
/// trials told through the REST API, then the page is opened and timed until every plot draws them all; then trials keep
/// finishing at a steady pace while the page counts its plot updates and the browser's longest main-thread stall.
/// </summary>
internal static class PlotsBench
{
    private static readonly string[] Plots = ["plot-best-so-far", "plot-parallel", "plot-slice", "plot-contour", "plot-importance", "budget-gauge"];

    public static async Task<int> RunAsync(string[] args)
    {
        var trials = BenchArgs.Option(args, "--trials", 10_000);
        var burst = BenchArgs.Option(args, "--burst", 200);
        var screenshot = BenchArgs.Option(args, "--screenshot");
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- plots --trials {trials} --burst {burst}";

        await using var dashboard = await RunningDashboard.StartAsync();
        dashboard.Http.Timeout = TimeSpan.FromMinutes(10);
        var studyId = await dashboard.CreateStudyAsync($$"""
            { "name": "plots-bench", "workload": "external",
              "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "sampler": { "type": "random", "seed": 1 },
              "budget": { "trials": {{trials + burst + 10}} },
              "space": { "lr": { "type": "float", "low": 0.00001, "high": 0.3, "scale": "log" },
                         "momentum": { "type": "float", "low": 0.5, "high": 0.999, "scale": "reverse_log" },
                         "dropout": { "type": "float", "low": 0.0, "high": 0.5 },
                         "weight_decay": { "type": "float", "low": 0.000001, "high": 0.01, "scale": "log" },
                         "units": { "type": "int", "low": 8, "high": 1024, "scale": "log" },
                         "layers": { "type": "int", "low": 1, "high": 6 },
                         "batch": { "type": "int", "low": 16, "high": 256, "step": 16 },
                         "optimizer": { "type": "categorical", "choices": ["sgd", "adam", "rmsprop"] } } }
            """);

        var fill = Stopwatch.StartNew();
        var told = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (Interlocked.Increment(ref told) <= trials)
            {
                await AskTellAsync(dashboard, studyId);
            }
        }));
        Console.Error.WriteLine($"plots: {trials} trials told in {fill.Elapsed.TotalSeconds:F0} s");

        await using var browser = await HyperTune.EndToEnd.Tests.Browser.LaunchAsync();
        await browser.LoginAsync(dashboard.WebUri, RunningDashboard.AdminUser);
        var page = browser.Page;
        page.SetDefaultTimeout(300_000);
        var open = Stopwatch.StartNew();
        await page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString());
        await WaitForCountsAsync(page, trials);
        var openSeconds = open.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"plots: page drew {trials} trials {openSeconds:F1} s after opening");

        // The page counts each change of the best-so-far plot's count, and the longest gap of a 50 ms timer (a stall).
        await page.EvaluateAsync("""
            () => {
              window.__updates = 0; window.__stall = 0; let last = performance.now();
              setInterval(() => { const now = performance.now(); window.__stall = Math.max(window.__stall, now - last - 50); last = now; }, 50);
              const el = document.querySelector('[data-testid=plot-best-so-far]');
              new MutationObserver(() => window.__updates++).observe(el, { attributes: true, attributeFilter: ['data-count'] });
            }
            """);
        var one = Stopwatch.StartNew();
        await AskTellAsync(dashboard, studyId);
        await WaitForCountsAsync(page, trials + 1);
        var oneSeconds = one.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"plots: one more trial shown {oneSeconds:F1} s after its tell");

        var steady = Stopwatch.StartNew();
        for (var i = 0; i < burst; i++)
        {
            await AskTellAsync(dashboard, studyId);
            await Task.Delay(20);
        }

        var burstSeconds = steady.Elapsed.TotalSeconds;
        await WaitForCountsAsync(page, trials + 1 + burst);
        var caughtUp = steady.Elapsed.TotalSeconds;
        var updates = await page.EvaluateAsync<int>("() => window.__updates");
        var stall = await page.EvaluateAsync<double>("() => window.__stall");
        if (screenshot is not null)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        }

        Console.WriteLine($"Study page plots with {trials} finished trials × 8 params ({Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd})");
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| page open → every plot draws {trials} trials | {openSeconds.ToString("F1", CultureInfo.InvariantCulture)} s |");
        Console.WriteLine($"| one more trial told → every plot counts it | {oneSeconds.ToString("F1", CultureInfo.InvariantCulture)} s |");
        Console.WriteLine($"| {burst} more trials told over {burstSeconds.ToString("F1", CultureInfo.InvariantCulture)} s → every plot counts them | {caughtUp.ToString("F1", CultureInfo.InvariantCulture)} s after the first |");
        Console.WriteLine($"| best-so-far plot updates during that | {updates} |");

        Console.WriteLine($"| longest browser main-thread stall during that | {stall.ToString("F0", CultureInfo.InvariantCulture)} ms |");
        Console.WriteLine();
        Console.WriteLine($"Reproduce: `{command}`");
        return 0;
    }

    private static async Task AskTellAsync(RunningDashboard dashboard, long studyId)
    {
        var asked = await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");
        var p = asked.Body.GetProperty("params");
        var lr = p.GetProperty("lr").GetDouble();
        var value = 0.9 - (0.05 * Math.Pow(Math.Log10(lr) + 2.5, 2)) - (0.1 * p.GetProperty("dropout").GetDouble());
        var trialId = asked.Body.GetProperty("trialId").GetInt64();
        await dashboard.PostAsync($"/api/trials/{trialId}/tell", $$"""{ "value": {{value.ToString("R", CultureInfo.InvariantCulture)}} }""");
    }

    private static async Task WaitForCountsAsync(IPage page, int count)
    {
        foreach (var plot in Plots)
        {
            await page.Locator($"[data-testid={plot}][data-count='{(plot == "plot-importance" ? Math.Min(count, Shared.Analysis.ParameterImportance.MaxTrials) : count)}']").WaitForAsync();
        }
    }
}
