namespace HyperTune.Shared.Analysis;

/// <summary>
/// One regression tree over the unit cube, as split nodes (a negative child is the leaf ~child; values at or below the
/// threshold go left) and leaf values, with the fANOVA decomposition of its prediction's variance (Hutter et al. 2014).
/// </summary>
internal sealed class TreeVariance
{
    private readonly List<(double[] Low, double[] High, double Value)> leaves = [];
    private readonly List<double>[] cuts;

    public TreeVariance(int features, IReadOnlyList<int> left, IReadOnlyList<int> right, IReadOnlyList<int> feature,
        IReadOnlyList<float> threshold, IReadOnlyList<double> leafValues)
    {
        cuts = [.. Enumerable.Range(0, features).Select(_ => new List<double> { 0.0, 1.0 })];
        if (left.Count == 0)
        {
            leaves.Add((Filled(features, 0), Filled(features, 1), leafValues[0]));
        }
        else
        {
            Walk(0, Filled(features, 0), Filled(features, 1), left, right, feature, threshold, leafValues);
        }

        foreach (var list in cuts)
        {
            list.Sort();
        }

        Mean = leaves.Sum(l => Volume(l.Low, l.High, -1) * l.Value);
        Total = leaves.Sum(l => Volume(l.Low, l.High, -1) * Math.Pow(l.Value - Mean, 2));
    }

    /// <summary>The tree's mean prediction over the unit cube.</summary>
    public double Mean { get; }

    /// <summary>The variance of the tree's prediction over the unit cube.</summary>
    public double Total { get; }

    /// <summary>
    /// The variance of the marginal prediction along feature <paramref name="j"/> (the others averaged out): the part of
    /// <see cref="Total"/> that feature explains alone.
    /// </summary>
    public double MainEffect(int j)
    {
        var variance = 0.0;
        var edges = cuts[j];
        for (var k = 0; k + 1 < edges.Count; k++)
        {
            var width = edges[k + 1] - edges[k];
            if (width <= 0)
            {
                continue;
            }

            // The leaves' boxes are bounded by the cuts, so the interval's middle tells which leaves cover it.
            var middle = (edges[k] + edges[k + 1]) / 2;
            var marginal = 0.0;
            foreach (var (low, high, value) in leaves)
            {
                if (low[j] <= middle && middle < high[j])
                {
                    marginal += value * Volume(low, high, j);
                }
            }

            variance += width * Math.Pow(marginal - Mean, 2);
        }

        return variance;
    }

    private void Walk(int node, double[] low, double[] high, IReadOnlyList<int> left, IReadOnlyList<int> right,
        IReadOnlyList<int> feature, IReadOnlyList<float> threshold, IReadOnlyList<double> leafValues)
    {
        var f = feature[node];
        var t = Math.Clamp((double)threshold[node], low[f], high[f]);
        cuts[f].Add(t);
        var (leftHigh, rightLow) = ((double[])high.Clone(), (double[])low.Clone());
        leftHigh[f] = t;
        rightLow[f] = t;
        Visit(left[node], low, leftHigh);
        Visit(right[node], rightLow, high);

        void Visit(int child, double[] childLow, double[] childHigh)
        {
            if (child < 0)
            {
                leaves.Add((childLow, childHigh, leafValues[~child]));
            }
            else
            {
                Walk(child, childLow, childHigh, left, right, feature, threshold, leafValues);
            }
        }
    }

    // The box's volume, leaving out dimension `except` (-1: none).
    private static double Volume(double[] low, double[] high, int except)
    {
        var volume = 1.0;
        for (var i = 0; i < low.Length; i++)
        {
            if (i != except)
            {
                volume *= high[i] - low[i];
            }
        }

        return volume;
    }

    private static double[] Filled(int count, double value) => Enumerable.Repeat(value, count).ToArray();
}
