using System.Diagnostics;
using System.Globalization;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;

namespace HyperTune.Bench;

/// <summary>
/// Seeds studies through the real ingest path (scripted agents over gRPC: StartTrial from the scheduler, one EpochReport
/// per epoch, TrialFinished), so the database holds what a real 10,000-trial study leaves behind. The seeded folder is
/// kept and reused by later runs of the study-page bench.
/// </summary>
internal static class StudyPageSeeder
{
    /// <summary>The metrics each synthetic epoch reports.</summary>
    public static readonly string[] Metrics = ["val_accuracy", "val_loss", "train_loss"];

    public static string Spec(string name, int trials, int epochs, int parallel) => $$"""
        { "name": "{{name}}", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 7 },
          "budget": { "trials": {{trials}}, "parallel": {{parallel}} },
          "fixed": { "epochs": {{epochs}} },
          "space": {
            "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" },
            "momentum": { "type": "float", "low": 0.5, "high": 0.999, "scale": "reverse_log" },
            "weight_decay": { "type": "float", "low": 0.000001, "high": 0.01, "scale": "log" },
            "batch_size": { "type": "int", "low": 16, "high": 512, "scale": "log" },
            "dropout": { "type": "float", "low": 0, "high": 0.6 },
            "optimizer": { "type": "categorical", "choices": ["sgd", "adam", "adamw"] } } }
        """;

    /// <summary>
    /// Creates the study (or finds it, when an earlier seeding stopped half-way) and runs its trials on
    /// <paramref name="agents"/> scripted agents until all have finished; returns its id. Agents reconnect under the same
    /// ids, so trials an interrupted seeding left running are requeued by the dashboard's own reconnect path.
    /// </summary>
    public static async Task<long> SeedAsync(RunningDashboard dashboard, string name, int trials, int epochs, int agents, int slots)
    {
        var clocks = Stopwatch.StartNew();
        var connected = new List<ScriptedAgent>();
        for (var a = 0; a < agents; a++)
        {
            connected.Add(await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, $"seed-{name}-{a}", slots));
        }

        var existing = (await dashboard.GetJsonAsync("/api/studies")).EnumerateArray().FirstOrDefault(s => s.GetProperty("name").GetString() == name);
        var studyId = existing.ValueKind == System.Text.Json.JsonValueKind.Object
            ? existing.GetProperty("id").GetInt64()
            : await dashboard.CreateStudyAsync(Spec(name, trials, epochs, agents * slots));
        async Task<int> FinishedAsync() =>
            (await dashboard.GetJsonAsync($"/api/studies/{studyId}")).GetProperty("study").GetProperty("finishedCount").GetInt32();

        var ran = 0;
        await Task.WhenAll(connected.Select(agent => Task.Run(async () =>
        {
            while (true)
            {
                HubMessage message;
                try
                {
                    message = await agent.NextAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(10));
                }
                catch (TimeoutException)
                {
                    if (await FinishedAsync() >= trials)
                    {
                        return;
                    }

                    continue;
                }

                await RunAsync(agent, message.StartTrial, epochs);
                var count = Interlocked.Increment(ref ran);
                if (count % 500 == 0)
                {
                    Console.Error.WriteLine($"  {name}: {count} trials run, {count * (long)epochs / clocks.Elapsed.TotalSeconds:0} reports/s");
                }
            }
        })));

        foreach (var agent in connected)
        {
            await agent.DisposeAsync();
        }

        Console.Error.WriteLine($"  {name}: {trials} trials × {epochs} epochs, {ran} run in {clocks.Elapsed.TotalSeconds:0} s");
        return studyId;
    }

    /// <summary>One synthetic trial: a saturating accuracy curve whose ceiling depends on lr and dropout, with noise.</summary>
    private static async Task RunAsync(ScriptedAgent agent, StartTrial start, int epochs)
    {
        var rng = new Random((int)start.TrialId);
        var lr = start.Params["lr"].Number;
        var dropout = start.Params["dropout"].Number;
        var ceiling = 0.93 - (0.08 * Math.Pow(Math.Log10(lr) + 2, 2)) - (0.1 * Math.Abs(dropout - 0.2));
        var speed = 2 + (8 * rng.NextDouble());
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            var accuracy = Math.Clamp((ceiling * (1 - Math.Exp(-epoch / speed))) + (0.01 * (rng.NextDouble() - 0.5)), 0.05, 0.99);
            await agent.ReportAsync(start.TrialId, start.Attempt, epoch, epoch, new Dictionary<string, double>
            {
                ["val_accuracy"] = accuracy,
                ["val_loss"] = -Math.Log(accuracy),
                ["train_loss"] = -Math.Log(Math.Min(0.999, accuracy + 0.02)),
            });
        }

        await agent.FinishAsync(start.TrialId, start.Attempt, epochs + 1, TrialOutcome.Completed);
    }

    public static string Rate(long count, TimeSpan elapsed) => (count / elapsed.TotalSeconds).ToString("0", CultureInfo.InvariantCulture);
}

