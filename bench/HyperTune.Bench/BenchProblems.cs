using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Bench;

/// <summary>A synthetic objective to minimise, with its space and known optimum.</summary>
internal sealed record BenchProblem(string Name, SearchSpace Space, Func<IReadOnlyDictionary<string, ParamValue>, double> Evaluate, double Optimum)
{
    public const double BraninMin = 0.397887;

    public static BenchProblem Branin { get; } =
        new("branin", new([new FloatParameter("x1", -5, 10, Scale.Linear), new FloatParameter("x2", 0, 15, Scale.Linear)]),
            p => BraninAt(p["x1"].Number, p["x2"].Number), BraninMin);

    public static BenchProblem Hartmann6 { get; } =
        new("hartmann6", UnitBox(6), p => Hartmann6At([.. Enumerable.Range(0, 6).Select(i => p[$"x{i}"].Number)]), -3.32237);

    public static BenchProblem Branin6D { get; } =
        new("branin6d", UnitBox(6), p => BraninAt(-5 + (15 * p["x0"].Number), 15 * p["x1"].Number), BraninMin);

    /// <summary>Branin on dims 0–1 of [0, 1]^8 plus a quadratic (x − 0.5)² on each of dims 2–7, so every parameter matters.</summary>
    public static BenchProblem Branin8DQuadratic { get; } =
        new("branin8d", UnitBox(8), p => BraninAt(-5 + (15 * p["x0"].Number), 15 * p["x1"].Number)
            + Enumerable.Range(2, 6).Sum(i => Math.Pow(p[$"x{i}"].Number - 0.5, 2)), BraninMin);

    private static SearchSpace UnitBox(int dimensions) =>
        new([.. Enumerable.Range(0, dimensions).Select(d => (Parameter)new FloatParameter($"x{d}", 0, 1, Scale.Linear))]);

    private static double BraninAt(double x1, double x2)
    {
        var a = x2 - (5.1 / (4 * Math.PI * Math.PI) * x1 * x1) + (5 / Math.PI * x1) - 6;
        return (a * a) + (10 * (1 - (1 / (8 * Math.PI))) * Math.Cos(x1)) + 10;
    }

    private static readonly double[] Alpha = [1.0, 1.2, 3.0, 3.2];

    private static readonly double[,] A =
    {
        { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 }, { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 },
    };

    private static readonly double[,] P =
    {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 }, { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 }, { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };

    private static double Hartmann6At(double[] x)
    {
        var sum = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < 6; j++)
            {
                inner += A[i, j] * (x[j] - P[i, j]) * (x[j] - P[i, j]);
            }

            sum -= Alpha[i] * Math.Exp(-inner);
        }

        return sum;
    }
}
