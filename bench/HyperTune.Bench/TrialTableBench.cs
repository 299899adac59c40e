using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.Trials;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace HyperTune.Bench;

/// <summary>
/// The study page's trial table and the study exports at scale, on the real dashboard: one study of --trials trials
/// (no epochs, so the learning-curve chart stays empty and the table is what is timed) opened in Chromium and
/// filtered, sorted and searched; and one study of --trials trials × --epochs epochs downloaded as CSV and JSON,
/// with the dashboard's managed heap sampled while each download streams. Rows are written straight into SQLite.
/// </summary>
internal static class TrialTableBench
{
    private static readonly string[] Optimizers = ["adam", "sgd", "rmsprop"];

    public static async Task<int> RunAsync(string[] args)
    {
        var trials = BenchArgs.Option(args, "--trials", 10_000);
        var epochs = BenchArgs.Option(args, "--epochs", 50);
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- trial-table --trials {trials} --epochs {epochs}";

        await using var dashboard = await RunningDashboard.StartAsync();
        var pageStudy = await dashboard.CreateStudyAsync(Spec("table", trials));
        var exportStudy = await dashboard.CreateStudyAsync(Spec("export", trials));
        var smallStudy = await dashboard.CreateStudyAsync(Spec("small", 1));
        var seeding = Stopwatch.StartNew();
        await SeedAsync(dashboard.DatabasePath, pageStudy, trials, epochs: 0);
        await SeedAsync(dashboard.DatabasePath, exportStudy, trials, epochs);
        await SeedAsync(dashboard.DatabasePath, smallStudy, 1, epochs: 0);
        Console.WriteLine($"Seeded {trials} + {trials} trials and {trials * epochs} epoch reports in {seeding.Elapsed.TotalSeconds:0.0} s");

        var rows = new List<(string Step, string Value)>();
        foreach (var what in new[] { "trials.csv", "trials.json", "epochs.csv", "epochs.json" })
        {
            rows.Add(await DownloadAsync(dashboard, exportStudy, what));
        }

        rows.AddRange(await InProcessAsync(dashboard, pageStudy));
        rows.AddRange(await PageAsync(dashboard, pageStudy, trials, smallStudy));

        Console.WriteLine();
        Console.WriteLine($"Trial table and exports, {trials} trials, {trials * epochs} epoch reports of 3 metrics ({Environment.ProcessorCount} cores)");
        Console.WriteLine();
        Console.WriteLine("| step | measured |");
        Console.WriteLine("|---|---|");
        foreach (var (step, value) in rows)
        {
            Console.WriteLine($"| {step} | {value} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Reproduce: {command}");
        return 0;
    }

    private static string Spec(string name, int trials) => $$"""
        { "name": "{{name}}", "workload": "external",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "budget": { "trials": {{trials}} },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" },
                     "optimizer": { "type": "categorical", "choices": ["adam", "sgd", "rmsprop"] } } }
        """;

    /// <summary>Trials 1..n of the study, every seventh pruned and the rest completed, each with <paramref name="epochs"/> reports.</summary>
    private static async Task SeedAsync(string database, long studyId, int trials, int epochs)
    {
        await using var db = new SqliteConnection($"Data Source={database}");
        await db.OpenAsync();
        await using var tx = (SqliteTransaction)await db.BeginTransactionAsync();
        var random = new Random(7);
        var trial = Command(db, tx, """
            INSERT INTO trials (StudyId, Number, State, ParamsJson, Attempt, StageIndex, Kind, CheckpointAttempt, EpochCount, LastValue, BestValue, LastMetricsJson, TagsJson, CreatedAt)
            VALUES ($study, $number, $state, $params, 1, 0, 0, 0, $epochs, $value, $value, $metrics, $tags, $at) RETURNING Id
            """, "$study", "$number", "$state", "$params", "$epochs", "$value", "$metrics", "$tags", "$at");
        var report = Command(db, tx, "INSERT INTO epoch_reports (TrialId, Attempt, Seq, Epoch, ReceivedAt) VALUES ($trial, 1, $epoch, $epoch, $at) RETURNING Id",
            "$trial", "$epoch", "$at");
        var metric = Command(db, tx, "INSERT INTO epoch_metrics (ReportId, Name, Kind, Value) VALUES ($report, $name, 0, $value)", "$report", "$name", "$value");
        for (var n = 1; n <= trials; n++)
        {
            var accuracy = 0.5 + (0.45 * random.NextDouble());
            var parameters = JsonSerializer.Serialize(new Dictionary<string, object> { ["lr"] = Math.Pow(10, -4 + (4 * random.NextDouble())), ["optimizer"] = Optimizers[n % 3] });
            var last = JsonSerializer.Serialize(new Dictionary<string, double> { ["val_accuracy"] = accuracy, ["val_loss"] = 1 - accuracy, ["grad_norm"] = random.NextDouble() * 5 });
            Set(trial, studyId, n, n % 7 == 0 ? "Pruned" : "Completed", parameters, epochs, accuracy, last, n % 50 == 0 ? "[\"keep\"]" : null, DateTimeOffset.UtcNow.UtcTicks);
            var trialId = (long)(await trial.ExecuteScalarAsync())!;
            for (var e = 1; e <= epochs; e++)
            {
                Set(report, trialId, e, DateTimeOffset.UtcNow.UtcTicks);
                var reportId = (long)(await report.ExecuteScalarAsync())!;
                foreach (var (name, value) in new[] { ("val_accuracy", accuracy * e / epochs), ("val_loss", 1 - (accuracy * e / epochs)), ("grad_norm", random.NextDouble()) })
                {
                    Set(metric, reportId, name, value);
                    await metric.ExecuteNonQueryAsync();
                }
            }
        }

        await tx.CommitAsync();
    }

    private static SqliteCommand Command(SqliteConnection db, SqliteTransaction tx, string sql, params string[] names)
    {
        var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    private static void Set(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }

    /// <summary>Time to the first byte and to the last, the size, and the dashboard's managed heap at most above what it was before.</summary>
    private static async Task<(string, string)> DownloadAsync(RunningDashboard dashboard, long studyId, string what)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Delay(10);
            }
        });
        var clock = Stopwatch.StartNew();
        using var response = await dashboard.Http.GetAsync($"/api/studies/{studyId}/{what}", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long bytes = 0;
        double? firstByte = null;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            firstByte ??= clock.Elapsed.TotalMilliseconds;
            bytes += read;
        }

        var total = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        return ($"GET {what}", string.Create(CultureInfo.InvariantCulture,
            $"first byte {firstByte:0} ms, all {total:0.0} s, {bytes / 1048576.0:0.0} MiB, heap peak +{(peak - baseline) / 1048576.0:0} MiB"));
    }

    /// <summary>What the table computes on the server per change, without a browser: loading the trials, then filtering and sorting them (median of 21).</summary>
    private static async Task<List<(string, string)>> InProcessAsync(RunningDashboard dashboard, long studyId)
    {
        var store = dashboard.App.Services.GetRequiredService<StudyStore>();
        var clock = Stopwatch.StartNew();
        var trials = await store.ListTrialsAsync(studyId);
        var steps = new List<(string, string)> { ("load the trials (ListTrialsAsync)", $"{clock.ElapsedMilliseconds} ms") };
        var cases = new (string Name, TrialFilter Filter, TrialSort Sort)[]
        {
            ("no filter, newest first", TrialFilter.None, TrialSort.Default),
            ("state pruned, by number", TrialFilter.None with { States = new HashSet<TrialState> { TrialState.Pruned } }, TrialSort.Default),
            ("lr range, sorted by lr", TrialFilter.None.WithRange(TrialColumn.Param("lr"), new NumericRange(0.001, 0.1)), new TrialSort(TrialColumn.Param("lr"), false)),
            ("text 'optimizer=sgd keep', by best", TrialFilter.None with { Text = "optimizer=sgd keep" }, new TrialSort(TrialColumn.BestValue, true)),
            ("metric range, sorted by val_loss", TrialFilter.None.WithRange(TrialColumn.Metric("val_loss"), new NumericRange(null, 0.3)), new TrialSort(TrialColumn.Metric("val_loss"), false)),
        };
        foreach (var (name, filter, sort) in cases)
        {
            var times = new List<double>();
            for (var i = 0; i < 21; i++)
            {
                clock.Restart();
                filter.Apply(trials, sort);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            steps.Add(($"filter and sort {trials.Count} trials in process: {name}", string.Create(CultureInfo.InvariantCulture, $"{times[10]:0.0} ms (median)")));
        }

        return steps;
    }

    private static async Task<List<(string, string)>> PageAsync(RunningDashboard dashboard, long studyId, int trials, long smallStudy)
    {
        await using var browser = await HyperTune.EndToEnd.Tests.Browser.LaunchAsync();
        await browser.LoginAsync(dashboard.WebUri, RunningDashboard.AdminUser);
        var page = browser.Page;
        page.SetDefaultTimeout(120_000);
        Assertions.SetDefaultExpectTimeout(120_000);
        var count = page.Locator("[data-testid=trial-count]");
        var steps = new List<(string, string)>();

        // A study of one trial first, so the big one is timed with the server and Chromium warm.
        foreach (var (id, what) in new[] { (smallStudy, "1 trial, cold"), (smallStudy, "1 trial, warm"), (studyId, $"{trials} trials, warm") })
        {
            var clock = Stopwatch.StartNew();
            await page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{id}").ToString());
            await page.Locator("[data-testid=trial-number]").First.WaitForAsync();
            steps.Add(($"open a study page ({what}) until its first row shows", $"{clock.ElapsedMilliseconds} ms"));
        }

        // Chromium parses plotly.js for seconds after the first row shows; a click meanwhile waits for it.
        await page.Locator("#learning-curves.js-plotly-plot").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        var rendered = await page.Locator("[data-testid=trial-number]").CountAsync();
        steps.Add(("rows in the DOM", $"{rendered} of {trials}"));

        steps.Add(("click the 'pruned' state chip until the count shows", await TimedAsync(
            () => page.Locator("[data-testid=filter-state-pruned]").ClickAsync(),
            () => Assertions.Expect(count).ToHaveTextAsync($"{trials / 7} of {trials} trials"))));
        steps.Add(("click it again (all trials)", await TimedAsync(
            () => page.Locator("[data-testid=filter-state-pruned]").ClickAsync(),
            () => Assertions.Expect(count).ToHaveTextAsync($"{trials} trials"))));
        steps.Add(("sort by lr", await TimedAsync(
            () => page.Locator("[data-testid=sort-param-lr]").ClickAsync(),
            () => Assertions.Expect(page.Locator("[data-testid=sort-param-lr]")).ToHaveAttributeAsync("aria-sort", "ascending"))));
        steps.Add(("type 'optimizer=sgd keep' in the search box", await TimedAsync(
            () => page.Locator("[data-testid=filter-text]").FillAsync("optimizer=sgd keep"),
            () => Assertions.Expect(count).Not.ToHaveTextAsync($"{trials} trials"))));
        await page.Locator("[data-testid=filter-text]").FillAsync("");
        await Assertions.Expect(count).ToHaveTextAsync($"{trials} trials");
        steps.Add(("scroll the table to its end until trial #1 shows (sorted by number)", await TimedAsync(
            async () =>
            {
                await page.Locator("[data-testid=sort-number]").ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=sort-number]")).ToHaveAttributeAsync("aria-sort", "ascending");
                await page.Locator("[data-testid=sort-number]").ClickAsync();
                await page.EvaluateAsync("() => { const c = document.querySelector('[data-testid=trials-table] .mud-table-container'); c.scrollTop = c.scrollHeight; }");
            },
            () => Assertions.Expect(page.Locator("[data-testid=trial-number]", new() { HasTextRegex = new("^1$") })).ToBeVisibleAsync())));
        return steps;
    }

    private static async Task<string> TimedAsync(Func<Task> act, Func<Task> until)
    {
        var clock = Stopwatch.StartNew();
        await act();
        await until();
        return $"{clock.ElapsedMilliseconds} ms";
    }
}
