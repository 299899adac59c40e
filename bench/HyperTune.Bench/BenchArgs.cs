using System.Globalization;

namespace HyperTune.Bench;

internal static class BenchArgs
{
    /// <summary>The integer after <paramref name="name"/> on the command line, or the fallback.</summary>
    public static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
