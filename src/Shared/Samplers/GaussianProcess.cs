using System.Runtime.InteropServices;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using Simd = System.Numerics.Vector;
using SimdLane = System.Numerics.Vector<double>;

namespace HyperTune.Shared.Samplers;

/// <summary>
/// A zero-mean Gaussian process on the unit box with a Matérn 5/2 kernel (one length scale per coordinate), signal
/// variance and noise: its negative log marginal likelihood with gradient (to fit theta), and its posterior (to score points).
/// </summary>
/// <remarks>
/// theta = (log length scales…, log signal variance, log noise variance). MathNet.Numerics factors and solves; its
/// dense matrices wrap column-major arrays that one fit reuses across its evaluations (one Cholesky object refactored
/// in place), and the pairs' squared differences are computed once per fit.
/// </remarks>
internal sealed class GaussianProcess
{
    private const double Sqrt5 = 2.2360679774997896;

    // Added to the fitted noise so that a near-noiseless fit still factors.
    private const double Jitter = 1e-8;

    private readonly double[][] _scaled;
    private readonly double[] _inverseLengths;
    private readonly double _signal;
    private readonly double[] _alpha;
    private readonly double[] _inverseFactorT;

    private GaussianProcess(double[][] scaled, double[] inverseLengths, double signal, double[] alpha, double[] inverseFactorT)
    {
        (_scaled, _inverseLengths, _signal, _alpha, _inverseFactorT) = (scaled, inverseLengths, signal, alpha, inverseFactorT);
    }

    /// <summary>The process conditioned on the data with <paramref name="theta"/>, or null when its covariance does not factor.</summary>
    public static GaussianProcess? Condition(Data data, double[] theta)
    {
        var d = data.Dimensions;
        var work = new Workspace(data.Count);
        if (!work.Factor(data, theta))
        {
            return null;
        }

        // L^-T is upper triangular and column-major, so its column i, row i of L^-1, is contiguous with i + 1 leading entries.
        var inverseFactorT = work.Cholesky.Factor.Transpose().Inverse().AsColumnMajorArray();
        var inverseLengths = theta[..d].Select(t => Math.Exp(-t)).ToArray();
        var scaled = data.X.Select(row => row.Select((v, m) => v * inverseLengths[m]).ToArray()).ToArray();
        return new GaussianProcess(scaled, inverseLengths, Math.Exp(theta[d]), [.. work.Alpha], inverseFactorT);
    }

    /// <summary>Expected improvement below <paramref name="best"/> (values are minimised).</summary>
    public double ExpectedImprovement(double[] point, double best, Span<double> buffer)
    {
        var n = _scaled.Length;
        var scaledPoint = new double[point.Length];
        for (var m = 0; m < point.Length; m++)
        {
            scaledPoint[m] = point[m] * _inverseLengths[m];
        }

        var k = buffer[..n];
        for (var i = 0; i < n; i++)
        {
            var row = _scaled[i];
            var r2 = 0.0;
            for (var m = 0; m < row.Length; m++)
            {
                var delta = scaledPoint[m] - row[m];
                r2 += delta * delta;
            }

            k[i] = _signal * Matern(Math.Sqrt(r2));
        }

        var mean = Dot(k, _alpha);

        // The variance's reduction is |L^-1 k|^2, row i of L^-1 having i + 1 leading entries.
        var reduction = 0.0;
        for (var i = 0; i < n; i++)
        {
            var v = Dot(_inverseFactorT.AsSpan(i * n, i + 1), k[..(i + 1)]);
            reduction += v * v;
        }

        var sigma = Math.Sqrt(Math.Max(_signal - reduction, 1e-12));
        var z = (best - mean) / sigma;
        return ((best - mean) * Normal.CDF(0, 1, z)) + (sigma * Normal.PDF(0, 1, z));
    }

    /// <summary>The negative log marginal likelihood and its gradient in theta, or null when the covariance does not factor.</summary>
    public static double? NegativeLogLikelihood(Data data, double[] theta, Workspace work, double[] gradient)
    {
        var (n, d) = (data.Count, data.Dimensions);
        if (!work.Factor(data, theta))
        {
            return null;
        }

        var (alpha, inverse, distances) = (work.Alpha, work.Inverse, work.Distances);
        var value = (0.5 * data.Values.DotProduct(work.AlphaVector)) + (0.5 * work.Cholesky.DeterminantLn) + (0.5 * n * Math.Log(2 * Math.PI));

        // d(-LML)/d theta = -0.5 tr((alpha alpha^T - K^-1) dK/d theta); both are symmetric, so each pair counts twice.
        Array.Clear(gradient);
        double signal = Math.Exp(theta[d]), noise = Math.Exp(theta[d + 1]);
        var lengthTerms = work.LengthTerms;
        for (int i = 0, p = 0; i < n; i++)
        {
            var wii = (alpha[i] * alpha[i]) - inverse[(i * n) + i];
            gradient[d] -= 0.5 * wii * signal;
            gradient[d + 1] -= 0.5 * wii * noise;
            for (var j = i + 1; j < n; j++, p++)
            {
                var w = (alpha[i] * alpha[j]) - inverse[(i * n) + j];
                var r = distances[p];
                var e = Math.Exp(-Sqrt5 * r);
                gradient[d] -= w * signal * (1 + (Sqrt5 * r) + (5 * r * r / 3)) * e;
                lengthTerms[p] = w * signal * 5.0 / 3.0 * (1 + (Sqrt5 * r)) * e;
            }
        }

        for (var m = 0; m < d; m++)
        {
            gradient[m] = -work.LengthTermsVector.DotProduct(data.SquaredDifferences[m]) * Math.Exp(-2 * theta[m]);
        }

        return value;
    }

