using HyperTune.Agent.Telemetry;

namespace HyperTune.Agent.Tests;

/// <summary>/proc/stat and /proc/meminfo as recorded on a 2-core Debian 12 build machine (Linux 6.x), then a second /proc/stat reading later.</summary>
public sealed class HostReadingsTests
{
    private const string RecordedStat = """
        cpu  1005119 6375 285379 668372 3428 0 4475 0 0 0
        cpu0 485017 3006 139836 355887 677 0 2250 0 0 0
        cpu1 520102 3369 145543 312485 2751 0 2224 0 0 0
        intr 6725067 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 8 0 0 0 0 1977 1466 0 173
        ctxt 54158119
        btime 1795422802
        processes 86300
        procs_running 12
        procs_blocked 0
        softirq 3699303 0 606406 5 103197 458241 0 9 863641 719 1667085

        """;

    private const string RecordedMeminfo = """
        MemTotal:       24683620 kB
        MemFree:        17662252 kB
        MemAvailable:   22904388 kB
        Buffers:           80568 kB
        Cached:          5430432 kB
        SwapCached:            0 kB
        HugePages_Total:       0
        Hugepagesize:       2048 kB

        """;

    [Fact]
    public void CpuTimes_RecordedProcStat_ReadsTheAggregateLineAndCountsTheCores()
    {
        var cpu = CpuTimes.Parse(RecordedStat)!;

        // user+nice+system+irq+softirq+steal busy; idle+iowait not.
        Assert.Equal(1005119UL + 6375 + 285379 + 4475, cpu.Busy);
        Assert.Equal(cpu.Busy + 668372 + 3428, cpu.Total);
        Assert.Equal(2, cpu.CpuCount);
    }

    [Fact]
    public void PercentSince_TwoReadings_IsTheBusyShareOfTheTicksBetweenThem()
    {
        var earlier = CpuTimes.Parse(RecordedStat)!;
        var later = CpuTimes.Parse(RecordedStat.Replace("cpu  1005119 6375 285379 668372 3428", "cpu  1005269 6375 285379 668422 3428", StringComparison.Ordinal))!;

        // 150 busy ticks and 50 idle ones.
        Assert.Equal(75, later.PercentSince(earlier), precision: 6);
        Assert.True(double.IsNaN(earlier.PercentSince(earlier)));
    }

    [Fact]
    public void CpuTimes_NoCpuLine_IsNull() => Assert.Null(CpuTimes.Parse("intr 0\nctxt 1\n"));

    [Fact]
    public void MemoryUse_RecordedMeminfo_UsedIsTotalMinusAvailable()
    {
        var memory = MemoryUse.Parse(RecordedMeminfo)!;

        Assert.Equal(24683620L * 1024, memory.TotalBytes);
        Assert.Equal((24683620L - 22904388) * 1024, memory.UsedBytes);
    }

    [Fact]
    public void MemoryUse_WithoutMemAvailable_IsNull() => Assert.Null(MemoryUse.Parse("MemTotal:       24683620 kB\nMemFree:        17662252 kB\n"));
}
