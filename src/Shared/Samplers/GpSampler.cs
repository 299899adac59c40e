using HyperTune.Shared.SearchSpaces;
using MathNet.Numerics.Distributions;
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
/// </remarks>
public sealed class GpSampler : ISampler
{
    private const double Sqrt5 = 2.2360679774997896;
    private const int RandomCandidates = 512;
    private const int LocalCandidates = 128;
    private const int RefineSteps = 24;
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

        var rng = new SplitMix64(Seed, context.TrialNumber);
        var x = finished.Select(t => t.X).ToArray();
        var losses = finished.Select(t => t.Loss!.Value).ToArray();
        var mean = losses.Average();
        var std = Math.Sqrt(losses.Sum(v => (v - mean) * (v - mean)) / losses.Length);
        var y = losses.Select(v => std > 1e-12 ? (v - mean) / std : 0).ToArray();

        var model = Fit(x, y, ref rng);
        var best = y.Min();
        return UnitHistory.ToProposal(context.Space, MaximiseImprovement(model, x, y, best, ref rng));
    }

    private static double[] MaximiseImprovement(Model model, double[][] x, double[] y, double best, ref SplitMix64 rng)
    {
        var d = x[0].Length;
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

        var scored = candidates.Select(c => (X: c, Ei: model.ExpectedImprovement(c, best))).OrderByDescending(s => s.Ei).Take(3).ToList();
        var winner = scored[0];
        foreach (var start in scored)
        {
            var current = start;
            var scale = 0.05;
            for (var step = 0; step < RefineSteps; step++, scale *= 0.85)
            {
                var next = Perturb(current.X, scale, ref rng);
                var ei = model.ExpectedImprovement(next, best);
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
    private static Model Fit(double[][] x, double[] y, ref SplitMix64 rng)
    {
        var d = x[0].Length;
        var lower = Vector<double>.Build.Dense(d + 2, i => i < d ? MinLogLength : i == d ? MinLogSignal : MinLogNoise);
        var upper = Vector<double>.Build.Dense(d + 2, i => i < d ? MaxLogLength : i == d ? MaxLogSignal : MaxLogNoise);
        var starts = new List<Vector<double>>
        {
            Vector<double>.Build.Dense(d + 2, i => i < d ? Math.Log(0.3 * Math.Sqrt(d)) : i == d ? 0 : Math.Log(1e-3)),
        };
        var r = rng;
        starts.Add(Vector<double>.Build.Dense(d + 2, i => lower[i] + ((upper[i] - lower[i]) * (0.2 + (0.6 * r.NextDouble())))));
        rng = r;

        var bestTheta = starts[0];
        var bestValue = double.PositiveInfinity;
        var objective = ObjectiveFunction.Gradient(theta =>
        {
            var (value, gradient) = NegativeLogLikelihood(x, y, theta);
            if (value < bestValue)
            {
                (bestValue, bestTheta) = (value, theta.Clone());
            }

            return (value, gradient);
        });
        var minimizer = new BfgsBMinimizer(1e-4, 1e-4, 1e-4, maximumIterations: 30);
        foreach (var start in starts)
        {
            try
            {
                minimizer.FindMinimum(objective, lower, upper, start);
            }
            catch (OptimizationException)
            {
                // A failed line search or the iteration cap: keep the best parameters any evaluation reached.
            }
        }

        return new Model(x, y, bestTheta.ToArray());
    }

    private static (double Value, Vector<double> Gradient) NegativeLogLikelihood(double[][] x, double[] y, Vector<double> theta)
    {
        var n = y.Length;
        var d = x[0].Length;
        var gradient = Vector<double>.Build.Dense(d + 2);
        if (Model.Factor(x, theta.ToArray()) is not { } cholesky || cholesky.DeterminantLn is var logDet && !double.IsFinite(logDet))
        {
            return (1e10, gradient);
        }

        var yv = Vector<double>.Build.Dense(y);
        var alpha = cholesky.Solve(yv);
        var inverse = cholesky.Solve(Matrix<double>.Build.DenseIdentity(n));
        var value = (0.5 * yv.DotProduct(alpha)) + (0.5 * logDet) + (0.5 * n * Math.Log(2 * Math.PI));

        // d(-LML)/d theta = -0.5 tr((alpha alpha^T - K^-1) dK/d theta).
        var signal = Math.Exp(theta[d]);
        var lengths = Enumerable.Range(0, d).Select(j => Math.Exp(theta[j])).ToArray();
        // Both matrices are symmetric: each pair off the diagonal counts twice.
        for (var i = 0; i < n; i++)
        {
            var wii = (alpha[i] * alpha[i]) - inverse[i, i];
            gradient[d] -= 0.5 * wii * signal;
            gradient[d + 1] -= 0.5 * wii * Math.Exp(theta[d + 1]);
            for (var j = i + 1; j < n; j++)
            {
                var w = (alpha[i] * alpha[j]) - inverse[i, j];
                var r = Model.Distance(x[i], x[j], lengths);
                var e = Math.Exp(-Sqrt5 * r);
                gradient[d] -= w * signal * (1 + (Sqrt5 * r) + (5 * r * r / 3)) * e;
                var common = w * signal * 5.0 / 3.0 * (1 + (Sqrt5 * r)) * e;
                for (var m = 0; m < d; m++)
                {
                    var delta = (x[i][m] - x[j][m]) / lengths[m];
                    gradient[m] -= common * delta * delta;
                }
            }
        }

        return (value, gradient);
    }

    /// <summary>The fitted process: posterior mean and variance at any point of the unit box.</summary>
    private sealed class Model
    {
        private readonly double[][] _x;
        private readonly double[] _lengths;
        private readonly double _signal;
        private readonly double[] _alpha;
        private readonly double[,] _inverse;

        public Model(double[][] x, double[] y, double[] theta)
        {
            var d = x[0].Length;
            _x = x;
            _lengths = theta[..d].Select(Math.Exp).ToArray();
            _signal = Math.Exp(theta[d]);
            // The best fit always factored; a larger noise is the fallback when no evaluation did.
            var cholesky = Factor(x, theta) ?? Factor(x, [.. theta[..^1], Math.Log(1e-2)])!;
            _alpha = cholesky.Solve(Vector<double>.Build.Dense(y)).ToArray();
            _inverse = cholesky.Solve(Matrix<double>.Build.DenseIdentity(y.Length)).ToArray();
        }

        /// <summary>The Cholesky factor of the training covariance, or null when it is not numerically positive definite.</summary>
        public static MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double>? Factor(double[][] x, double[] theta)
        {
            var d = x[0].Length;
            var lengths = theta[..d].Select(Math.Exp).ToArray();
            double signal = Math.Exp(theta[d]), noise = Math.Exp(theta[d + 1]) + 1e-8;
            var k = Matrix<double>.Build.Dense(x.Length, x.Length, (i, j) => (signal * Matern(Distance(x[i], x[j], lengths))) + (i == j ? noise : 0));
            try
            {
                return k.Cholesky();
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        public static double Distance(double[] a, double[] b, double[] lengths)
        {
            var sum = 0.0;
            for (var m = 0; m < a.Length; m++)
            {
                var delta = (a[m] - b[m]) / lengths[m];
                sum += delta * delta;
            }

            return Math.Sqrt(sum);
        }

        /// <summary>Expected improvement below <paramref name="best"/> (losses are minimised).</summary>
        public double ExpectedImprovement(double[] point, double best)
        {
            var n = _x.Length;
            var k = new double[n];
            var mean = 0.0;
            for (var i = 0; i < n; i++)
            {
                k[i] = _signal * Matern(Distance(point, _x[i], _lengths));
                mean += k[i] * _alpha[i];
            }

            var reduction = 0.0;
            for (var i = 0; i < n; i++)
            {
                var row = 0.0;
                for (var j = 0; j < n; j++)
                {
                    row += _inverse[i, j] * k[j];
                }

                reduction += k[i] * row;
            }

            var sigma = Math.Sqrt(Math.Max(_signal - reduction, 1e-12));
            var z = (best - mean) / sigma;
            return ((best - mean) * Normal.CDF(0, 1, z)) + (sigma * Normal.PDF(0, 1, z));
        }

        private static double Matern(double r) => (1 + (Sqrt5 * r) + (5 * r * r / 3)) * Math.Exp(-Sqrt5 * r);
    }
}
