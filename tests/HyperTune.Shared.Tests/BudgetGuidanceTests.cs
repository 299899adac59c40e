using HyperTune.Shared.Budgeting;

namespace HyperTune.Shared.Tests;

public sealed class BudgetGuidanceTests
{
    [Fact]
    public void Chance_SixtyTrialsTopFivePercent_IsAbout95Percent() =>
        Assert.Equal(0.954, BudgetGuidance.Chance(60, 0.05), 3);

    [Fact]
    public void TrialsNeeded_95PercentForTopFivePercent_Is59()
    {
        Assert.Equal(59, BudgetGuidance.TrialsNeeded(0.05, 0.95));
        Assert.True(BudgetGuidance.Chance(59, 0.05) >= 0.95);
        Assert.True(BudgetGuidance.Chance(58, 0.05) < 0.95);
    }

    [Fact]
    public void TrialsNeeded_FractionOutOfRange_NamesTheArgumentAndValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => BudgetGuidance.TrialsNeeded(1.5, 0.9));

        Assert.Contains("topFraction must be in (0, 1), got 1.5", error.Message, StringComparison.Ordinal);
    }
}
