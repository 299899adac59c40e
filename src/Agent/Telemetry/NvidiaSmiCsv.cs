using System.Globalization;
using HyperTune.Protos.V1;

namespace HyperTune.Agent.Telemetry;

/// <summary>
/// Reads the output of <see cref="Query"/>: one line per GPU, fields in the order of the query. A field nvidia-smi cannot
/// report ([N/A], [Not Supported], any other bracketed word, or a bare N/A) becomes NaN or -1; a line that is not a GPU row
/// (an error message, a truncated line) is skipped.
/// </summary>
public static class NvidiaSmiCsv
{
    /// <summary>The arguments of the nvidia-smi call whose output <see cref="Parse"/> reads.</summary>
    public const string Query = "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits";

    private const int Fields = 7;
    private const long MiB = 1024 * 1024;

    public static IReadOnlyList<GpuSample> Parse(string output)
    {
        var gpus = new List<GpuSample>();
        foreach (var line in output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (ParseLine(line) is { } gpu)
            {
                gpus.Add(gpu);
            }
        }

        return gpus;
    }

    private static GpuSample? ParseLine(string line)
    {
        var fields = line.Split(',', StringSplitOptions.TrimEntries);
        if (fields.Length < Fields || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return null;
        }

        // nvidia-smi does not quote: a product name with a comma spreads over several fields, the five numbers stay last.
        var numbers = fields[^5..];
        var name = string.Join(", ", fields[1..^5]);
        if (name.Length == 0 || numbers.Any(f => !IsNumberOrUnavailable(f)))
        {
            return null;
        }

        return new GpuSample
        {
            Index = index,
            Name = name,
            UtilizationPercent = Number(numbers[0]),
            MemoryUsedBytes = Bytes(numbers[1]),
            MemoryTotalBytes = Bytes(numbers[2]),
            TemperatureCelsius = Number(numbers[3]),
            PowerWatts = Number(numbers[4]),
        };
    }

    private static bool IsUnavailable(string field) => field == "N/A" || (field.StartsWith('[') && field.EndsWith(']'));

    private static bool IsNumberOrUnavailable(string field) => IsUnavailable(field) || !double.IsNaN(Number(field));

    private static double Number(string field)
    {
        // Tolerates a unit left in (a csv call without nounits): "36 %", "106.56 W", "2856 MiB".
        var value = field.Split(' ', 2)[0];
        return !IsUnavailable(field) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : double.NaN;
    }

    private static long Bytes(string mib) => Number(mib) is var n && double.IsNaN(n) ? -1 : (long)(n * MiB);
}
