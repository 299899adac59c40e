using HyperTune.Shared.Samplers;
using MathNet.Numerics.LinearAlgebra;

namespace HyperTune.Shared.Tests;

public class GaussianProcessTests
{
    private static readonly double[] Theta = [Math.Log(0.4), Math.Log(0.7), Math.Log(1.3), Math.Log(1.5), Math.Log(0.05)];

    private static GaussianProcess.Data Data()
    {
        var random = new Random(4);
        var x = Enumerable.Range(0, 12).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.NextDouble() }).ToArray();
        return new GaussianProcess.Data(x, [.. x.Select(p => Math.Sin(4 * p[0]) + (p[1] * p[2]))]);
    }

    [Fact]
    public void NegativeLogLikelihood_SmallProblem_EqualsTheDenseClosedForm()
    {
        var data = Data();
        var (n, d) = (data.Count, data.Dimensions);
        var lengths = Theta[..d].Select(Math.Exp).ToArray();
        var k = Matrix<double>.Build.Dense(n, n, (i, j) =>
        {
            var r = Math.Sqrt(Enumerable.Range(0, d).Sum(m => Math.Pow((data.X[i][m] - data.X[j][m]) / lengths[m], 2)));
            return (Math.Exp(Theta[d]) * (1 + (Math.Sqrt(5) * r) + (5 * r * r / 3)) * Math.Exp(-Math.Sqrt(5) * r)) + (i == j ? Math.Exp(Theta[d + 1]) + 1e-8 : 0);
        });
        var y = Vector<double>.Build.Dense(data.Y);
        var expected = (0.5 * y.DotProduct(k.Solve(y))) + (0.5 * k.Cholesky().DeterminantLn) + (0.5 * n * Math.Log(2 * Math.PI));

        var value = GaussianProcess.NegativeLogLikelihood(data, Theta, new GaussianProcess.Workspace(n), new double[d + 2]);

        Assert.Equal(expected, value!.Value, 1e-9);
    }

    [Fact]
    public void NegativeLogLikelihood_Gradient_MatchesCentralDifferences()
    {
        var data = Data();
        var work = new GaussianProcess.Workspace(data.Count);
        var gradient = new double[Theta.Length];
        GaussianProcess.NegativeLogLikelihood(data, Theta, work, gradient);

        for (var m = 0; m < Theta.Length; m++)
        {
            const double h = 1e-5;
            double[] up = [.. Theta], down = [.. Theta];
            up[m] += h;
            down[m] -= h;
            var numeric = (GaussianProcess.NegativeLogLikelihood(data, up, work, new double[Theta.Length])!.Value
                - GaussianProcess.NegativeLogLikelihood(data, down, work, new double[Theta.Length])!.Value) / (2 * h);

            Assert.True(Math.Abs(numeric - gradient[m]) < 1e-5 * Math.Max(1, Math.Abs(numeric)), $"theta[{m}]: analytic {gradient[m]}, numeric {numeric}");
        }
    }

    [Fact]
    public void ExpectedImprovement_FarFromTheData_HigherThanAtTheBestTrial()
    {
        var data = Data();
        var model = GaussianProcess.Condition(data, Theta)!;
        var bestIndex = Array.IndexOf(data.Y, data.Y.Min());
        var buffer = new double[data.Count];

        var atBest = model.ExpectedImprovement(data.X[bestIndex], data.Y.Min(), buffer);
        var far = model.ExpectedImprovement([5, 5, 5], data.Y.Min(), buffer);

        Assert.True(far > atBest, $"EI far away {far}, at the best point {atBest}");
    }
}
