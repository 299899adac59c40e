using HyperTune.Agent.Workloads.FashionMnist;

namespace HyperTune.Agent.Tests;

public sealed class FashionMnistScheduleTests
{
    private const int Batches = 4;

    /// <summary>Every batch's rate over the trial, epoch by epoch.</summary>
    private static double[] Rates(FashionMnistSchedule kind, int epochs, int warmupEpochs, double lr = 0.5)
    {
        var schedule = new LearningRateSchedule(kind, lr, epochs, warmupEpochs, Batches);
        return [.. Enumerable.Range(0, epochs).SelectMany(e => Enumerable.Range(0, Batches).Select(b => schedule.At(e, b)))];
    }

    private static void AssertClose(IEnumerable<double> expected, double[] actual) =>
        Assert.All(expected.Zip(actual, (e, a) => (e, a)).Select((pair, step) => (pair.e, pair.a, step)),
            x => Assert.True(Math.Abs(x.e - x.a) < 1e-12, $"step {x.step}: expected {x.e}, got {x.a}"));

    [Fact]
    public void At_Constant_IsLrEveryBatchAndDoesNotVary()
    {
        Assert.All(Rates(FashionMnistSchedule.Constant, 3, 0), lr => Assert.Equal(0.5, lr));
        Assert.False(new LearningRateSchedule(FashionMnistSchedule.Constant, 0.5, 3, 0, Batches).Varies);
        Assert.True(new LearningRateSchedule(FashionMnistSchedule.Constant, 0.5, 3, 1, Batches).Varies);
    }

    [Fact]
    public void At_Step_DividesByTenEveryThirdOfTheEpochsPerEpoch()
    {
        // 7 epochs: a step every ⌈7/3⌉ = 3 epochs, so epochs 0-2 at lr, 3-5 at lr/10, 6 at lr/100.
        var expected = new[] { 1, 1, 1, 0.1, 0.1, 0.1, 0.01 }.SelectMany(f => Enumerable.Repeat(0.5 * f, Batches));

        AssertClose(expected, Rates(FashionMnistSchedule.Step, 7, 0));
    }

    [Fact]
    public void At_Exponential_ShrinksByTheSameFactorEachEpochTowardsAHundredth()
    {
        var expected = Enumerable.Range(0, 5).SelectMany(e => Enumerable.Repeat(0.5 * Math.Pow(0.01, e / 5.0), Batches));

        AssertClose(expected, Rates(FashionMnistSchedule.Exponential, 5, 0));
    }

    [Fact]
    public void At_Cosine_FallsPerBatchFromLrTowardsZero()
    {
        const int steps = 3 * Batches;
        var expected = Enumerable.Range(0, steps).Select(t => 0.5 * 0.5 * (1 + Math.Cos(Math.PI * t / steps)));

        var rates = Rates(FashionMnistSchedule.Cosine, 3, 0);

        AssertClose(expected, rates);
        Assert.Equal(0.5, rates[0]);
        Assert.InRange(rates[^1], 0, 0.5 * 0.02);
    }

    [Fact]
    public void At_OneCycle_RisesFromLrOver25ToLrThenFallsToLrOver250000()
    {
        // 5 epochs × 4 batches = 20 steps; the peak is at step round(0.3 × 20) = 6, the end at step 19 (13 steps down).
        var rates = Rates(FashionMnistSchedule.OneCycle, 5, 0);

        Assert.Equal(0.5 / 25, rates[0], 12);
        Assert.Equal(0.5, rates[6], 12);
        Assert.Equal(0.5 / 250_000, rates[19], 12);
        Assert.Equal(0.5 / 25 + ((0.5 - (0.5 / 25)) * 0.5 * (1 - Math.Cos(Math.PI * 3 / 6))), rates[3], 12);
        Assert.Equal(0.5 / 250_000 + ((0.5 - (0.5 / 250_000)) * 0.5 * (1 + Math.Cos(Math.PI * 6 / 13))), rates[12], 12);
        Assert.True(rates.Take(7).Zip(rates.Skip(1).Take(6)).All(p => p.First < p.Second), "onecycle does not rise to its peak");
        Assert.True(rates.Skip(6).Zip(rates.Skip(7)).All(p => p.First > p.Second), "onecycle does not fall after its peak");
    }

    [Theory]
    [InlineData(FashionMnistSchedule.Constant)]
    [InlineData(FashionMnistSchedule.Cosine)]
    [InlineData(FashionMnistSchedule.Step)]
    public void At_WarmupEpochs_RampLinearlyPerBatchThenTheScheduleStartsAtLr(FashionMnistSchedule kind)
    {
        var rates = Rates(kind, 4, 1);

        AssertClose([0.125, 0.25, 0.375, 0.5], rates[..Batches]);
        AssertClose(Rates(kind, 3, 0), rates[Batches..]);
    }

    [Fact]
    public void At_WarmupLongerThanTheTrial_RampsOverTheWholeTrial()
    {
        var rates = Rates(FashionMnistSchedule.Cosine, 2, 5);

        AssertClose(Enumerable.Range(1, 2 * Batches).Select(s => 0.5 * s / (2 * Batches)), rates);
    }
}