/// <summary>
/// `study-page`: seeds (once) a 100-trial and a large study, then measures each in real Chromium, side by side:
/// how long the study page takes to open and become ready, how long the browser spends drawing one live update, and
/// the time from an epoch report leaving an agent to its point drawn.
/// </summary>
internal static class StudyPageScaleBench
{
    private static readonly Dictionary<string, string?> Quiet = new() { ["Logging:LogLevel:HyperTune"] = "Warning" };

    // Installed before any page script: stamps each incoming circuit message and each Plotly redraw of the learning
    // curves (wall clock, the bench's too), and when the page says it is ready (performance.now(): from navigation start).
    private const string Probe = """
        (() => {
          window.__probe = { messages: [], ready: null, draws: [], page: null, curves: null };
          const Native = window.WebSocket;
          window.WebSocket = function (...args) {
            const socket = new Native(...args);
            socket.addEventListener('message', () => { const m = window.__probe.messages; m.push(Date.now()); if (m.length > 500) m.shift(); });
            return socket;
          };
          window.WebSocket.prototype = Native.prototype;
          Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
          const hooked = new WeakSet();
          new MutationObserver(() => {
            const page = document.querySelector('[data-testid=study-page][data-ready=true]');
            if (page && window.__probe.ready === null) window.__probe.ready = performance.now();
            if (window.__probe.page === null && document.querySelector('[data-testid=study-page]')) window.__probe.page = performance.now();
            if (window.__probe.curves === null && document.querySelector('#learning-curves .main-svg')) window.__probe.curves = performance.now();
            const gd = document.getElementById('learning-curves');
            if (gd && gd.on && !hooked.has(gd)) {
              hooked.add(gd);
              gd.on('plotly_afterplot', () => {
                const points = (gd.data || []).reduce((n, t) => n + (t.x ? t.x.length : 0), 0);
                window.__probe.draws.push({ wall: Date.now(), points });
              });
            }
          }).observe(document, { subtree: true, childList: true, attributes: true });
        })();
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var trials = BenchArgs.Option(args, "--trials", 10_000);
        var epochs = BenchArgs.Option(args, "--epochs", 50);
        var opens = BenchArgs.Option(args, "--opens", 5);
        var updates = BenchArgs.Option(args, "--updates", 30);
        var screenshots = BenchArgs.Option(args, "--screenshots");
        var dataDir = BenchArgs.Option(args, "--data") ?? Path.Combine(Path.GetTempPath(), $"hypertune-study-page-{trials}x{epochs}");
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- study-page --trials {trials} --epochs {epochs} --opens {opens} --updates {updates}";
        if (!File.Exists(Path.Combine(dataDir, "seeded")))
        {
            Directory.CreateDirectory(dataDir);
            await using var seeding = await RunningDashboard.StartAsync(dataDir, Quiet);
            seeding.DeleteDataOnDispose = false;
            var clock = Stopwatch.StartNew();
            await StudyPageSeeder.SeedAsync(seeding, "small", 100, epochs, 4, 8);
            await StudyPageSeeder.SeedAsync(seeding, "large", trials, epochs, 4, 8);
            Console.Error.WriteLine($"seeded {dataDir} in {clock.Elapsed.TotalMinutes:0.0} min");
            await File.WriteAllTextAsync(Path.Combine(dataDir, "seeded"), $"{trials} x {epochs}\n");
        }

        if (args.Contains("--seed-only"))
        {
            return 0;
        }

        await using var dashboard = await RunningDashboard.StartAsync(dataDir, Quiet);
        dashboard.DeleteDataOnDispose = false;
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "study-page-bench");
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new Microsoft.Playwright.BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });

        var rows = new List<string>();
        foreach (var (name, count) in new[] { ("small", 100), ("large", trials) })
        {
            var studyId = (await dashboard.GetJsonAsync("/api/studies")).EnumerateArray().First(s => s.GetProperty("name").GetString() == name).GetProperty("id").GetInt64();
            var openTimes = new List<double>();
            for (var i = 0; i < opens; i++)
            {
                var page = await browser.NewPageAsync(new Microsoft.Playwright.BrowserNewPageOptions { ViewportSize = new() { Width = 1400, Height = 1000 } });
                await HyperTune.EndToEnd.Tests.Browser.SignInAsync(page, dashboard.WebUri, RunningDashboard.AdminUser, RunningDashboard.Password);
                await page.AddInitScriptAsync(Probe);
                await page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString());
                try
                {
                    await page.WaitForFunctionAsync("() => window.__probe.ready !== null", null, new() { Timeout = 60_000 });
                }
                catch (TimeoutException)
                {
                    var shot = Path.Combine(Path.GetTempPath(), $"study-page-{name}-not-ready.png");
                    await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
                    throw new TimeoutException($"the {name} study's page was not ready within 60 s (screenshot: {shot})");
                }
                // Ready means the page said so and its learning curves are on screen (Plotly draws after plotly.js has loaded).
                await page.WaitForFunctionAsync("() => window.__probe.curves !== null", null, new() { Timeout = 60_000 });
                openTimes.Add(await page.EvaluateAsync<double>("() => Math.max(window.__probe.ready, window.__probe.curves)"));
                Console.Error.WriteLine($"  {name} open {i + 1}: " + await page.EvaluateAsync<string>(
                    "() => { const t = performance.getEntriesByType('navigation')[0]; const p = window.__probe; const js = performance.getEntriesByType('resource').find(e => e.name.includes('plotly-3')); return `DOMContentLoaded ${t.domContentLoadedEventEnd.toFixed(0)} ms, plotly.js requested ${js?.startTime.toFixed(0)} ms and loaded ${js?.responseEnd.toFixed(0)} ms, page drawn ${p.page?.toFixed(0)} ms, curves drawn ${p.curves?.toFixed(0)} ms, ready ${p.ready.toFixed(0)} ms, plots area ${document.querySelector('[data-testid=study-plots]')?.offsetHeight} px high`; }"));
                if (screenshots is not null && i == 0)
                {
                    // The page as a person sees it once ready: the first screen, then the whole page.
                    Directory.CreateDirectory(screenshots);
                    await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, $"study-page-{name}.png") });
                    await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, $"study-page-{name}-full.png"), FullPage = true });
                }

                if (i < opens - 1)
                {
                    await page.CloseAsync();
                    continue;
                }

                var (render, visible) = await LiveUpdatesAsync(dashboard, agent, page, studyId, updates);
                Console.Error.WriteLine($"  {name}: each update drawn in the browser, in order: {string.Join(' ', render.Select(r => r.ToString("0", CultureInfo.InvariantCulture)))} ms");
                Console.Error.WriteLine($"  {name}: plots area {await page.EvaluateAsync<int>("() => document.querySelector('[data-testid=study-plots]').offsetHeight")} px high once drawn");
                rows.Add(FormattableString.Invariant(
                    $"| {name} | {count:N0} × {epochs} | {openTimes[0]:0} | {Median(openTimes.Skip(1).DefaultIfEmpty(openTimes[0]).ToList()):0} | {Percentile(render, 0.5):0} / {Percentile(render, 0.95):0} | {Percentile(visible, 0.5):0} / {Percentile(visible, 0.95):0} |"));
                await page.CloseAsync();
            }
        }

        Console.WriteLine($"Study page in Chromium, {Environment.ProcessorCount} cores; ms; the first open is the first after the dashboard started");
        Console.WriteLine();
        Console.WriteLine("| study | trials × epochs | open → ready, first | open → ready, median of the rest | live update drawn in the browser p50 / p95 | epoch report → point drawn p50 / p95 |");
        Console.WriteLine("|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine($"Reproduce: {command}");
        return 0;
    }

    /// <summary>
    /// Once the first screen's plots have drawn, clones the study's best trial, lets the scripted agent run it and reports <paramref name="updates"/> epochs 150 ms
    /// apart: for each, how long the browser drew (circuit message in → Plotly redraw done) and report sent → drawn.
    /// </summary>
    private static async Task<(List<double> Render, List<double> Visible)> LiveUpdatesAsync(
        RunningDashboard dashboard, ScriptedAgent agent, Microsoft.Playwright.IPage page, long studyId, int updates)
    {
        // Updates are measured on the page a person watches: once the analysis plots below the curves have drawn (the
        // browser spends the first seconds after opening on them, and a point reported then waits behind them).
        await page.WaitForFunctionAsync(
            "() => ['plot-best-so-far', 'plot-slice', 'plot-contour', 'plot-importance'].every(id => document.querySelector(`[data-testid=${id}] .main-svg`))",
            null, new() { Timeout = 120_000 });
        Console.Error.WriteLine($"  analysis plots on the first screen drawn {await page.EvaluateAsync<double>("() => performance.now()"):0} ms after the page was opened");
        var first = (await dashboard.GetJsonAsync($"/api/studies/{studyId}")).GetProperty("study").GetProperty("bestTrialId").GetInt64();
        var (status, _) = await dashboard.PostAsync($"/api/trials/{first}/clone", "{}");
        if (status != System.Net.HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"clone of trial {first} answered {status}");
        }

        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(30))).StartTrial;
        List<double> render = [], visible = [];
        for (var epoch = 1; epoch <= updates; epoch++)
        {
            var before = await page.EvaluateAsync<int>("() => window.__probe.draws.length");
            var sentAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await agent.ReportAsync(start.TrialId, start.Attempt, epoch, epoch, new Dictionary<string, double> { ["val_accuracy"] = 0.5 + (epoch * 0.005), ["val_loss"] = 1.0 / epoch, ["train_loss"] = 1.0 / epoch });
            await page.WaitForFunctionAsync($"() => window.__probe.draws.length > {before}", null, new() { Timeout = 30_000 });
            // The browser's part: from the first circuit message after the report was sent to the redraw that showed it.
            var drawnAt = await page.EvaluateAsync<double>($"() => window.__probe.draws[{before}].wall");
            var firstMessageAt = await page.EvaluateAsync<double>($"() => window.__probe.messages.find(t => t >= {sentAt}) ?? {sentAt}");
            render.Add(drawnAt - firstMessageAt);
            visible.Add(drawnAt - sentAt);
            await Task.Delay(150);
        }

        await agent.FinishAsync(start.TrialId, start.Attempt, updates + 1, TrialOutcome.Completed);
        return (render, visible);
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
