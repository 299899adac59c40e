using System.Globalization;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.LearningRate;

/// <summary>One step of an LR range test: the learning rate used and the training loss of that batch.</summary>
public readonly record struct LrLossPoint(double Lr, double Loss);

/// <summary>What an LR range test proposes: lr bounds for the next stage, the landmarks they come from, and why in words.</summary>
public sealed record LrProposal(double Low, double High, double LrAtMinLoss, double SteepestLr, string Sentence);

/// <summary>The analysed curve: each point's smoothed loss, where the analysis stopped, and the proposal (null when the curve shows no descent).</summary>
public sealed record LrRangeAnalysis(IReadOnlyList<double> Smoothed, int UsedPoints, LrProposal? Proposal, string Sentence);

/// <summary>
/// Reads an LR range test's loss curve. The loss is smoothed by an exponential moving average (β = 0.98, bias
/// corrected); the curve ends where it diverges (smoothed loss above 4× its minimum so far, or not finite). The slope of
/// the smoothed loss against log(lr) finds the steepest descent; the steep region is where the slope is at least half
/// the steepest. Proposed bounds: low = the start of the steep region, high = the lr at the loss minimum / 10 (the
/// usual guide), widened to at least one decade.
/// </summary>
public static class LrRangeCurve
{
    public const double Smoothing = 0.98;
    public const double DivergenceFactor = 4;

    /// <summary>Fewer usable points than this give no proposal: the curve cannot be told from noise.</summary>
    public const int MinimumPoints = 10;

    public static LrRangeAnalysis Analyze(IReadOnlyList<LrLossPoint> points)
    {
        var smoothed = new double[points.Count];
        var average = 0.0;
        var best = double.PositiveInfinity;
        var used = 0;
        for (var i = 0; i < points.Count; i++)
        {
            var loss = points[i].Loss;
            if (!double.IsFinite(loss) || !(points[i].Lr > 0))
            {
                smoothed[i] = double.NaN;
                break;
            }

            average = (Smoothing * average) + ((1 - Smoothing) * loss);
            smoothed[i] = average / (1 - Math.Pow(Smoothing, i + 1));
            used = i + 1;
            if (smoothed[i] > DivergenceFactor * best)
            {
                break;
            }

            best = Math.Min(best, smoothed[i]);
        }

        for (var i = used; i < points.Count; i++)
        {
            smoothed[i] = double.NaN;
        }

        if (used < MinimumPoints)
        {
            return new LrRangeAnalysis(smoothed, used, null, $"only {used} usable steps: too few to read a learning-rate range");
        }

        var minIndex = 0;
        for (var i = 1; i < used; i++)
        {
            if (smoothed[i] < smoothed[minIndex])
            {
                minIndex = i;
            }
        }

        // Central differences over a window of about 5 % of the curve, so one noisy batch does not make a slope.
        var window = Math.Max(1, used / 20);
        var slopes = new double[used];
        Array.Fill(slopes, double.NaN);
        for (var i = 0; i <= minIndex; i++)
        {
            int a = Math.Max(0, i - window), b = Math.Min(used - 1, i + window);
            var run = Math.Log(points[b].Lr) - Math.Log(points[a].Lr);
            slopes[i] = run > 0 ? (smoothed[b] - smoothed[a]) / run : double.NaN;
        }

        var steepest = -1;
        for (var i = 0; i <= minIndex; i++)
        {
            if (double.IsFinite(slopes[i]) && slopes[i] < 0 && (steepest < 0 || slopes[i] < slopes[steepest]))
            {
                steepest = i;
            }
        }

        if (steepest < 0 || minIndex == 0)
        {
            return new LrRangeAnalysis(smoothed, used, null,
                string.Create(CultureInfo.InvariantCulture, $"the loss never fell between lr {points[0].Lr:G3} and {points[used - 1].Lr:G3}: no range to propose"));
        }

        var left = steepest;
        while (left > 0 && slopes[left - 1] <= slopes[steepest] / 2)
        {
            left--;
        }

        var lrAtMin = points[minIndex].Lr;
        var steepLr = points[steepest].Lr;
        // Bounds people read and edit: two significant digits, rounded outward.
        var high = ReadableBounds.Up(lrAtMin / 10, 2);
        var low = ReadableBounds.Down(Math.Min(points[left].Lr, high / 10), 2);
        var sentence = string.Create(CultureInfo.InvariantCulture,
            $"lr range test: loss fell fastest at lr {steepLr:G3} and was lowest at lr {lrAtMin:G3}; proposed lr [{low:G3}, {high:G3}] (log)");
        return new LrRangeAnalysis(smoothed, used, new LrProposal(low, high, lrAtMin, steepLr, sentence), sentence);
    }
}
