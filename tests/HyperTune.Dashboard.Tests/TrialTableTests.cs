using Bunit;
using HyperTune.Dashboard.Components.Pages;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Security;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace HyperTune.Dashboard.Tests;

/// <summary>The trial table rendered by bUnit with MudBlazor's real components (no browser: JS calls are answered loosely).</summary>
public sealed class TrialTableTests : IAsyncDisposable
{
    private static readonly StudyDefinition Definition = StudySpecParser.Parse("""
        { "name": "table", "workload": "external",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 1 },
          "budget": { "trials": 10000 },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" },
                     "optimizer": { "type": "categorical", "choices": ["adam", "sgd"] } } }
        """, fallbackSeed: 1).Definition!;

    private readonly BunitContext context = new();
    private readonly string dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;

    public TrialTableTests()
    {
        context.JSInterop.Mode = JSRuntimeMode.Loose;
        context.Services.AddMudServices();
        context.Services.AddLogging();
        context.Services.AddDbContextFactory<HyperTuneDbContext>(o => o.UseSqlite($"Data Source={Path.Combine(dataDir, "hypertune.db")}"));
        context.Services.AddSingleton(TimeProvider.System);
        context.Services.AddSingleton<StudyStore>();
        context.Services.AddSingleton<StudyEvents>();
        context.Services.AddSingleton<UserAccess>();
        context.Services.AddSingleton<TrialAnnotations>();
    }

    [Fact]
    public void Render_TenThousandTrials_RendersOnlyAWindowOfRows()
    {
        var table = Render(Many(10_000));

        Assert.Equal("10000 trials", table.Find("[data-testid=trial-count]").TextContent);
        Assert.InRange(table.FindAll("[data-testid=trial-number]").Count, 1, 200);
        Assert.Equal("10000", table.FindAll("[data-testid=trial-number]")[0].TextContent);
    }

    [Fact]
    public void ClickStateChip_KeepsOnlyTrialsInThatState()
    {
        var table = Render(Many(70));

        table.Find("[data-testid=filter-state-pruned]").Click();

        Assert.Equal("10 of 70 trials", table.Find("[data-testid=trial-count]").TextContent);
        Assert.All(table.FindAll("[data-testid=trial-state] [data-state]"), s => Assert.Equal("pruned", s.GetAttribute("data-state")));
    }

    [Fact]
    public void ClickSortHeader_OrdersByThatColumnThenReversesIt()
    {
        var table = Render(Many(30));

        table.Find("[data-testid=sort-param-lr]").Click();
        var ascending = table.FindAll("[data-testid=trial-number]").Select(c => c.TextContent).ToList();
        table.Find("[data-testid=sort-param-lr]").Click();
        var descending = table.FindAll("[data-testid=trial-number]").Select(c => c.TextContent).ToList();

        // lr grows with the trial number.
        Assert.Equal("1", ascending[0]);
        Assert.Equal("30", descending[0]);
    }

    [Fact]
    public void Render_MetricsBesideTheObjective_GetAColumnEach()
    {
        var table = Render(Many(3));

        Assert.NotNull(table.Find("[data-testid=sort-metric-val_loss]"));
        Assert.Empty(table.FindAll("[data-testid=sort-metric-val_accuracy]"));
        Assert.Contains(table.FindAll("td"), td => td.TextContent == "0.5");
    }

    [Fact]
    public void SelectRows_ReportsTheSelectedIdsInOrder()
    {
        IReadOnlyList<long> reported = [];
        var table = context.Render<TrialTable>(p => p
            .Add(t => t.StudyId, 1)
            .Add(t => t.Definition, Definition)
            .Add(t => t.Trials, Many(5))
            .Add(t => t.SelectionChanged, ids => reported = ids));

        table.Find("[data-testid=select-trial][data-trial='4']").Change(true);
        table.Find("[data-testid=select-trial][data-trial='2']").Change(true);

        Assert.Equal([20L, 40L], reported);
        Assert.Equal("2 selected", table.Find("[data-testid=selected-count]").TextContent);
    }

    [Fact]
    public void Rerender_WithTheSameTrialInstances_DoesNotFilterAgain()
    {
        var trials = Many(40);
        var table = Render(trials);
        var shown = table.Instance.Shown;

        table.Render(p => p.Add(t => t.Trials, trials));
        var same = table.Instance.Shown;
        table.Render(p => p.Add(t => t.Trials, [.. trials.Take(39), trials[39] with { State = TrialState.Completed }]));

        Assert.Same(shown, same);
        Assert.NotSame(same, table.Instance.Shown);
    }

    public async ValueTask DisposeAsync()
    {
        await context.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDir, recursive: true);
    }

    private IRenderedComponent<TrialTable> Render(IReadOnlyCollection<TrialView> trials) =>
        context.Render<TrialTable>(p => p
            .Add(t => t.StudyId, 1)
            .Add(t => t.Definition, Definition)
            .Add(t => t.Trials, trials));

    /// <summary>Trials 1..n: every seventh pruned, the rest completed; lr grows with the number; each reported val_loss 0.5.</summary>
    private static TrialView[] Many(int n) => [.. Enumerable.Range(1, n).Select(i =>
        new TrialView(i * 10, 1, i, i % 7 == 0 ? TrialState.Pruned : TrialState.Completed,
            new Dictionary<string, ParamValue> { ["lr"] = ParamValue.Of(i / (double)n), ["optimizer"] = ParamValue.Of(i % 2 == 0 ? "sgd" : "adam") },
            1, null, null, null, 5, 0.5 + (i / (2.0 * n)), 0.5 + (i / (2.0 * n)), DateTimeOffset.UnixEpoch, null, null)
        {
            LastMetrics = new Dictionary<string, double> { ["val_accuracy"] = 0.9, ["val_loss"] = 0.5 },
        })];
}
