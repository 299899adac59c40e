namespace HyperTune.Dashboard.Agents;

/// <summary>One heartbeat's telemetry of one machine: when it arrived, its host and each of its GPUs.</summary>
public sealed record TelemetrySample(DateTimeOffset At, HostReading? Host, IReadOnlyList<GpuReading> Gpus);

/// <summary>The host's CPU busy share (all cores) and RAM; null where the agent could not tell.</summary>
public sealed record HostReading(double? CpuPercent, long? MemoryUsedBytes, long? MemoryTotalBytes, int CpuCount);

/// <summary>One GPU's reading from nvidia-smi; null where the GPU does not report the value ([N/A], [Not Supported]).</summary>
public sealed record GpuReading(
    int Index,
    string Name,
    double? UtilizationPercent,
    long? MemoryUsedBytes,
    long? MemoryTotalBytes,
    double? TemperatureCelsius,
    double? PowerWatts)
{
    /// <summary>Below this utilisation (percent) a GPU counts as idle.</summary>
    public const double IdleBelowPercent = 5;
}

/// <summary>The last <see cref="Capacity"/> samples of one machine, oldest first; thread-safe.</summary>
public sealed class TelemetryHistory(int capacity)
{
    private readonly Lock gate = new();
    private readonly TelemetrySample[] ring = new TelemetrySample[capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "capacity must be > 0")];
    private int next;
    private int count;

    public int Capacity => ring.Length;

    public void Add(TelemetrySample sample)
    {
        lock (gate)
        {
            ring[next] = sample;
            next = (next + 1) % ring.Length;
            count = Math.Min(count + 1, ring.Length);
        }
    }

    public IReadOnlyList<TelemetrySample> Snapshot()
    {
        lock (gate)
        {
            var oldest = (next - count + ring.Length) % ring.Length;
            return [.. Enumerable.Range(0, count).Select(i => ring[(oldest + i) % ring.Length])];
        }
    }
}