    private static double Matern(double r) => (1 + (Sqrt5 * r) + (5 * r * r / 3)) * Math.Exp(-Sqrt5 * r);

    // A SIMD dot product over spans: the posterior's rows of L^-1 are prefixes of columns, which MathNet's vectors cannot view.
    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var (sum, i) = (0.0, 0);
        if (Simd.IsHardwareAccelerated && a.Length >= SimdLane.Count)
        {
            var va = MemoryMarshal.Cast<double, SimdLane>(a);
            var vb = MemoryMarshal.Cast<double, SimdLane>(b[..a.Length]);
            var total = SimdLane.Zero;
            for (var v = 0; v < va.Length; v++)
            {
                total += va[v] * vb[v];
            }

            (sum, i) = (Simd.Sum(total), va.Length * SimdLane.Count);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>The training points and values and, per coordinate, the squared difference of every pair i &lt; j (computed once per fit).</summary>
    internal sealed class Data
    {
        public Data(double[][] x, double[] y)
        {
            X = x;
            Y = y;
            Values = Vector<double>.Build.Dense(y);
            Count = x.Length;
            Dimensions = x[0].Length;
            Pairs = Count * (Count - 1) / 2;
            SquaredDifferences = new Vector<double>[Dimensions];
            for (var m = 0; m < Dimensions; m++)
            {
                var column = new double[Pairs];
                for (int i = 0, p = 0; i < Count; i++)
                {
                    for (var j = i + 1; j < Count; j++, p++)
                    {
                        var delta = x[i][m] - x[j][m];
                        column[p] = delta * delta;
                    }
                }

                SquaredDifferences[m] = Vector<double>.Build.Dense(column);
            }
        }

        public double[][] X { get; }

        public double[] Y { get; }

        /// <summary><see cref="Y"/> as a MathNet vector over the same array.</summary>
        public Vector<double> Values { get; }

        public int Count { get; }

        public int Dimensions { get; }

        public int Pairs { get; }

        public Vector<double>[] SquaredDifferences { get; }
    }

    /// <summary>
    /// One fit's buffers, reused by every evaluation: the covariance K, its Cholesky factor (refactored in place), K^-1,
    /// alpha = K^-1 y and the pairs' distances; the MathNet matrices and vectors wrap the arrays exposed here.
    /// </summary>
    internal sealed class Workspace
    {
        private readonly int _n;
        private readonly Matrix<double> _covariance;
        private readonly Matrix<double> _identity;
        private readonly Matrix<double> _inverse;

        public Workspace(int n)
        {
            _n = n;
            Inverse = new double[n * n];
            _covariance = Matrix<double>.Build.Dense(n, n);
            _identity = Matrix<double>.Build.DenseIdentity(n);
            _inverse = Matrix<double>.Build.Dense(n, n, Inverse);
            Cholesky = _identity.Cholesky();
            Alpha = new double[n];
            AlphaVector = Vector<double>.Build.Dense(Alpha);
            Distances = new double[n * (n - 1) / 2];
            LengthTerms = new double[Distances.Length];
            LengthTermsVector = Vector<double>.Build.Dense(LengthTerms);
        }

        /// <summary>The factor of the last K that factored.</summary>
        public Cholesky<double> Cholesky { get; }

        /// <summary>K^-1, column-major (symmetric, so row-major too).</summary>
        public double[] Inverse { get; }

        public double[] Alpha { get; }

        public Vector<double> AlphaVector { get; }

        public double[] Distances { get; }

        public double[] LengthTerms { get; }

        public Vector<double> LengthTermsVector { get; }

        /// <summary>Builds K for theta and factors it; fills K^-1 and alpha. False when K is not numerically positive definite.</summary>
        public bool Factor(Data data, double[] theta)
        {
            var (n, d) = (_n, data.Dimensions);
            double signal = Math.Exp(theta[d]), noise = Math.Exp(theta[d + 1]) + Jitter;
            var inverseSquares = theta[..d].Select(t => Math.Exp(-2 * t)).ToArray();
            Array.Clear(Distances);
            for (var m = 0; m < d; m++)
            {
                var (column, scale) = (data.SquaredDifferences[m].AsArray(), inverseSquares[m]);
                for (var p = 0; p < Distances.Length; p++)
                {
                    Distances[p] += column[p] * scale;
                }
            }

            // The factorisation reads K's lower triangle: column i, rows i and below.
            var k = _covariance.AsColumnMajorArray();
            for (int i = 0, p = 0; i < n; i++)
            {
                k[(i * n) + i] = signal + noise;
                for (var j = i + 1; j < n; j++, p++)
                {
                    Distances[p] = Math.Sqrt(Distances[p]);
                    k[(i * n) + j] = signal * Matern(Distances[p]);
                }
            }

            try
            {
                Cholesky.Factorize(_covariance);
            }
            catch (ArgumentException)
            {
                // MathNet's way of saying K is not positive definite; the dimensions cannot mismatch here.
                return false;
            }

            Cholesky.Solve(_identity, _inverse);
            Cholesky.Solve(data.Values, AlphaVector);
            return true;
        }
    }
}
