using HyperTune.Shared.LearningRate;

namespace HyperTune.Shared.Tests;

public class LrRangeTestTests
{
    private static readonly LrRangeTestSpec Spec = new(1e-6, 10, 200, Auto: false);

    /// <summary>A hand-made range test: flat at 2.3 up to 1e-4, falling in log(lr) to a minimum near 0.3, then exploding.</summary>
    private static List<LrLossPoint> TypicalCurve(double noise = 0)
    {
        var random = new Random(3);
        return [.. Enumerable.Range(0, Spec.Steps).Select(i =>
        {
            var lr = Spec.LrAt(i);
            var x = Math.Log10(lr);
            var loss = x < -4 ? 2.3 : x < -0.5 ? 2.3 - (1.9 * (x + 4) / 3.5) : 0.4 * Math.Exp(3 * (x + 0.5));
            return new LrLossPoint(lr, loss + (noise * (random.NextDouble() - 0.5)));
        })];
    }

    [Fact]
    public void LrAt_GoesExponentiallyFromMinToMax()
    {
        Assert.Equal(1e-6, Spec.LrAt(0), 12);
        Assert.Equal(10, Spec.LrAt(Spec.Steps - 1), 9);
        Assert.Equal(Spec.LrAt(1) / Spec.LrAt(0), Spec.LrAt(101) / Spec.LrAt(100), 9);
    }

    [Fact]
    public void Analyze_TypicalCurve_ProposesTheSteepRegionUpToTheMinimumOverTen()
    {
        var analysis = LrRangeCurve.Analyze(TypicalCurve());

        var proposal = Assert.IsType<LrProposal>(analysis.Proposal);
        // The smoothed minimum lags the raw one (at lr ≈ 0.32) by the moving average; it stays within half a decade.
        Assert.InRange(proposal.LrAtMinLoss, 0.1, 1);
        Assert.InRange(proposal.High, proposal.LrAtMinLoss / 10, proposal.LrAtMinLoss / 10 * 1.1);
        Assert.InRange(proposal.SteepestLr, 1e-4, 0.32);
        Assert.InRange(proposal.Low, 1e-5, proposal.High / 10);
        Assert.Contains("proposed lr [", proposal.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_DivergingCurve_StopsReadingWhereTheLossExplodes()
    {
        var analysis = LrRangeCurve.Analyze(TypicalCurve());

        Assert.InRange(analysis.UsedPoints, 100, Spec.Steps - 1);
        Assert.True(double.IsNaN(analysis.Smoothed[^1]));
    }

    [Fact]
    public void Analyze_NoisyCurve_StillFindsTheSameDecade()
    {
        var clean = LrRangeCurve.Analyze(TypicalCurve()).Proposal!;
        var noisy = LrRangeCurve.Analyze(TypicalCurve(noise: 0.3)).Proposal!;

        Assert.InRange(Math.Abs(Math.Log10(noisy.High) - Math.Log10(clean.High)), 0, 0.5);
    }

    [Fact]
    public void Analyze_FlatCurve_ProposesNothingAndSaysSo()
    {
        var flat = Enumerable.Range(0, 100).Select(i => new LrLossPoint(Spec.LrAt(i), 2.3)).ToList();

        var analysis = LrRangeCurve.Analyze(flat);

        Assert.Null(analysis.Proposal);
        Assert.Contains("never fell", analysis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NaNAtTheThirdStep_IsTooShortToPropose()
    {
        var points = TypicalCurve().Take(2).Append(new LrLossPoint(1e-5, double.NaN)).ToList();

        var analysis = LrRangeCurve.Analyze(points);

        Assert.Null(analysis.Proposal);
        Assert.Equal(2, analysis.UsedPoints);
        Assert.Contains("only 2 usable steps", analysis.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LrRangeTest_FillsDefaultsAndRoundTrips()
    {
        var definition = Specs.ParseValid(Specs.Example.Replace("\"budget\"", "\"lr_range_test\": { \"steps\": 150 }, \"budget\"", StringComparison.Ordinal));

        Assert.Equal(new LrRangeTestSpec(1e-7, 10, 150, false), definition.LrRangeTest);
        Assert.Equal(definition.LrRangeTest, Specs.ParseValid(definition.ToJson()).LrRangeTest);
    }

    [Theory]
    [InlineData("{ \"min_lr\": 1, \"max_lr\": 0.1 }", "lr_range_test.max_lr must be greater than min_lr (1), got 0.1")]
    [InlineData("{ \"steps\": 5 }", "lr_range_test.steps must be an integer in [20, 100000], got 5")]
    [InlineData("{ \"warmup\": 5 }", "lr_range_test.warmup is not an option of lr_range_test (known: min_lr, max_lr, steps, auto)")]
    [InlineData("[]", "lr_range_test must be an object, got array")]
    public void Parse_BadLrRangeTest_NamesTheFieldAndTheValue(string value, string expected)
    {
        var json = Specs.Example.Replace("\"budget\"", $"\"lr_range_test\": {value}, \"budget\"", StringComparison.Ordinal);

        Assert.Equal(expected, Specs.SingleError(json));
    }

    [Fact]
    public void Parse_LrRangeTestWithoutLrInSpace_SaysItNeedsOne()
    {
        var json = Specs.Example
            .Replace("\"lr\": { \"type\": \"float\", \"low\": 0.0001, \"high\": 0.3, \"scale\": \"log\" },", "", StringComparison.Ordinal)
            .Replace("\"budget\"", "\"lr_range_test\": {}, \"budget\"", StringComparison.Ordinal);

        Assert.Equal("lr_range_test needs space.lr: an unconditional float parameter whose bounds the test proposes", Specs.SingleError(json));
    }

    [Fact]
    public void Parse_LrRangeTestOnAnExternalWorkload_NeedsABuiltInOne()
    {
        var json = Specs.Custom("{ \"lr\": { \"type\": \"float\", \"low\": 0.001, \"high\": 0.1, \"scale\": \"log\" } }", ", \"lr_range_test\": {}");

        Assert.StartsWith("lr_range_test needs a built-in workload", Specs.SingleError(json), StringComparison.Ordinal);
    }
}
