using System.Globalization;

namespace HyperTune.Agent.Telemetry;

/// <summary>The aggregate CPU time counters of /proc/stat, and the busy share between two readings.</summary>
public sealed record CpuTimes(ulong Busy, ulong Total, int CpuCount)
{
    /// <summary>The first "cpu" line (all cores together) and the number of "cpuN" lines; null when there is no cpu line.</summary>
    public static CpuTimes? Parse(string procStat)
    {
        CpuTimes? all = null;
        var count = 0;
        foreach (var line in procStat.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || !fields[0].StartsWith("cpu", StringComparison.Ordinal))
            {
                continue;
            }

            if (fields[0].Length > 3)
            {
                count++;
                continue;
            }

            // user nice system idle iowait irq softirq steal; guest and guest_nice are already inside user and nice.
            var ticks = fields.Skip(1).Take(8).Select(f => ulong.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 0).ToArray();
            if (ticks.Length < 4)
            {
                return null;
            }

            var idle = ticks[3] + (ticks.Length > 4 ? ticks[4] : 0);
            var total = ticks.Aggregate(0UL, (sum, t) => sum + t);
            all = new CpuTimes(total - idle, total, 0);
        }

        return all is null ? null : all with { CpuCount = count };
    }

    /// <summary>Percent of all cores busy between <paramref name="earlier"/> and this reading; NaN when no time passed.</summary>
    public double PercentSince(CpuTimes earlier)
    {
        if (Total <= earlier.Total || Busy < earlier.Busy)
        {
            return double.NaN;
        }

        return Math.Clamp(100.0 * (Busy - earlier.Busy) / (Total - earlier.Total), 0, 100);
    }
}
