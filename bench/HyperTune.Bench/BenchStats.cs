namespace HyperTune.Bench;

internal static class BenchStats
{
    /// <summary>The median; the mean of the two middle values when the count is even.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }
}
