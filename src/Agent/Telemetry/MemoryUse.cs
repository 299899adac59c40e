using System.Globalization;

namespace HyperTune.Agent.Telemetry;

/// <summary>RAM from /proc/meminfo: used is MemTotal − MemAvailable (what programs could not get without swapping).</summary>
public sealed record MemoryUse(long UsedBytes, long TotalBytes)
{
    /// <summary>Null when MemTotal or MemAvailable is missing (kernels before 3.14 lack MemAvailable).</summary>
    public static MemoryUse? Parse(string procMeminfo)
    {
        long? total = null, available = null;
        foreach (var line in procMeminfo.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
            {
                switch (fields[0])
                {
                    case "MemTotal:":
                        total = kib * 1024;
                        break;
                    case "MemAvailable:":
                        available = kib * 1024;
                        break;
                }
            }
        }

        return total is { } t && available is { } a ? new MemoryUse(Math.Max(0, t - a), t) : null;
    }
}
