using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using HyperTune.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

public sealed class TrialComparisonTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Objective Maximize = new("val_accuracy", Direction.Maximize);
    private static readonly Objective Minimize = new("val_loss", Direction.Minimize);

    [Fact]
    public void Rows_OfTrialsWithDifferentParameters_ShowTheUnionWithADashWhereOneIsMissing()
    {
        var a = Trial(1, new() { ["lr"] = ParamValue.Of(0.01), ["batch_size"] = ParamValue.Of(64) });
        var b = Trial(2, new() { ["lr"] = ParamValue.Of(0.02), ["momentum"] = ParamValue.Of(0.9) });

        var comparison = new TrialComparison(Maximize, [a, b], [], a.Id, Start, parameterOrder: ["lr", "momentum", "batch_size"]);

        var parameters = comparison.Rows.Where(r => r.Section == ComparisonSection.Parameters).ToList();
        Assert.Equal(["lr", "momentum", "batch_size"], parameters.Select(r => r.Name));
        Assert.Equal(["—", "0.9"], Texts(comparison, "momentum"));
        Assert.Equal(["64", "—"], Texts(comparison, "batch_size"));
        Assert.Equal(DeltaTone.Changed, Cell(comparison, "momentum", 2).Delta!.Tone);
        Assert.Equal("changed", Cell(comparison, "batch_size", 2).Delta!.Text);
    }

    [Fact]
    public void Visible_WithHideIdentical_DropsRowsWhereEveryTrialAgrees()
    {
        var a = Trial(1, new() { ["lr"] = ParamValue.Of(0.01), ["batch_size"] = ParamValue.Of(64) }, best: 0.8, agent: "box-1");
        var b = Trial(2, new() { ["lr"] = ParamValue.Of(0.03), ["batch_size"] = ParamValue.Of(64) }, best: 0.7, agent: "box-1");
        var c = Trial(3, new() { ["lr"] = ParamValue.Of(0.05), ["batch_size"] = ParamValue.Of(64) }, best: 0.6, agent: "box-1");
        EpochPoint[] epochs = [Epoch(a, 1, ("val_accuracy", 0.8), ("grad_norm", double.NaN)), Epoch(b, 1, ("val_accuracy", 0.7), ("grad_norm", double.NaN)),
            Epoch(c, 1, ("val_accuracy", 0.6), ("grad_norm", double.NaN))];

        var comparison = new TrialComparison(Maximize, [a, b, c], epochs, a.Id, Start);

        var all = comparison.Visible(hideIdentical: false).Select(r => r.Name).ToList();
        var differing = comparison.Visible(hideIdentical: true).Select(r => r.Name).ToList();
        Assert.Contains("batch_size", all);
        Assert.Contains("agent", all);
        Assert.Equal(["lr", "val_accuracy (best)", "val_accuracy (last)"], differing);
        Assert.True(comparison.Rows.Single(r => r.Name == "grad_norm (last)").Identical);
    }

    [Fact]
    public void Delta_OnMaximizedObjective_CallsAHigherValueBetterWithAbsoluteAndRelativeDifference()
    {
        var a = Trial(1, [], best: 0.8);
        var b = Trial(2, [], best: 0.9);
        var c = Trial(3, [], best: 0.6);

        var comparison = new TrialComparison(Maximize, [a, b, c], [], a.Id, Start);

        var better = Cell(comparison, "val_accuracy (best)", 2).Delta!;
        var worse = Cell(comparison, "val_accuracy (best)", 3).Delta!;
        Assert.Equal(DeltaTone.Better, better.Tone);
        Assert.Equal(0.1, better.Absolute!.Value, 9);
        Assert.Equal(0.125, better.Relative!.Value, 9);
        Assert.Equal("+0.1 (+12.5%)", better.Text);
        Assert.Equal(DeltaTone.Worse, worse.Tone);
        Assert.Equal("−0.2 (−25%)", worse.Text);
        Assert.Null(Cell(comparison, "val_accuracy (best)", 1).Delta);
    }

    [Fact]
    public void Delta_OnMinimizedObjective_CallsALowerValueBetterAndOtherMetricsOnlyHigherOrLower()
    {
        var a = Trial(1, [], best: 0.5);
        var b = Trial(2, [], best: 0.4);
        EpochPoint[] epochs = [Epoch(a, 1, ("val_loss", 0.5), ("val_accuracy", 0.70)), Epoch(b, 1, ("val_loss", 0.4), ("val_accuracy", 0.75))];

        var comparison = new TrialComparison(Minimize, [a, b], epochs, a.Id, Start);

        Assert.Equal(DeltaTone.Better, Cell(comparison, "val_loss (best)", 2).Delta!.Tone);
        Assert.Equal(DeltaTone.Better, Cell(comparison, "val_loss (last)", 2).Delta!.Tone);
        Assert.Equal("−0.1 (−20%)", Cell(comparison, "val_loss (last)", 2).Delta!.Text);
        var other = Cell(comparison, "val_accuracy (last)", 2).Delta!;
        Assert.Equal(DeltaTone.Higher, other.Tone);
        Assert.StartsWith("+0.05", other.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Delta_OnObjectiveThatTurnedNaN_IsWorseAndSaysChanged()
    {
        var a = Trial(1, []);
        var b = Trial(2, []);
        EpochPoint[] epochs = [Epoch(a, 1, ("val_loss", 0.3)), Epoch(b, 1, ("val_loss", double.NaN))];

        var comparison = new TrialComparison(Minimize, [a, b], epochs, a.Id, Start);

        Assert.Equal(["0.3", "NaN"], Texts(comparison, "val_loss (last)"));
        Assert.Equal(new ComparisonDelta(DeltaTone.Worse, null, null, "changed"), Cell(comparison, "val_loss (last)", 2).Delta);
    }

    [Fact]
    public void Delta_OnCategoricalParameter_MarksAChangeWithoutNumbers()
    {
        var a = Trial(1, new() { ["optimizer"] = ParamValue.Of("sgd"), ["augment"] = ParamValue.Of(true) });
        var b = Trial(2, new() { ["optimizer"] = ParamValue.Of("adam"), ["augment"] = ParamValue.Of(true) });

        var comparison = new TrialComparison(Maximize, [a, b], [], a.Id, Start);

        Assert.Equal(new ComparisonDelta(DeltaTone.Changed, null, null, "changed"), Cell(comparison, "optimizer", 2).Delta);
        Assert.Equal(DeltaTone.Same, Cell(comparison, "augment", 2).Delta!.Tone);
        Assert.False(comparison.Rows.Single(r => r.Name == "optimizer").Identical);
        Assert.True(comparison.Rows.Single(r => r.Name == "augment").Identical);
    }

    [Fact]
    public void Rows_LastMetric_ComesFromTheLatestEpochOfTheLatestAttempt()
    {
        var a = Trial(1, [], epochCount: 3);
        var b = Trial(2, [], epochCount: 1);
        EpochPoint[] epochs =
        [
            Epoch(a, 1, ("val_accuracy", 0.5)), Epoch(a, 3, ("val_accuracy", 0.7)), Epoch(a, 2, ("val_accuracy", 0.6)),
            new EpochPoint(a.Id, 0, 4, new Dictionary<string, double> { ["val_accuracy"] = 0.55 }), Epoch(b, 1, ("val_accuracy", 0.4)),
        ];

        var comparison = new TrialComparison(Maximize, [a, b], epochs, b.Id, Start);

        Assert.Equal(["0.7", "0.4"], Texts(comparison, "val_accuracy (last)"));
        Assert.Equal(["3", "1"], Texts(comparison, "epochs done"));
        Assert.Equal("+2 (+200%)", Cell(comparison, "epochs done", 1).Delta!.Text);
    }

    [Fact]
    public void Rows_Run_ShowStateDurationAgentAndWhereTheTrialCameFrom()
    {
        var source = Trial(1, [], agent: "box-1") with { State = TrialState.Completed, EndedAt = Start.AddSeconds(90) };
        var clone = Trial(2, []) with { ClonedFromTrialId = source.Id, StartedAt = null, State = TrialState.Queued };
        var fork = Trial(3, [], agent: "box-2") with { ClonedFromTrialId = source.Id, Resume = new CheckpointPointer(source.Id, 1, 2, "box-1") };

        var comparison = new TrialComparison(Maximize, [source, clone, fork], [], source.Id, Start.AddSeconds(200));

        Assert.Equal(["completed", "queued", "running"], Texts(comparison, "state"));
        Assert.Equal(["1 min 30 s", "—", "3 min 20 s"], Texts(comparison, "duration"));
        Assert.Equal("+1 min 50 s (+122.2%)", Cell(comparison, "duration", 3).Delta!.Text);
        Assert.Equal(["box-1", "—", "box-2"], Texts(comparison, "agent"));
        Assert.Equal(["sampled", "clone of #1", "fork of #1 from epoch 2"], Texts(comparison, "origin"));
    }

    [Fact]
    public void Rows_DurationsApartByAFractionOfASecond_AreIdentical()
    {
        var a = Trial(1, []) with { State = TrialState.Completed, EndedAt = Start.AddSeconds(61.2) };
        var b = Trial(2, []) with { State = TrialState.Completed, EndedAt = Start.AddSeconds(60.9) };

        var comparison = new TrialComparison(Maximize, [a, b], [], a.Id, Start);

        Assert.Equal(["1 min 01 s", "1 min 01 s"], Texts(comparison, "duration"));
        Assert.True(comparison.Rows.Single(r => r.Name == "duration").Identical);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void Constructor_WithTooFewOrTooManyTrials_NamesTheCount(int count)
    {
        var trials = Enumerable.Range(1, count).Select(n => Trial(n, [])).ToList();

        var error = Assert.Throws<ArgumentException>(() => new TrialComparison(Maximize, trials, [], trials[0].Id, Start));

        Assert.Contains($"trials must hold 2 to 6 trials, got {count}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WithBaselineNotCompared_NamesTheBaseline()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrialComparison(Maximize, [Trial(1, []), Trial(2, [])], [], 999, Start));

        Assert.Contains("baselineTrialId must be one of the compared trials (ids 101, 102), got 999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsePick_WithUnknownDuplicateAndTooManyNumbers_KeepsTheKnownFirstSixAndSaysWhy()
    {
        int[] known = [1, 2, 3, 4, 5, 6, 7, 8];

        var pick = TrialComparison.ParsePick("#3, 3,x,42,1,2,4,5,6,7", 9, known);

        Assert.Equal([3, 1, 2, 4, 5, 6], pick.Numbers);
        Assert.Equal(3, pick.Baseline);
        Assert.Contains("'x' is not a trial number", pick.Problem, StringComparison.Ordinal);
        Assert.Contains("there is no trial #42", pick.Problem, StringComparison.Ordinal);
        Assert.Contains("at most 6 trials can be compared, got 7", pick.Problem, StringComparison.Ordinal);
        Assert.Contains("baseline: #9 is not among the compared trials; using #3", pick.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsePick_WithValidQuery_KeepsTheBaselineAndReportsNoProblem()
    {
        var pick = TrialComparison.ParsePick("3,7,9", 7, [3, 7, 9]);

        Assert.Equal([3, 7, 9], pick.Numbers);
        Assert.Equal(7, pick.Baseline);
        Assert.Null(pick.Problem);
    }

    [Fact]
    public async Task ListEpochsAsync_ForSomeTrials_ReturnsOnlyTheirEpochsAndIgnoresOtherStudies()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        const string spec = """
            { "name": "loop", "workload": "external", "objective": { "metric": "val_loss", "direction": "minimize" },
              "sampler": { "type": "random", "seed": 5 }, "budget": { "trials": 3 },
              "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
            """;
        var studyId = await dashboard.CreateStudyAsync(spec);
        var otherStudyId = await dashboard.CreateStudyAsync(spec);
        var ids = new List<long>();
        foreach (var study in new[] { studyId, studyId, studyId, otherStudyId })
        {
            var trialId = (await dashboard.PostAsync($"/api/studies/{study}/ask", "")).Body.GetProperty("trialId").GetInt64();
            await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.7 } }""");
            await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 2, "metrics": { "val_loss": 0.6 } }""");
            ids.Add(trialId);
        }

        var store = dashboard.App.Services.GetRequiredService<StudyStore>();
        var epochs = await store.ListEpochsAsync(studyId, [ids[0], ids[2], ids[3]]);

        Assert.Equal([(ids[0], 1), (ids[0], 2), (ids[2], 1), (ids[2], 2)], epochs.Select(e => (e.TrialId, e.Epoch)));
        Assert.Equal(0.6, epochs[1].Metrics["val_loss"]);
    }

    private static TrialView Trial(int number, Dictionary<string, ParamValue> parameters, double? best = null, string? agent = null, int epochCount = 1) =>
        new(100 + number, 1, number, TrialState.Running, parameters, 1, agent, null, null, epochCount, best, best,
            Start, Start, null);

    private static EpochPoint Epoch(TrialView trial, int epoch, params (string Name, double Value)[] metrics) =>
        new(trial.Id, 1, epoch, metrics.ToDictionary(m => m.Name, m => m.Value));

    private static ComparisonCell Cell(TrialComparison comparison, string row, int number) =>
        comparison.Rows.Single(r => r.Name == row).Cells.Single(c => c.TrialNumber == number);

    private static string[] Texts(TrialComparison comparison, string row) =>
        [.. comparison.Rows.Single(r => r.Name == row).Cells.Select(c => c.Text)];
}
