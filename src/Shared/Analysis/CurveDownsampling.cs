namespace HyperTune.Shared.Analysis;

/// <summary>
/// Thins a long curve for drawing: the x range is cut into buckets and each keeps its lowest and highest point (in x
/// order), so spikes, dips and divergence stay visible while a 10,000-step curve costs a browser a few hundred points.
/// </summary>
public static class CurveDownsampling
{
    /// <summary>
    /// At most <paramref name="maxPoints"/> of <paramref name="points"/> (which must be in x order), always the first and
    /// the last; a curve that already fits comes back as it is. Non-finite y values count as extremes, so a NaN gap survives.
    /// </summary>
    public static IReadOnlyList<(double X, double Y)> MinMax(IReadOnlyList<(double X, double Y)> points, int maxPoints)
    {
        if (maxPoints < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, "maxPoints must be at least 4 (first, last and one bucket's low and high)");
        }

        if (points.Count <= maxPoints)
        {
            return points;
        }

        var buckets = (maxPoints - 2) / 2;
        var kept = new List<(double X, double Y)>(maxPoints) { points[0] };
        var inner = points.Count - 2;
        for (var b = 0; b < buckets; b++)
        {
            var from = 1 + (int)((long)b * inner / buckets);
            var to = 1 + (int)((long)(b + 1) * inner / buckets);
            if (from >= to)
            {
                continue;
            }

            int low = from, high = from;
            for (var i = from; i < to; i++)
            {
                if (!double.IsFinite(points[i].Y))
                {
                    // A gap or a divergence is what a person must see: it replaces the bucket's low.
                    low = i;
                    break;
                }

                if (points[i].Y < points[low].Y)
                {
                    low = i;
                }

                if (points[i].Y > points[high].Y)
                {
                    high = i;
                }
            }

            kept.Add(points[Math.Min(low, high)]);
            if (low != high)
            {
                kept.Add(points[Math.Max(low, high)]);
            }
        }

        kept.Add(points[^1]);
        return kept;
    }
}
