namespace HyperTune.Shared.SearchSpaces;

/// <summary>Bounds people read and edit: a number rounded outward (down for a low bound, up for a high one) to a few significant digits.</summary>
public static class ReadableBounds
{
    public static double Down(double x, int digits) => Round(x, digits, Math.Floor);

    public static double Up(double x, int digits) => Round(x, digits, Math.Ceiling);

    private static double Round(double x, int digits, Func<double, double> direction)
    {
        if (x == 0 || !double.IsFinite(x))
        {
            return x;
        }

        var scale = Math.Pow(10, digits - 1 - Math.Floor(Math.Log10(Math.Abs(x))));
        return direction(OffRoundingError(x * scale)) / scale;
    }

    /// <summary>Before rounding outward: 9.999999999999998 (0.1 of [0, 100]) is 10, not a reason to widen to 9.</summary>
    public static double OffRoundingError(double x) => Math.Round(x, 6);
}
