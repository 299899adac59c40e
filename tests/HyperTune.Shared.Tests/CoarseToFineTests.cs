using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests;

public sealed class CoarseToFineTests
{
    private static readonly SearchSpace Space = Specs.ParseValid(Specs.Custom("""
        { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" },
          "optimizer": { "type": "categorical", "choices": ["sgd", "adam"] },
          "momentum": { "type": "float", "low": 0.5, "high": 0.99, "when": { "optimizer": "sgd" } } }
        """)).Space;

    private static TrialResult Trial(double lr, string optimizer, double value) =>
        new(new Dictionary<string, ParamValue> { ["lr"] = ParamValue.Of(lr), ["optimizer"] = ParamValue.Of(optimizer), ["momentum"] = ParamValue.Of(0.9) }, value);

    [Fact]
    public void Zoom_AroundTheBestOnALogScale_KeepsTheIncumbentAndShrinkTimesTheDecades()
    {
        TrialResult[] history = [Trial(0.01, "adam", 0.9), Trial(0.0002, "adam", 0.5), Trial(0.5, "sgd", 0.3), Trial(0.003, "adam", 0.7), Trial(0.05, "sgd", 0.6)];

        var zoomed = (FloatParameter)CoarseToFine.Zoom(Space, history, Direction.Maximize).Find("lr")!;

        // Four decades become 0.4 × 4 = 1.6, centred on 0.01 (bounds rounded outward to four significant digits).
        Assert.InRange(0.01, zoomed.Low, zoomed.High);
        Assert.InRange(Math.Log10(zoomed.High / zoomed.Low), CoarseToFine.Shrink * 4, (CoarseToFine.Shrink * 4) + 0.001);
        Assert.Equal(Math.Log10(0.01), (Math.Log10(zoomed.Low) + Math.Log10(zoomed.High)) / 2, 3);
    }

    [Fact]
    public void Zoom_TopTrialsInBasinsFarApart_StillNarrowsAroundTheIncumbent()
    {
        var space = new SearchSpace([new FloatParameter("x", -5, 10, Scale.Linear)]);
        TrialResult[] history = [.. new[] { (3.1, 0.40), (-3.1, 0.41), (9.4, 0.42), (0.0, 20.0), (6.0, 25.0) }
            .Select(t => new TrialResult(new Dictionary<string, ParamValue> { ["x"] = ParamValue.Of(t.Item1) }, t.Item2))];

        var zoomed = (FloatParameter)CoarseToFine.Zoom(space, history, Direction.Minimize).Find("x")!;

        Assert.Equal(3.1 - 3, zoomed.Low, 3);
        Assert.Equal(3.1 + 3, zoomed.High, 3);
    }

    [Fact]
    public void Zoom_IncumbentNearAnEdge_SlidesAWindowOfTheSameWidthInside()
    {
        var space = new SearchSpace([new FloatParameter("x", 0, 10, Scale.Linear)]);
        TrialResult[] history = [new(new Dictionary<string, ParamValue> { ["x"] = ParamValue.Of(9.5) }, 1), new(new Dictionary<string, ParamValue> { ["x"] = ParamValue.Of(2.0) }, 5)];

        var zoomed = (FloatParameter)CoarseToFine.Zoom(space, history, Direction.Minimize).Find("x")!;

        Assert.Equal(6, zoomed.Low, 3);
        Assert.Equal(10, zoomed.High, 3);
    }

    [Fact]
    public void Zoom_StageAfterStage_StaysInsideThePreviousSpaceContainsTheIncumbentAndKeepsIntsOnTheirGrid()
    {
        var space = new SearchSpace([
            new FloatParameter("lr", 1e-5, 1, Scale.Log),
            new FloatParameter("momentum", 0.5, 0.999, Scale.ReverseLog),
            new IntParameter("width", 16, 512, Scale.Log, Step: 8),
            new IntParameter("layers", 1, 9, Scale.Linear)]);
        var history = new List<TrialResult>();
        var random = new Random(11);
        for (var stage = 0; stage < 4; stage++)
        {
            var sampler = new RandomSampler(stage);
            for (var n = 0; n < 30; n++)
            {
                var p = sampler.Propose(new SamplerContext(space, n, [], Direction.Minimize));
                history.Add(new TrialResult(p, random.NextDouble() + Math.Abs(Math.Log10(p["lr"].Number) + 2)));
            }

            var incumbent = history.MinBy(t => t.Value)!.Params;
            var zoomed = CoarseToFine.Zoom(space, history, Direction.Minimize);

            foreach (var parameter in space.Parameters)
            {
                var (before, after, at) = (parameter, zoomed.Find(parameter.Name)!, incumbent[parameter.Name].Number);
                var (low, high, newLow, newHigh) = before switch
                {
                    FloatParameter f => (f.Low, f.High, ((FloatParameter)after).Low, ((FloatParameter)after).High),
                    IntParameter i => ((double)i.Low, (double)i.High, ((IntParameter)after).Low, (double)((IntParameter)after).High),
                    _ => throw new InvalidOperationException(),
                };
                Assert.True(low <= newLow && newHigh <= high, $"stage {stage}: {parameter.Name} [{newLow}, {newHigh}] is outside [{low}, {high}]");
                Assert.InRange(at, newLow, newHigh);
                if (before is IntParameter grid)
                {
                    var zoomedInt = (IntParameter)after;
                    Assert.Equal(0, (zoomedInt.Low - grid.Low) % grid.Step);
                    Assert.Equal(0, (zoomedInt.High - grid.Low) % grid.Step);
                    Assert.Equal(grid.Step, zoomedInt.Step);
                }
            }

            space = zoomed;
        }
    }

    [Fact]
    public void Around_OneTrial_CentresAWindowOfShrinkTimesTheRangeOnIt()
    {
        var space = new SearchSpace([new FloatParameter("dropout", 0, 0.5, Scale.Linear), new IntParameter("layers", 0, 100, Scale.Linear)]);

        var narrowed = CoarseToFine.Around(space, new Dictionary<string, ParamValue> { ["dropout"] = ParamValue.Of(0.25), ["layers"] = ParamValue.Of(30) });

        var dropout = (FloatParameter)narrowed.Find("dropout")!;
        var layers = (IntParameter)narrowed.Find("layers")!;
        Assert.Equal((0.15, 0.35), (Math.Round(dropout.Low, 3), Math.Round(dropout.High, 3)));
        Assert.Equal((10L, 50L), (layers.Low, layers.High));
    }

    [Fact]
    public void Zoom_WhenTheTopTrialsAllUseAdam_DropsSgdAndTheParameterThatOnlySgdHas()
    {
        TrialResult[] history = [Trial(0.01, "adam", 0.9), Trial(0.02, "adam", 0.8), Trial(0.03, "adam", 0.85), Trial(0.5, "sgd", 0.1)];

        var zoomed = CoarseToFine.Zoom(Space, history, Direction.Maximize);

        Assert.Equal([ParamValue.Of("adam")], ((CategoricalParameter)zoomed.Find("optimizer")!).Choices);
        Assert.Null(zoomed.Find("momentum"));
    }

    [Fact]
    public void Zoom_WithNoValues_ReturnsTheSpaceUnchanged()
    {
        var zoomed = CoarseToFine.Zoom(Space, [new TrialResult(new Dictionary<string, ParamValue>(), null)], Direction.Minimize);

        Assert.Same(Space, zoomed);
    }
}
