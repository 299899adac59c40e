using HyperTune.Agent.Telemetry;

namespace HyperTune.Agent.Tests;

/// <summary>
/// There is no GPU on the machines these tests run on, so they replay nvidia-smi output quoted by people who ran it on
/// real GPUs, each cited where it is used. Where a quote used other --query-gpu fields, its values are laid out in the
/// columns of <see cref="NvidiaSmiCsv.Query"/> (index, name, utilization.gpu, memory.used [MiB], memory.total [MiB],
/// temperature.gpu [°C], power.draw [W]), as nvidia-smi prints them with noheader,nounits.
/// </summary>
public sealed class NvidiaSmiCsvTests
{
    // Two GPUs from github.com/aristocratos/bpytop/issues/26 (tom-doerr, 2020-11-15), whose csv output read
    // "GeForce GTX 1080 Ti, 29 %, 11175 MiB, 2856 MiB, 36 %, 60, 106.56 W, 1936 MHz, 5508 MHz" and
    // "GeForce GTX 1060 6GB, 29 %, 6078 MiB, 4 MiB, 0 %, 49, 5.68 W, 139 MHz, 405 MHz".
    private const string RecordedTwoGpus = """
        0, GeForce GTX 1080 Ti, 36, 2856, 11175, 60, 106.56
        1, GeForce GTX 1060 6GB, 0, 4, 6078, 49, 5.68

        """;

    [Fact]
    public void Parse_RecordedTwoGpuOutput_ReadsEveryFieldOfBoth()
    {
        var gpus = NvidiaSmiCsv.Parse(RecordedTwoGpus);

        Assert.Equal(2, gpus.Count);
        Assert.Equal((0, "GeForce GTX 1080 Ti"), (gpus[0].Index, gpus[0].Name));
        Assert.Equal(36, gpus[0].UtilizationPercent);
        Assert.Equal(2856L * 1024 * 1024, gpus[0].MemoryUsedBytes);
        Assert.Equal(11175L * 1024 * 1024, gpus[0].MemoryTotalBytes);
        Assert.Equal(60, gpus[0].TemperatureCelsius);
        Assert.Equal(106.56, gpus[0].PowerWatts);
        Assert.Equal((1, "GeForce GTX 1060 6GB", 0.0, 5.68), (gpus[1].Index, gpus[1].Name, gpus[1].UtilizationPercent, gpus[1].PowerWatts));
    }

    [Fact]
    public void Parse_RecordedOutputWithUnitsLeftIn_ReadsTheNumbers()
    {
        // The same bpytop quote as printed without nounits, in our columns: units stay after each number.
        var gpus = NvidiaSmiCsv.Parse("0, GeForce GTX 1080 Ti, 36 %, 2856 MiB, 11175 MiB, 60, 106.56 W");

        var gpu = Assert.Single(gpus);
        Assert.Equal((36.0, 2856L * 1024 * 1024, 106.56), (gpu.UtilizationPercent, gpu.MemoryUsedBytes, gpu.PowerWatts));
    }

    [Fact]
    public void Parse_RecordedNotSupportedAndNotAvailableFields_KeepsTheGpuWithThoseValuesUnknown()
    {
        // A Tesla P100-PCIE-16GB (netdata/netdata src/go/plugin/go.d/modules/nvidia_smi/testdata/tesla-p100.csv, recorded with
        // csv,nounits) reported 0 % utilisation, 0 MiB used, 37 °C and 28.16 W; a GTX 1050 Ti reported its power draw as N/A
        // (github.com/influxdata/telegraf/issues/6258, 4040 MiB, 54 °C); fields a board lacks print as [Not Supported]
        // (github.com/plambe/zabbix-nvidia-smi-multi-gpu/issues/9) and unknown ones as [N/A] (the P100's fan.speed).
        var gpus = NvidiaSmiCsv.Parse("""
            0, Tesla P100-PCIE-16GB, 0, 0, [N/A], 37, 28.16
            1, GeForce GTX 1050 Ti, 0, 0, 4040, 54, [Not Supported]
            2, GeForce RTX 2080, 86, 1965, 7979, N/A, 176.98
            """);

        Assert.Equal(3, gpus.Count);
        Assert.Equal(-1, gpus[0].MemoryTotalBytes);
        Assert.Equal((37.0, 28.16), (gpus[0].TemperatureCelsius, gpus[0].PowerWatts));
        Assert.True(double.IsNaN(gpus[1].PowerWatts));
        Assert.Equal(4040L * 1024 * 1024, gpus[1].MemoryTotalBytes);

        // github.com/Ricks-Lab/gpu-utils/issues/83 quotes nounits output where an unavailable field is a bare N/A.
        Assert.True(double.IsNaN(gpus[2].TemperatureCelsius));
        Assert.Equal(86, gpus[2].UtilizationPercent);
    }

    [Theory]
    // Printed instead of rows when the driver is not loaded (github.com/NVIDIA/nvidia-docker/issues/988 and many others).
    [InlineData("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n")]
    // Printed with exit code 6 on a machine with the driver but no GPU.
    [InlineData("No devices were found\n")]
    [InlineData("")]
    public void Parse_RecordedMessagesInsteadOfRows_GivesNoGpu(string output) => Assert.Empty(NvidiaSmiCsv.Parse(output));

    [Fact]
    public void Parse_GarbageAndTruncatedLinesBetweenRows_SkipsThemAndKeepsTheRows()
    {
        var gpus = NvidiaSmiCsv.Parse($"""
            WARNING: infoROM is corrupted at gpu 0000:01:00.0
            {RecordedTwoGpus.Split('\n')[0]}
            1, GeForce GTX 1060 6GB, 0, 4
            x, GeForce GTX 1060 6GB, 0, 4, 6078, 49, 5.68
            1, GeForce GTX 1060 6GB, zero, 4, 6078, 49, 5.68
            """);

        Assert.Equal("GeForce GTX 1080 Ti", Assert.Single(gpus).Name);
    }

    [Fact]
    public void Parse_NameWithAComma_KeepsTheWholeName()
    {
        // nvidia-smi does not quote fields; the five readings are always the last columns.
        var gpu = Assert.Single(NvidiaSmiCsv.Parse("0, NVIDIA A100, Rev 2, 3, 1024, 81920, 70, 61.5"));

        Assert.Equal(("NVIDIA A100, Rev 2", 81920L * 1024 * 1024), (gpu.Name, gpu.MemoryTotalBytes));
    }

    [Fact]
    public void Query_NoNvidiaSmiInstalled_GivesNoGpuWithTheReasonAndStopsLooking()
    {
        var smi = new NvidiaSmi("nvidia-smi-that-is-not-installed");

        var gpus = smi.Query(out var why);

        Assert.Empty(gpus);
        Assert.Contains("nvidia-smi-that-is-not-installed is not installed", why);
        Assert.False(smi.Installed);
    }
}
