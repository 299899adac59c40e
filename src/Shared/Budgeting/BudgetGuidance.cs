namespace HyperTune.Shared.Budgeting;

/// <summary>How many random trials a search needs: the best of n independent draws lands in the top q of the space with chance 1 − (1 − q)^n.</summary>
public static class BudgetGuidance
{
    /// <summary>Chance that the best of <paramref name="trials"/> random trials is in the top <paramref name="topFraction"/> of the space.</summary>
    public static double Chance(int trials, double topFraction)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trials);
        CheckFraction(topFraction, nameof(topFraction));
        return 1 - Math.Pow(1 - topFraction, trials);
    }

    /// <summary>The fewest random trials whose best lands in the top <paramref name="topFraction"/> with at least <paramref name="chance"/>.</summary>
    public static int TrialsNeeded(double topFraction, double chance)
    {
        CheckFraction(topFraction, nameof(topFraction));
        CheckFraction(chance, nameof(chance));
        return (int)Math.Ceiling(Math.Log(1 - chance) / Math.Log(1 - topFraction) - 1e-9);
    }

    private static void CheckFraction(double value, string name)
    {
        if (!(value > 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in (0, 1), got {value}");
        }
    }
}
