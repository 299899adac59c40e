using HyperTune.Shared.Analysis;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Tests.Analysis;

public sealed class ParameterAxisTests
{
    private static ParameterAxis Axis(Parameter p, params ParamValue[] observed) =>
        ParameterAxis.For(p, observed.Select(v => (IReadOnlyDictionary<string, ParamValue>)new Dictionary<string, ParamValue> { [p.Name] = v }));

    [Fact]
    public void For_LogFloat_PlacesValuesAtLog10WithDecadeTicksThatReadAsValues()
    {
        var axis = Axis(new FloatParameter("lr", 1e-5, 0.3, Scale.Log));

        Assert.Equal(AxisKind.Log, axis.Kind);
        Assert.Equal(-3, axis.Position(ParamValue.Of(0.001)), 12);
        Assert.Equal(Math.Log10(1e-5), axis.Low, 12);
        Assert.Equal(Math.Log10(0.3), axis.High, 12);
        Assert.Equal(["1e-5", "0.0001", "0.001", "0.01", "0.1"], axis.Ticks.Select(t => t.Label));
        Assert.Equal([-5.0, -4, -3, -2, -1], axis.Ticks.Select(t => Math.Round(t.Position, 9)));
        Assert.Equal("lr (log)", axis.Title);
        Assert.Equal(0.001, axis.ValueAt(-3), 12);
    }

    [Fact]
    public void For_LogSpanningOneDecade_AddsTwosAndFives()
    {
        var axis = Axis(new FloatParameter("lr", 0.001, 0.01, Scale.Log));

        Assert.Equal(["0.001", "0.002", "0.005", "0.01"], axis.Ticks.Select(t => t.Label));
    }

    [Fact]
    public void For_ReverseLog_TicksReadAsNinesInIncreasingOrder()
    {
        var axis = Axis(new FloatParameter("momentum", 0.9, 0.999, Scale.ReverseLog));

        Assert.Equal(1, axis.Position(ParamValue.Of(0.9)), 9);
        Assert.Equal(3, axis.Position(ParamValue.Of(0.999)), 9);
        Assert.Equal(["0.9", "0.95", "0.98", "0.99", "0.995", "0.998", "0.999"], axis.Ticks.Select(t => t.Label));
        Assert.True(axis.Ticks.Zip(axis.Ticks.Skip(1)).All(pair => pair.First.Position < pair.Second.Position));
        Assert.Equal(0.99, axis.ValueAt(2), 12);
    }

    [Fact]
    public void For_Categorical_PlacesChoicesAtTheirIndexLabelledByTheChoice()
    {
        var axis = Axis(new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam")]));

        Assert.Equal(1, axis.Position(ParamValue.Of("adam")));
        Assert.True(double.IsNaN(axis.Position(ParamValue.Of("lbfgs"))));
        Assert.Equal([new AxisTick(0, "sgd"), new AxisTick(1, "adam")], axis.Ticks);
        Assert.Equal((0.0, 1.0), (axis.Low, axis.High));
    }

    [Fact]
    public void For_LinearInt_HasRoundTicksInsideItsBounds()
    {
        var axis = Axis(new IntParameter("layers", 1, 6, Scale.Linear));

        Assert.Equal(["1", "2", "3", "4", "5", "6"], axis.Ticks.Select(t => t.Label));
        Assert.Equal(4, axis.Position(ParamValue.Of(4)));
    }

    [Fact]
    public void For_ValueOutsideTheBounds_WidensTheRange()
    {
        var axis = Axis(new FloatParameter("dropout", 0, 0.5, Scale.Linear), ParamValue.Of(0.7), ParamValue.Of(0.2));

        Assert.Equal((0.0, 0.7), (axis.Low, axis.High));
    }

    [Fact]
    public void For_ConditionalParameter_HasAnInactiveSlotBelowItsValues()
    {
        var momentum = new FloatParameter("momentum", 0.5, 0.9, Scale.Linear) { When = new Condition("optimizer", [ParamValue.Of("sgd")]) };

        var axis = Axis(momentum);

        Assert.NotNull(axis.InactivePosition);
        Assert.True(axis.InactivePosition < axis.Low);
        Assert.Equal(axis.InactivePosition, axis.Min);
        Assert.Equal(new AxisTick(axis.InactivePosition!.Value, ParameterAxis.InactiveLabel), axis.Ticks[0]);
        Assert.Equal(axis.InactivePosition!.Value, axis.Position(new Dictionary<string, ParamValue> { ["optimizer"] = ParamValue.Of("adam") }));
        Assert.Equal(0.7, axis.Position(new Dictionary<string, ParamValue> { ["momentum"] = ParamValue.Of(0.7) }), 12);
    }

    [Fact]
    public void Position_UnconditionalParameterMissing_IsNaN() =>
        Assert.True(double.IsNaN(Axis(new FloatParameter("x", 0, 1, Scale.Linear)).Position(new Dictionary<string, ParamValue>())));

    [Theory]
    [InlineData(0.003, "0.003")]
    [InlineData(0.99900000000000011, "0.999")]
    [InlineData(250, "250")]
    [InlineData(1e-5, "1e-5")]
    [InlineData(2.5e-7, "2.5e-7")]
    [InlineData(3e6, "3e+6")]
    [InlineData(-0.25, "-0.25")]
    public void Readable_Value_IsWrittenAsAPersonWould(double value, string expected) =>
        Assert.Equal(expected, ParameterAxis.Readable(value));
}
