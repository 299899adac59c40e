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
    public void Zoom_AroundTheBestOnALogScale_KeepsTheIncumbentAndHalvesTheDecadesAtMost()
    {
        TrialResult[] history = [Trial(0.01, "adam", 0.9), Trial(0.0002, "adam", 0.5), Trial(0.5, "sgd", 0.3), Trial(0.003, "adam", 0.7), Trial(0.05, "sgd", 0.6)];

        var zoomed = (FloatParameter)CoarseToFine.Zoom(Space, history, Direction.Maximize).Find("lr")!;

        Assert.InRange(0.01, zoomed.Low, zoomed.High);
        Assert.True(Math.Log10(zoomed.High / zoomed.Low) < 4, $"[{zoomed.Low}, {zoomed.High}] is not narrower than 4 decades");
        Assert.True(Math.Log10(zoomed.High / zoomed.Low) >= 2 - 1e-9, "a zoom keeps at least half the range");
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
