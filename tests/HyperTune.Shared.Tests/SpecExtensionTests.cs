using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests;

/// <summary>Reverse-log scales, conditional parameters and sampler options in the study spec.</summary>
public sealed class SpecExtensionTests
{
    private const string OptimizerSpace = """
        { "optimizer": { "type": "categorical", "choices": ["sgd", "adam"] },
          "momentum": { "type": "float", "low": 0.5, "high": 0.99, "when": { "optimizer": "sgd" } },
          "beta2": { "type": "float", "low": 0.9, "high": 0.9999, "scale": "reverse_log", "when": { "optimizer": ["adam"] } } }
        """;

    [Fact]
    public void RandomSampler_OnReverseLogScale_SpreadsOneMinusXEvenlyOverDecades()
    {
        var space = Specs.ParseValid(Specs.Custom("""{ "beta": { "type": "float", "low": 0.9, "high": 0.999, "scale": "reverse_log" } }""")).Space;
        var sampler = new RandomSampler(5);

        var draws = Enumerable.Range(0, 20_000).Select(n => sampler.Propose(new SamplerContext(space, n))["beta"].Number).ToList();

        Assert.All(draws, x => Assert.InRange(x, 0.9, 0.999));
        var firstDecade = draws.Count(x => x < 0.99) / (double)draws.Count;
        Assert.InRange(firstDecade, 0.47, 0.53);
    }

    [Fact]
    public void Parse_ReverseLogWithHighOfOne_NamesTheHighBound()
    {
        var errors = Specs.Parse(Specs.Custom("""{ "beta": { "type": "float", "low": 0.9, "high": 1, "scale": "reverse_log" } }""")).Errors;

        var error = Assert.Single(errors);
        Assert.Equal("space.beta.high", error.Path);
        Assert.Contains("must be < 1 for a reverse_log scale", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SearchSpaceActive_WithConditions_KeepsOnlyTheParametersOfTheChosenOptimizer()
    {
        var definition = Specs.ParseValid(Specs.Custom(OptimizerSpace));
        var sampler = new RandomSampler(1);

        var trials = Enumerable.Range(0, 200).Select(n => definition.Space.Active(sampler.Propose(new SamplerContext(definition.Space, n)))).ToList();

        Assert.All(trials, t =>
        {
            var sgd = t["optimizer"].Text == "sgd";
            Assert.Equal(sgd, t.ContainsKey("momentum"));
            Assert.Equal(!sgd, t.ContainsKey("beta2"));
        });
        Assert.Contains(trials, t => t["optimizer"].Text == "sgd");
        Assert.Contains(trials, t => t["optimizer"].Text == "adam");
    }

    [Fact]
    public void ToJson_WithConditionsAndReverseLog_RoundTripsToTheSameSpace()
    {
        var definition = Specs.ParseValid(Specs.Custom(OptimizerSpace));

        var again = Specs.ParseValid(definition.ToJson());

        Assert.Equal(definition.Space.Parameters.Select(p => p.Describe()), again.Space.Parameters.Select(p => p.Describe()));
        Assert.Equal("momentum", again.Space.Parameters[1].Name);
        Assert.Equal("optimizer in [sgd]", again.Space.Parameters[1].When!.ToString());
        Assert.Equal(Scale.ReverseLog, ((FloatParameter)again.Space.Parameters[2]).Scale);
    }

    [Theory]
    [InlineData("""{ "x": { "type": "float", "low": 0, "high": 1, "when": { "nothing": "a" } } }""", "space.x.when.nothing", "names no parameter")]
    [InlineData("""{ "o": { "type": "categorical", "choices": ["a", "b"] }, "x": { "type": "float", "low": 0, "high": 1, "when": { "o": "c" } } }""", "space.x.when.o", "\"c\" is not a value o can take")]
    [InlineData("""{ "o": { "type": "categorical", "choices": ["a"] }, "p": { "type": "categorical", "choices": [1, 2], "when": { "o": "a" } }, "x": { "type": "float", "low": 0, "high": 1, "when": { "p": 1 } } }""", "space.x.when.p", "conditions are one level deep")]
    [InlineData("""{ "x": { "type": "float", "low": 0, "high": 1, "when": "o" } }""", "space.x.when", "must name one parent parameter")]
    [InlineData("""{ "x": { "type": "float", "low": 0, "high": 1, "sclae": "log" } }""", "space.x.sclae", "is not a parameter field")]
    public void Parse_WithBadCondition_NamesTheFieldAndTheValue(string space, string path, string problem)
    {
        var errors = Specs.Parse(Specs.Custom(space)).Errors;

        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_SamplerWithUnknownOption_NamesTheOption()
    {
        var errors = Specs.Parse(Specs.Custom("""{ "x": { "type": "float", "low": 0, "high": 1 } }""", """, "sampler": { "type": "random", "resolution": 4 }""")).Errors;

        var error = Assert.Single(errors);
        Assert.Equal("sampler.resolution", error.Path);
        Assert.Contains("is not an option of random", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PrunerNull_MeansNoEarlyStopping()
    {
        var definition = Specs.ParseValid(Specs.Custom("""{ "x": { "type": "float", "low": 0, "high": 1 } }""", """, "pruner": null"""));

        Assert.Null(definition.Pruner);
    }

    [Fact]
    public void Parse_HyperbandWithoutMaxEpochs_SaysItIsRequired()
    {
        var errors = Specs.Parse(Specs.Custom("""{ "x": { "type": "float", "low": 0, "high": 1 } }""", """, "pruner": { "type": "hyperband" }""")).Errors;

        var error = Assert.Single(errors);
        Assert.Equal("pruner.max_epochs", error.Path);
        Assert.Contains("is required for hyperband", error.Message, StringComparison.Ordinal);
    }
}
