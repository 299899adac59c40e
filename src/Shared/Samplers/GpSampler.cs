using HyperTune.Shared.SearchSpaces;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace HyperTune.Shared.Samplers;

/// <summary>
/// Bayesian optimisation with a Gaussian process on the unit box (Matérn 5/2, one length scale per parameter) and
/// expected improvement; the first <c>startupTrials</c> proposals are random.
/// </summary>
/// <remarks>
/// Kernel length scales, signal variance and noise are fitted by maximising the log marginal likelihood (bounded BFGS
/// on log-parameters, from a default and one seeded random start) on standardised values. Expected improvement is
/// maximised over seeded random candidates and candidates around the best trials, then refined by a shrinking local
/// search. Ints and categoricals enter as their unit coordinate (a categorical's choices in the order listed), so the
/// model never branches on a parameter's kind. Failed trials (no value, or a non-finite one) are left out of the fit.
/// Beyond <see cref="MaxFitTrials"/> finished trials the fit conditions on a subset (<see cref="FitSubset"/>), so a
/// proposal's cost stops growing with the study (the fit is cubic in the trials it conditions on).
/// </remarks>
public sealed class GpSampler : ISampler
{
    /// <summary>The most finished trials one fit conditions on.</summary>
    public const int MaxFitTrials = 160;

    private const int RandomCandidates = 512;
    private const int LocalCandidates = 128;
    private const int RefineSteps = 24;

    // Likelihood evaluations per start of the fit: BFGS rarely needs more, but its line searches sometimes spent 300+.
    private const int EvaluationsPerStart = 100;
    private static readonly double MinLogLength = Math.Log(0.02), MaxLogLength = Math.Log(20);
    private static readonly double MinLogSignal = Math.Log(0.05), MaxLogSignal = Math.Log(20);
    private static readonly double MinLogNoise = Math.Log(1e-6), MaxLogNoise = Math.Log(1);

    private readonly RandomSampler _startup;

