using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Tests;

public sealed class TrialFilterTests
{
    private static readonly TrialView[] Trials =
    [
        Trial(1, TrialState.Completed, lr: 0.001, optimizer: "adam", best: 0.81, metrics: new() { ["val_loss"] = 0.52 }, tags: ["baseline"]),
        Trial(2, TrialState.Completed, lr: 0.01, optimizer: "sgd", best: 0.88, metrics: new() { ["val_loss"] = 0.31 }, tags: ["good", "Baseline"], notes: "Warm restarts **helped**"),
        Trial(3, TrialState.Running, lr: 0.05, optimizer: "sgd", best: 0.62, metrics: new() { ["val_loss"] = double.NaN }),
        Trial(4, TrialState.Pruned, lr: 0.1, optimizer: "adam", best: null, metrics: [], reason: "below the median at epoch 3"),
    ];

    [Fact]
    public void Apply_WithStates_KeepsOnlyTrialsInThoseStates()
    {
        var filter = TrialFilter.None with { States = new HashSet<TrialState> { TrialState.Running, TrialState.Pruned } };

        Assert.Equal([3, 4], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_WithParameterRange_KeepsTrialsInsideTheInclusiveBounds()
    {
        var filter = TrialFilter.None.WithRange(TrialColumn.Param("lr"), new NumericRange(0.01, 0.05));

        Assert.Equal([2, 3], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_WithOpenEndedRange_BoundsOnlyOneSide()
    {
        var filter = TrialFilter.None.WithRange(TrialColumn.Param("lr"), new NumericRange(null, 0.01));

        Assert.Equal([1, 2], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_WithCategoricalChoices_KeepsTrialsWithOneOfThem()
    {
        var filter = TrialFilter.None.WithChoices("optimizer", new HashSet<string> { "adam" });

        Assert.Equal([1, 4], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_WithMetricRange_DropsTrialsWithoutTheMetricOrWithNaN()
    {
        var filter = TrialFilter.None.WithRange(TrialColumn.Metric("val_loss"), new NumericRange(null, 1));

        Assert.Equal([1, 2], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_WithBestValueRange_DropsTrialsWithoutAValue()
    {
        var filter = TrialFilter.None.WithRange(TrialColumn.BestValue, new NumericRange(0.6, null));

        Assert.Equal([1, 2, 3], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_WithTags_KeepsTrialsWithEveryTagIgnoringCase()
    {
        var baseline = TrialFilter.None with { Tags = new HashSet<string> { "BASELINE" } };
        var both = TrialFilter.None with { Tags = new HashSet<string> { "baseline", "good" } };

        Assert.Equal([1, 2], Numbers(baseline.Apply(Trials, ByNumber)));
        Assert.Equal([2], Numbers(both.Apply(Trials, ByNumber)));
    }

    [Theory]
    [InlineData("optimizer=sgd", new[] { 3, 2 })]
    [InlineData("#4", new[] { 4 })]
    [InlineData("median", new[] { 4 })]
    [InlineData("RESTARTS", new[] { 2 })]
    [InlineData("sgd running", new[] { 3 })]
    [InlineData("agent-7", new[] { 4, 3, 2, 1 })]
    [InlineData("nothing-like-this", new int[0])]
    public void Apply_WithText_KeepsTrialsWhereEveryWordAppears(string text, int[] expected)
    {
        var filter = TrialFilter.None with { Text = text };

        Assert.Equal(expected, Numbers(filter.Apply(Trials, TrialSort.Default)));
    }

    [Fact]
    public void Apply_WithSeveralConditions_KeepsTrialsMeetingAll()
    {
        var filter = (TrialFilter.None with { States = new HashSet<TrialState> { TrialState.Completed } })
            .WithChoices("optimizer", new HashSet<string> { "sgd" });

        Assert.Equal([2], Numbers(filter.Apply(Trials, ByNumber)));
    }

    [Fact]
    public void Apply_DefaultSort_PutsTheNewestTrialFirst()
    {
        Assert.Equal([4, 3, 2, 1], Numbers(TrialFilter.None.Apply(Trials, TrialSort.Default)));
    }

    [Fact]
    public void Apply_SortedByBestDescending_PutsTrialsWithoutAValueLast()
    {
        var sort = new TrialSort(TrialColumn.BestValue, Descending: true);

        Assert.Equal([2, 1, 3, 4], Numbers(TrialFilter.None.Apply(Trials, sort)));
        Assert.Equal([3, 1, 2, 4], Numbers(TrialFilter.None.Apply(Trials, sort.Toggle(TrialColumn.BestValue))));
    }

    [Fact]
    public void Apply_SortedByMetric_PutsNaNLastEitherWay()
    {
        var ascending = new TrialSort(TrialColumn.Metric("val_loss"), Descending: false);

        Assert.Equal([2, 1, 3, 4], Numbers(TrialFilter.None.Apply(Trials, ascending)));
        Assert.Equal([1, 2, 3, 4], Numbers(TrialFilter.None.Apply(Trials, ascending with { Descending = true })));
    }

    [Fact]
    public void Apply_SortedByCategoricalParameter_OrdersByTextThenNumber()
    {
        var sort = new TrialSort(TrialColumn.Param("optimizer"), Descending: false);

        Assert.Equal([1, 4, 2, 3], Numbers(TrialFilter.None.Apply(Trials, sort)));
    }

    [Fact]
    public void Toggle_OnAnotherColumn_SortsItAscending()
    {
        var sort = TrialSort.Default.Toggle(TrialColumn.Param("lr"));

        Assert.Equal(new TrialSort(TrialColumn.Param("lr"), Descending: false), sort);
    }

    [Fact]
    public void Apply_TenThousandTrials_FiltersAndSortsThemAll()
    {
        var many = Enumerable.Range(1, 10_000)
            .Select(i => Trial(i, (TrialState)(i % 7), lr: i / 10_000.0, optimizer: i % 2 == 0 ? "sgd" : "adam", best: (i * 7919 % 10_000) / 10_000.0,
                metrics: new() { ["val_loss"] = 1 - (i / 10_000.0) }, tags: i % 100 == 0 ? ["round"] : []))
            .ToList();
        var filter = TrialFilter.None.WithRange(TrialColumn.Param("lr"), new NumericRange(0.25, 0.75)).WithChoices("optimizer", new HashSet<string> { "sgd" });

        var shown = filter.Apply(many, new TrialSort(TrialColumn.BestValue, Descending: true));

        Assert.Equal(2_501, shown.Count);
        Assert.All(shown, t => Assert.Equal("sgd", t.Params["optimizer"].Text));
        Assert.True(shown.Zip(shown.Skip(1)).All(p => p.First.BestValue >= p.Second.BestValue));
    }

    private static readonly TrialSort ByNumber = new(TrialColumn.Number, Descending: false);

    private static int[] Numbers(IEnumerable<TrialView> trials) => [.. trials.Select(t => t.Number)];

    private static TrialView Trial(int number, TrialState state, double lr, string optimizer, double? best, Dictionary<string, double> metrics,
        string[]? tags = null, string? notes = null, string? reason = null) =>
        new(number * 10, 1, number, state, new Dictionary<string, ParamValue> { ["lr"] = ParamValue.Of(lr), ["optimizer"] = ParamValue.Of(optimizer) },
            1, "agent-7", null, reason, 3, best, best, DateTimeOffset.UnixEpoch, null, null)
        {
            LastMetrics = metrics,
            Tags = tags ?? [],
            Notes = notes,
        };
}
