using System.Text.Json;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Shared.Tests;

public class MetricValueTests
{
    [Theory]
    [InlineData(double.NaN, MetricKind.NaN)]
    [InlineData(double.PositiveInfinity, MetricKind.PositiveInfinity)]
    [InlineData(double.NegativeInfinity, MetricKind.NegativeInfinity)]
    public void Split_NonFiniteValue_StoresItsKindAndNoNumber(double value, MetricKind kind)
    {
        Assert.Equal((kind, (double?)null), MetricValue.Split(value));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(0.0)]
    [InlineData(0.9173)]
    [InlineData(-3.5e-300)]
    [InlineData(double.MaxValue)]
    [InlineData(double.Epsilon)]
    public void Join_AfterSplit_GivesBackTheSameValue(double value)
    {
        var (kind, stored) = MetricValue.Split(value);

        var back = MetricValue.Join(kind, stored);

        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(back));
    }

    [Fact]
    public void Split_FiniteValue_KeepsTheNumberForTheRealColumn()
    {
        Assert.Equal((MetricKind.Finite, (double?)0.25), MetricValue.Split(0.25));
    }
}

public class ObjectiveTests
{
    private static readonly Objective Maximize = new("val_accuracy", Direction.Maximize);
    private static readonly Objective Minimize = new("val_loss", Direction.Minimize);

    [Fact]
    public void IsBetter_Maximize_PrefersTheLargerValue()
    {
        Assert.True(Maximize.IsBetter(0.9, 0.8));
        Assert.False(Maximize.IsBetter(0.7, 0.8));
        Assert.True(Maximize.IsBetter(double.PositiveInfinity, 0.8));
    }

    [Fact]
    public void IsBetter_Minimize_PrefersTheSmallerValue()
    {
        Assert.True(Minimize.IsBetter(0.1, 0.2));
        Assert.False(Minimize.IsBetter(0.3, 0.2));
        Assert.True(Minimize.IsBetter(double.NegativeInfinity, 0.2));
    }

    [Fact]
    public void IsBetter_Tie_KeepsTheIncumbent()
    {
        Assert.False(Maximize.IsBetter(0.8, 0.8));
        Assert.False(Minimize.IsBetter(0.2, 0.2));
    }

    [Fact]
    public void IsBetter_NoIncumbent_AnyNumberWins()
    {
        Assert.True(Maximize.IsBetter(-1e9, null));
        Assert.True(Minimize.IsBetter(1e9, null));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void IsBetter_NaNCandidate_NeverWins(double incumbent)
    {
        Assert.False(Maximize.IsBetter(double.NaN, incumbent));
        Assert.False(Minimize.IsBetter(double.NaN, incumbent));
        Assert.False(Maximize.IsBetter(double.NaN, null));
        Assert.False(Minimize.IsBetter(double.NaN, null));
    }

    [Fact]
    public void IsBetter_NaNIncumbent_LosesToAnyNumber()
    {
        Assert.True(Maximize.IsBetter(-1e9, double.NaN));
        Assert.True(Minimize.IsBetter(1e9, double.NaN));
    }
}

public class ParamValueTests
{
    [Theory]
    [InlineData("0.001", "0.001")]
    [InlineData("\"adam\"", "\"adam\"")]
    [InlineData("true", "true")]
    [InlineData("64", "64")]
    public void Serialize_AfterDeserialize_WritesThePlainJsonScalar(string json, string expected)
    {
        var value = JsonSerializer.Deserialize<ParamValue>(json);

        Assert.Equal(expected, JsonSerializer.Serialize(value));
    }

    [Theory]
    [InlineData("null", "null")]
    [InlineData("[1]", "array")]
    [InlineData("{}", "object")]
    public void FromJson_NotAScalar_NamesThePathAndKind(string json, string kind)
    {
        using var doc = JsonDocument.Parse(json);

        var ex = Assert.Throws<SpecException>(() => ParamValue.FromJson(doc.RootElement, "fixed.x"));

        Assert.Equal("fixed.x", ex.Path);
        Assert.Equal($"fixed.x must be a number, a string or a boolean, got {kind}", ex.Message);
    }

    [Theory]
    [InlineData("{\"x\": {\"a\": 1}}", "value must be a number, a string or a boolean, got object")]
    [InlineData("{\"x\": [1, 2]}", "value must be a number, a string or a boolean, got array")]
    [InlineData("{\"x\": 1e400}", "value must be a finite number, got 1e400")]
    public void Deserialize_DictionaryWithABadValue_SaysWhatItGot(string json, string message)
    {
        var ex = Assert.Throws<SpecException>(() => JsonSerializer.Deserialize<Dictionary<string, ParamValue>>(json));

        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Deserialize_DictionaryOfScalars_ReadsEachKindAndLeavesTheReaderInPlace()
    {
        var values = JsonSerializer.Deserialize<Dictionary<string, ParamValue>>("""{"lr": 1e-3, "optimizer": "adam", "nesterov": false, "layers": 3}""")!;

        Assert.Equal([ParamValue.Of(1e-3), ParamValue.Of("adam"), ParamValue.Of(false), ParamValue.Of(3)], values.Values);
    }

    [Fact]
    public void Equals_SameNumberFromIntAndFloatJson_AreEqual()
    {
        Assert.Equal(JsonSerializer.Deserialize<ParamValue>("64"), JsonSerializer.Deserialize<ParamValue>("64.0"));
        Assert.NotEqual(ParamValue.Of(64), ParamValue.Of("64"));
    }

    [Fact]
    public void ToString_EachKind_ReadsAsInTheSpec()
    {
        Assert.Equal("0.0001", ParamValue.Of(0.0001).ToString());
        Assert.Equal("128", ParamValue.Of(128).ToString());
        Assert.Equal("sgd", ParamValue.Of("sgd").ToString());
        Assert.Equal("false", ParamValue.Of(false).ToString());
    }
}