    /// <param name="seed">Seeds the startup trials, the fit's random start and the candidates.</param>
    /// <param name="startupTrials">Random proposals until this many trials have a value; at least 2 are always random.</param>
    public GpSampler(int seed, int startupTrials = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startupTrials);
        Seed = seed;
        StartupTrials = startupTrials;
        _startup = new RandomSampler(seed);
    }

    public int Seed { get; }

    public int StartupTrials { get; }

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        var finished = UnitHistory.From(context).Where(t => t.Loss is not null).ToList();
        if (context.Space.Parameters.Count == 0 || finished.Count < Math.Max(StartupTrials, 2))
        {
            return _startup.Propose(context);
        }

        var subset = FitSubset([.. finished.Select(t => t.Loss!.Value)], Seed, context.TrialNumber).Select(i => finished[i]).ToList();
        var x = subset.Select(t => t.X).ToArray();
        var losses = subset.Select(t => t.Loss!.Value).ToArray();
        var mean = losses.Average();
        var std = Math.Sqrt(losses.Sum(v => (v - mean) * (v - mean)) / losses.Length);
        var data = new GaussianProcess.Data(x, [.. losses.Select(v => std > 1e-12 ? (v - mean) / std : 0)]);

        var rng = new SplitMix64(Seed, context.TrialNumber);
        var model = Fit(data, ref rng);
        return UnitHistory.ToProposal(context.Space, MaximiseImprovement(model, data, ref rng));
    }

    /// <summary>
    /// Which finished trials (by index into <paramref name="losses"/>, oldest first; smaller is better) a fit conditions on,
    /// ascending: all of them up to <see cref="MaxFitTrials"/>; beyond, the best quarter of that many (so the incumbent
    /// is always in), the newest quarter (so the model knows what it just tried) and a random sample of the others,
    /// seeded by (seed, trial number) so the same history always gives the same subset.
    /// </summary>
    public static int[] FitSubset(IReadOnlyList<double> losses, int seed, int trialNumber)
    {
        var n = losses.Count;
        if (n <= MaxFitTrials)
        {
            return [.. Enumerable.Range(0, n)];
        }

        var chosen = new bool[n];
        foreach (var i in Enumerable.Range(0, n).OrderBy(i => losses[i]).ThenBy(i => i).Take(MaxFitTrials / 4))
        {
            chosen[i] = true;
        }

        for (var i = n - (MaxFitTrials / 4); i < n; i++)
        {
            chosen[i] = true;
        }

        // A partial Fisher-Yates shuffle of the others, on a stream apart from the proposal's own draws.
        var others = Enumerable.Range(0, n).Where(i => !chosen[i]).ToArray();
        var rng = new SplitMix64(seed, -1L - trialNumber);
        var sampled = MaxFitTrials - chosen.Count(c => c);
        for (var k = 0; k < sampled; k++)
        {
            var pick = k + rng.NextInt(others.Length - k);
            (others[k], others[pick]) = (others[pick], others[k]);
            chosen[others[k]] = true;
        }

        return [.. Enumerable.Range(0, n).Where(i => chosen[i])];
    }

    private static double[] MaximiseImprovement(GaussianProcess model, GaussianProcess.Data data, ref SplitMix64 rng)
    {
        var (x, y) = (data.X, data.Y);
        var d = x[0].Length;
        var best = y.Min();
        var buffer = new double[x.Length];
        var incumbents = Enumerable.Range(0, y.Length).OrderBy(i => y[i]).Take(4).Select(i => x[i]).ToArray();
        var candidates = new List<double[]>(RandomCandidates + LocalCandidates);
        for (var k = 0; k < RandomCandidates; k++)
        {
            var c = new double[d];
            for (var j = 0; j < d; j++)
            {
                c[j] = rng.NextDouble();
            }

            candidates.Add(c);
        }

        for (var k = 0; k < LocalCandidates; k++)
        {
            candidates.Add(Perturb(incumbents[k % incumbents.Length], 0.05, ref rng));
        }

        var scored = candidates.Select(c => (X: c, Ei: model.ExpectedImprovement(c, best, buffer))).OrderByDescending(s => s.Ei).Take(3).ToList();
        var winner = scored[0];
        foreach (var start in scored)
        {
            var current = start;
            var scale = 0.05;
            for (var step = 0; step < RefineSteps; step++, scale *= 0.85)
            {
                var next = Perturb(current.X, scale, ref rng);
                var ei = model.ExpectedImprovement(next, best, buffer);
                if (ei > current.Ei)
                {
                    current = (next, ei);
                }
            }

            winner = current.Ei > winner.Ei ? current : winner;
        }

        return winner.X;
    }

    private static double[] Perturb(double[] x, double scale, ref SplitMix64 rng)
    {
        var c = new double[x.Length];
        for (var j = 0; j < x.Length; j++)
        {
            c[j] = Math.Clamp(x[j] + (scale * rng.NextGaussian()), 0, 1);
        }

        return c;
    }

    // Maximises the log marginal likelihood over theta = (log length scales, log signal variance, log noise variance).
    private static GaussianProcess Fit(GaussianProcess.Data data, ref SplitMix64 rng)
    {
        var d = data.Dimensions;
        var lower = Vector<double>.Build.Dense(d + 2, i => i < d ? MinLogLength : i == d ? MinLogSignal : MinLogNoise);
        var upper = Vector<double>.Build.Dense(d + 2, i => i < d ? MaxLogLength : i == d ? MaxLogSignal : MaxLogNoise);
        var starts = new List<Vector<double>>
        {
            Vector<double>.Build.Dense(d + 2, i => i < d ? Math.Log(0.3 * Math.Sqrt(d)) : i == d ? 0 : Math.Log(1e-3)),
        };
        var r = rng;
        starts.Add(Vector<double>.Build.Dense(d + 2, i => lower[i] + ((upper[i] - lower[i]) * (0.2 + (0.6 * r.NextDouble())))));
        rng = r;

        var work = new GaussianProcess.Workspace(data.Count);
        var bestTheta = starts[0].ToArray();
        var bestValue = double.PositiveInfinity;
        var evaluations = 0;
        var objective = ObjectiveFunction.Gradient(theta =>
        {
            if (++evaluations > EvaluationsPerStart)
            {
                throw new BudgetSpent();
            }

            var t = theta.ToArray();
            var gradient = new double[d + 2];
            if (GaussianProcess.NegativeLogLikelihood(data, t, work, gradient) is not { } value)
            {
                return (1e10, Vector<double>.Build.Dense(d + 2));
            }

            if (value < bestValue)
            {
                (bestValue, bestTheta) = (value, t);
            }

            return (value, Vector<double>.Build.Dense(gradient));
        });
        var minimizer = new BfgsBMinimizer(1e-4, 1e-4, 1e-4, maximumIterations: 30);
        foreach (var start in starts)
        {
            evaluations = 0;
            try
            {
                minimizer.FindMinimum(objective, lower, upper, start);
            }
            catch (Exception e) when (e is OptimizationException or BudgetSpent)
            {
                // A failed line search, the iteration cap or the evaluation budget: keep the best parameters any evaluation reached.
            }
        }

        // The best fit always factored; a larger noise is the fallback when no evaluation did.
        return GaussianProcess.Condition(data, bestTheta) ?? GaussianProcess.Condition(data, [.. bestTheta[..^1], Math.Log(1e-2)])!;
    }

    private sealed class BudgetSpent : Exception;
}
