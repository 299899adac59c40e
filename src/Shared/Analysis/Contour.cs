namespace HyperTune.Shared.Analysis;

/// <summary>A trial placed on two parameter axes (positions in axis units) with its objective value.</summary>
public readonly record struct ContourPoint(int Number, double X, double Y, double Value);

/// <summary>
/// The objective over two parameters: <see cref="Z"/>[row][column] is the value interpolated at
/// (<see cref="GridX"/>[column], <see cref="GridY"/>[row]), all in axis units, and <see cref="Points"/> are the trials it is
/// interpolated from.
/// </summary>
public sealed record ContourData(
    ParameterAxis XAxis,
    ParameterAxis YAxis,
    IReadOnlyList<double> GridX,
    IReadOnlyList<double> GridY,
    IReadOnlyList<IReadOnlyList<double>> Z,
    IReadOnlyList<ContourPoint> Points);

/// <summary>
/// Interpolates the objective on a grid over two parameters, in each axis' own scale (log for log parameters): inverse
/// squared distance over the nearest trials, with both axes stretched to the same length so neither dominates.
/// </summary>
public static class Contour
{
    /// <summary>Grid cells along each axis.</summary>
    public const int DefaultSize = 40;

    /// <summary>How many nearest trials each grid cell is interpolated from.</summary>
    public const int Neighbours = 8;

    /// <summary>
    /// The contour of <paramref name="trials"/> over <paramref name="x"/> and <paramref name="y"/>: trials that ran without
    /// either parameter, or with a value the axis cannot place, or with a non-finite objective, are left out. An empty grid
    /// when no trial is left.
    /// </summary>
    public static ContourData Build(ParameterAxis x, ParameterAxis y, IEnumerable<ScoredTrial> trials, int size = DefaultSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        var points = trials
            .Where(t => double.IsFinite(t.Value) && t.Params.TryGetValue(x.Name, out _) && t.Params.TryGetValue(y.Name, out _))
            .Select(t => new ContourPoint(t.Number, x.Position(t.Params[x.Name]), y.Position(t.Params[y.Name]), t.Value))
            .Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
            .ToList();
        if (points.Count == 0)
        {
            return new ContourData(x, y, [], [], [], points);
        }

        var gridX = Spaced(x.Low, x.High, size);
        var gridY = Spaced(y.Low, y.High, size);
        var (spanX, spanY) = (Span(x), Span(y));
        var px = points.Select(p => p.X / spanX).ToArray();
        var py = points.Select(p => p.Y / spanY).ToArray();
        var k = Math.Min(Neighbours, points.Count);
        var nearest = new (double Distance, int Index)[k];
        var z = new IReadOnlyList<double>[size];
        for (var row = 0; row < size; row++)
        {
            var cells = new double[size];
            for (var column = 0; column < size; column++)
            {
                cells[column] = Interpolate(gridX[column] / spanX, gridY[row] / spanY, px, py, points, nearest);
            }

            z[row] = cells;
        }

        return new ContourData(x, y, gridX, gridY, z, points);
    }

    private static double Interpolate(double cx, double cy, double[] px, double[] py, List<ContourPoint> points, (double Distance, int Index)[] nearest)
    {
        var found = 0;
        for (var i = 0; i < px.Length; i++)
        {
            var d = ((px[i] - cx) * (px[i] - cx)) + ((py[i] - cy) * (py[i] - cy));
            if (found < nearest.Length)
            {
                Insert(nearest, found++, (d, i));
            }
            else if (d < nearest[^1].Distance)
            {
                Insert(nearest, nearest.Length - 1, (d, i));
            }
        }

        if (nearest[0].Distance < 1e-18)
        {
            return points[nearest[0].Index].Value;
        }

        double weighted = 0, weights = 0;
        foreach (var (distance, index) in nearest)
        {
            var w = 1 / distance;
            weighted += w * points[index].Value;
            weights += w;
        }

        return weighted / weights;
    }

    // Puts the entry at `slot` (the end of the sorted part) and moves it down to its place.
    private static void Insert((double Distance, int Index)[] sorted, int slot, (double Distance, int Index) entry)
    {
        while (slot > 0 && sorted[slot - 1].Distance > entry.Distance)
        {
            sorted[slot] = sorted[slot - 1];
            slot--;
        }

        sorted[slot] = entry;
    }

    private static double[] Spaced(double low, double high, int count) =>
        [.. Enumerable.Range(0, count).Select(i => low + ((high - low) * i / (count - 1)))];

    private static double Span(ParameterAxis axis) => axis.High > axis.Low ? axis.High - axis.Low : 1;
}
