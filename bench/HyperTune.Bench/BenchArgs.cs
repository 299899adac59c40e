using System.Globalization;

namespace HyperTune.Bench;

internal static class BenchArgs
{
    /// <summary>The integer after <paramref name="name"/> on the command line, or the fallback.</summary>
    public static int Option(string[] args, string name, int fallback) =>
        Option(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The word after <paramref name="name"/> on the command line, or null.</summary>
    public static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
