using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests;

public class StudySpecParserTests
{
    [Fact]
    public void Parse_IssueExample_ReadsEveryField()
    {
        var study = Specs.ParseValid(Specs.Example);

        Assert.Equal("fmnist-random", study.Name);
        Assert.Equal("fashion-mnist-cnn", study.Workload);
        Assert.Equal(new Objective("val_accuracy", Direction.Maximize), study.Objective);
        Assert.Equal(new SamplerSpec("random", 42), study.Sampler);
        Assert.Equal(new Budget(8, 2), study.Budget);
        Assert.Equal(ParamValue.Of(3), study.Fixed["epochs"]);
        Assert.Equal(ParamValue.Of(6000), study.Fixed["train_samples"]);
        Assert.Equal(["lr", "momentum", "batch_size", "dropout"], study.Space.Parameters.Select(p => p.Name));
        Assert.Equal(new FloatParameter("lr", 0.0001, 0.3, Scale.Log), study.Space.Find("lr"));
        Assert.Equal(new FloatParameter("momentum", 0.5, 0.99, Scale.Linear), study.Space.Find("momentum"));
        Assert.Equal(new FloatParameter("dropout", 0, 0.5, Scale.Linear), study.Space.Find("dropout"));
        var batch = Assert.IsType<CategoricalParameter>(study.Space.Find("batch_size"));
        Assert.Equal([ParamValue.Of(32), ParamValue.Of(64), ParamValue.Of(128)], batch.Choices);
    }

    [Fact]
    public void ToJson_IssueExample_ParsesBackToAnEqualDefinition()
    {
        var study = Specs.ParseValid(Specs.Example);

        var again = Specs.ParseValid(study.ToJson(), fallbackSeed: 999);

        AssertEquivalent(study, again);
        Assert.Equal(study.ToJson(), again.ToJson());
    }

    [Fact]
    public void ToJson_IntAndTextChoices_ParsesBackToAnEqualDefinition()
    {
        var study = Specs.ParseValid(Specs.Custom("""
            { "units": { "type": "int", "low": 16, "high": 512, "scale": "log", "step": 16 },
              "layers": { "type": "int", "low": 1, "high": 4 },
              "act": { "type": "categorical", "choices": ["relu", "gelu"] },
              "bn": { "type": "categorical", "choices": [true, false] } }
            """, extra: """, "fixed": { "opt": "adam", "amp": true, "wd": 0.0005 }"""));

        var again = Specs.ParseValid(study.ToJson());

        AssertEquivalent(study, again);
    }

    [Fact]
    public void Parse_NoSampler_DefaultsToRandomWithTheFallbackSeedThatToJsonKeeps()
    {
        var study = Specs.ParseValid(Specs.Custom("{}"), fallbackSeed: 1234);

        Assert.Equal(new SamplerSpec("random", 1234), study.Sampler);
        Assert.Equal(1234, Specs.ParseValid(study.ToJson(), fallbackSeed: 1).Sampler.Seed);
    }

    [Fact]
    public void Parse_NoParallelNoScaleNoStep_DefaultsToOneLinearAndStepOne()
    {
        var study = Specs.ParseValid(Specs.Custom("""{ "n": { "type": "int", "low": 1, "high": 9 } }"""));

        Assert.Equal(1, study.Budget.Parallel);
        Assert.Equal(new IntParameter("n", 1, 9, Scale.Linear, 1), study.Space.Find("n"));
    }

    [Fact]
    public void Parse_LogScaleWithLowZero_NamesFieldAndValue()
    {
        var error = Specs.SingleError(Specs.Custom("""{ "lr": { "type": "float", "low": 0, "high": 1, "scale": "log" } }"""));

        Assert.Equal("space.lr.low must be > 0 for a log scale, got 0", error);
    }

    [Fact]
    public void Parse_MissingName_SaysNameIsRequired()
    {
        var json = Specs.Example.Replace("\"name\": \"fmnist-random\",", "", StringComparison.Ordinal);

        Assert.Equal("name is required", Specs.SingleError(json));
    }

