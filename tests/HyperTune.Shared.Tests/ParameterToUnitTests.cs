using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Tests;

public class ParameterToUnitTests
{
    [Fact]
    public void ToUnit_AfterFromUnit_ReturnsTheSameValue()
    {
        foreach (var parameter in SamplerHarness.EveryKind.Parameters)
        {
            foreach (var u in Enumerable.Range(0, 200).Select(k => k / 200.0))
            {
                var value = parameter.FromUnit(u);
                Assert.Equal(value, parameter.FromUnit(parameter.ToUnit(value)));
            }
        }
    }

    [Fact]
    public void ToUnit_LogFloat_IsLinearInTheExponent()
    {
        var lr = new FloatParameter("lr", 1e-4, 1, Scale.Log);

        Assert.Equal(0.5, lr.ToUnit(ParamValue.Of(1e-2)), 12);
    }

    [Fact]
    public void ToUnit_ValueThatCannotBeTheParameters_IsNaN()
    {
        var optimizer = new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam")]);

        Assert.True(double.IsNaN(optimizer.ToUnit(ParamValue.Of("lbfgs"))));
        Assert.True(double.IsNaN(new FloatParameter("x", 0, 1, Scale.Linear).ToUnit(ParamValue.Of("a"))));
        Assert.Equal(0.75, optimizer.ToUnit(ParamValue.Of("adam")));
    }
}
