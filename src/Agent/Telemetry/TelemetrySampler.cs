using Google.Protobuf.WellKnownTypes;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Telemetry;

/// <summary>
/// Samples the host's CPU and RAM (/proc) and every GPU (nvidia-smi) once per heartbeat interval; each heartbeat carries the
/// latest sample. A machine without nvidia-smi or without a GPU sends no GPU samples and says so once in the log.
/// </summary>
public sealed partial class TelemetrySampler(
    IOptions<AgentOptions> options,
    NvidiaSmi nvidiaSmi,
    TimeProvider time,
    ILogger<TelemetrySampler> logger) : BackgroundService
{
    private CpuTimes? _previousCpu;
    private bool _toldWhyNoGpu;
    private Sample _latest = new(new HostSample { CpuPercent = double.NaN, MemoryUsedBytes = -1, MemoryTotalBytes = -1, CpuCount = Environment.ProcessorCount }, []);

    /// <summary>A heartbeat carrying the latest sample.</summary>
    public Heartbeat Heartbeat(DateTimeOffset sentAt, int busySlots)
    {
        var latest = Volatile.Read(ref _latest);
        var heartbeat = new Heartbeat { SentAt = Timestamp.FromDateTimeOffset(sentAt), BusySlots = busySlots, Host = latest.Host };
        heartbeat.Gpus.Add(latest.Gpus);
        return heartbeat;
    }

    /// <summary>Takes one sample now (the CPU share covers the time since the previous one).</summary>
    public void SampleNow()
    {
        var host = SampleHost();
        var gpus = nvidiaSmi.Query(out var whyNone);
        if (whyNone is not null && !_toldWhyNoGpu)
        {
            _toldWhyNoGpu = true;
            LogNoGpu(whyNone);
        }

        Volatile.Write(ref _latest, new Sample(host, gpus));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // nvidia-smi can take a second to answer: keep it off the host's start.
        await Task.Yield();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.HeartbeatSeconds), time);
        do
        {
            SampleNow();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private HostSample SampleHost()
    {
        var cpu = CpuTimes.Parse(ReadOrEmpty("/proc/stat"));
        var memory = MemoryUse.Parse(ReadOrEmpty("/proc/meminfo"));
        var percent = cpu is not null && _previousCpu is not null ? cpu.PercentSince(_previousCpu) : double.NaN;
        _previousCpu = cpu ?? _previousCpu;
        return new HostSample
        {
            CpuPercent = percent,
            CpuCount = cpu is { CpuCount: > 0 } ? cpu.CpuCount : Environment.ProcessorCount,
            MemoryUsedBytes = memory?.UsedBytes ?? -1,
            MemoryTotalBytes = memory?.TotalBytes ?? -1,
        };
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc not mounted: the host sample stays unknown.
            return "";
        }
    }

    private sealed record Sample(HostSample Host, IReadOnlyList<GpuSample> Gpus);

    [LoggerMessage(Level = LogLevel.Information, Message = "No GPU telemetry: {Reason}. Heartbeats carry CPU and RAM only")]
    private partial void LogNoGpu(string reason);
}