    [Fact]
    public void Parse_BadDirection_NamesFieldAndValue()
    {
        var json = Specs.Example.Replace("\"maximize\"", "\"up\"", StringComparison.Ordinal);

        var error = Specs.SingleError(json);

        Assert.StartsWith("objective.direction ", error, StringComparison.Ordinal);
        Assert.Contains("\"up\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownSamplerType_NamesFieldAndValue()
    {
        var json = Specs.Example.Replace("\"type\": \"random\"", "\"type\": \"cma-es\"", StringComparison.Ordinal);

        var error = Specs.SingleError(json);

        Assert.StartsWith("sampler.type ", error, StringComparison.Ordinal);
        Assert.Contains("\"cma-es\"", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("float", "0.5", "0.5")]
    [InlineData("float", "0.5", "0.1")]
    [InlineData("int", "10", "3")]
    public void Parse_HighNotAboveLow_NamesHighAndBothValues(string type, string low, string high)
    {
        var error = Specs.SingleError(Specs.Custom($$"""{ "x": { "type": "{{type}}", "low": {{low}}, "high": {{high}} } }"""));

        Assert.Equal($"space.x.high must be > low ({low}), got {high}", error);
    }

    [Fact]
    public void Parse_CategoricalWithMixedKinds_NamesTheOddChoice()
    {
        var error = Specs.SingleError(Specs.Custom("""{ "act": { "type": "categorical", "choices": [1, 2, "three"] } }"""));

        Assert.StartsWith("space.act.choices[2] ", error, StringComparison.Ordinal);
        Assert.Contains("\"three\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FixedKeyAlsoInSpace_NamesTheFixedKey()
    {
        var json = Specs.Example.Replace("\"epochs\": 3", "\"epochs\": 3, \"lr\": 0.01", StringComparison.Ordinal);

        var error = Specs.SingleError(json);

        Assert.StartsWith("fixed.lr ", error, StringComparison.Ordinal);
        Assert.Contains("space", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SpaceOutsideBuiltInWorkloadRange_NamesParameterAndValue()
    {
        var json = Specs.Example.Replace("\"high\": 0.3", "\"high\": 100", StringComparison.Ordinal);

        var error = Specs.SingleError(json);

        Assert.StartsWith("space.lr ", error, StringComparison.Ordinal);
        Assert.Contains("got 100", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FixedValueOutsideBuiltInWorkloadRange_NamesKeyAndValue()
    {
        var json = Specs.Example.Replace("\"epochs\": 3", "\"epochs\": 0", StringComparison.Ordinal);

        Assert.Equal("fixed.epochs must be an integer in [1, 1000], got 0", Specs.SingleError(json));
    }

    [Fact]
    public void Parse_ParameterTheBuiltInWorkloadDoesNotKnow_ListsTheKnownOnes()
    {
        var json = Specs.Example.Replace("\"epochs\": 3", "\"epochs\": 3, \"warmup\": 2", StringComparison.Ordinal);

        var error = Specs.SingleError(json);

        Assert.StartsWith("fixed.warmup is not a parameter of fashion-mnist-cnn", error, StringComparison.Ordinal);
        Assert.Contains("lr", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MalformedJson_ReportsAtTheRoot()
    {
        var result = Specs.Parse("{ \"name\": ");

        var error = Assert.Single(result.Errors);
        Assert.Equal("$", error.Path);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_JsonArray_ReportsAtTheRoot()
    {
        var error = Assert.Single(Specs.Parse("[1, 2]").Errors);

        Assert.Equal(new FieldError("$", "must be a JSON object, got array"), error);
    }

    [Fact]
    public void Parse_SeveralMistakes_ReportsThemAllAtOnce()
    {
        var result = Specs.Parse("""
            { "workload": "fashion-mnist-cnn",
              "objective": { "metric": "val_accuracy", "direction": "sideways" },
              "sampler": { "type": "cma-es" },
              "budget": { "trials": 0 },
              "space": { "lr": { "type": "float", "low": 0, "high": 0.1, "scale": "log" },
                         "batch_size": { "type": "categorical", "choices": [] } },
              "colour": "blue" }
            """);

        Assert.False(result.IsValid);
        Assert.Null(result.Definition);
        Assert.Equal(
            ["budget.trials", "colour", "name", "objective.direction", "sampler.type", "space.batch_size.choices", "space.lr.low"],
            result.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{ "x": { "type": "float", "low": 1e400, "high": 2 } }""", "space.x.low")]
    [InlineData("""{ "x": { "type": "float", "low": 0, "high": 1, "step": 0.1 } }""", "space.x.step")]
    [InlineData("""{ "x": { "type": "int", "low": 0, "high": 10, "step": 0 } }""", "space.x.step")]
    [InlineData("""{ "x": { "type": "int", "low": 0.5, "high": 10 } }""", "space.x.low")]
    [InlineData("""{ "x": { "type": "float", "low": 0, "high": 1, "scale": "exp" } }""", "space.x.scale")]
    [InlineData("""{ "x": { "type": "bool" } }""", "space.x.type")]
    [InlineData("""{ "x": { "low": 0, "high": 1 } }""", "space.x.type")]
    [InlineData("""{ "x": 3 }""", "space.x")]
    [InlineData("""{ "x": { "type": "categorical", "choices": [1, 1] } }""", "space.x.choices[1]")]
    [InlineData("""{ "x": { "type": "categorical", "choices": [[1]] } }""", "space.x.choices[0]")]
    [InlineData("""{ "bad name": { "type": "float", "low": 0, "high": 1 } }""", "space.bad name")]
    public void Parse_BadParameter_NamesTheField(string space, string path)
    {
        var error = Assert.Single(Specs.Parse(Specs.Custom(space)).Errors);

        Assert.Equal(path, error.Path);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    public void Parse_FixedNumberTooLargeForADouble_RejectsIt(string number)
    {
        var error = Specs.SingleError(Specs.Custom("{}", extra: $$""", "fixed": { "scale": {{number}} }"""));

        Assert.Equal($"fixed.scale must be a finite number, got {number}", error);
    }

    [Fact]
    public void Parse_ChoiceTooLargeForADouble_RejectsIt()
    {
        var error = Specs.SingleError(Specs.Custom("""{ "x": { "type": "categorical", "choices": [1, 1e400] } }"""));

        Assert.Equal("space.x.choices[1] must be a finite number, got 1e400", error);
    }

    [Theory]
    [InlineData("""{ "trials": 8, "parallel": 0 }""", "budget.parallel")]
    [InlineData("""{ "trials": 100001 }""", "budget.trials")]
    [InlineData("""{ "trials": 2.5 }""", "budget.trials")]
    [InlineData("""{ "parallel": 2 }""", "budget.trials")]
    public void Parse_BadBudget_NamesTheField(string budget, string path)
    {
        var json = Specs.Example.Replace("""{ "trials": 8, "parallel": 2 }""", budget, StringComparison.Ordinal);

        Assert.StartsWith(path + " ", Specs.SingleError(json), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("101")]
    [InlineData("\"two\"")]
    public void Parse_BadMaxRetries_NamesTheFieldAndTheValue(string value)
    {
        var json = Specs.Example.Replace("""{ "trials": 8, "parallel": 2 }""", $$"""{ "trials": 8, "parallel": 2, "max_retries": {{value}} }""", StringComparison.Ordinal);

        Assert.Equal($"budget.max_retries must be an integer between 0 and 100, got {value}", Specs.SingleError(json));
    }

    [Fact]
    public void Parse_MaxRetriesGivenOrNot_KeepsItOrTakesTheDefaultAndWritesItBackOnlyWhenGiven()
    {
        var given = Specs.ParseValid(Specs.Example.Replace("""{ "trials": 8, "parallel": 2 }""", """{ "trials": 8, "parallel": 2, "max_retries": 5 }""", StringComparison.Ordinal));
        var omitted = Specs.ParseValid(Specs.Example);

        Assert.Equal(new Budget(8, 2, 5), given.Budget);
        Assert.Equal(Budget.DefaultMaxRetries, omitted.Budget.MaxRetries);
        Assert.Equal(given.Budget, Specs.ParseValid(given.ToJson()).Budget);
        Assert.DoesNotContain("max_retries", omitted.ToJson(), StringComparison.Ordinal);
    }

    private static void AssertEquivalent(StudyDefinition expected, StudyDefinition actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Workload, actual.Workload);
        Assert.Equal(expected.Objective, actual.Objective);
        Assert.Equal(expected.Sampler, actual.Sampler);
        Assert.Equal(expected.Budget, actual.Budget);
        Assert.Equal(expected.Fixed.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Fixed.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Space.Parameters.Count, actual.Space.Parameters.Count);
        foreach (var (e, a) in expected.Space.Parameters.Zip(actual.Space.Parameters))
        {
            // Records compare lists by reference, so categorical choices are compared item by item.
            if (e is CategoricalParameter ec)
            {
                var ac = Assert.IsType<CategoricalParameter>(a);
                Assert.Equal(ec.Name, ac.Name);
                Assert.Equal(ec.Choices, ac.Choices);
            }
            else
            {
                Assert.Equal(e, a);
            }
        }
    }
}
