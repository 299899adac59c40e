using System.Diagnostics;
using System.Globalization;
using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;

namespace HyperTune.Agent.Telemetry;

/// <summary>The CUDA devices libtorch sees, named by nvidia-smi when it is installed.</summary>
public sealed class GpuProbe(TorchDevices devices)
{
    public IReadOnlyList<Gpu> Probe()
    {
        var count = devices.CudaCount;
        var gpus = Enumerable.Range(0, count).Select(i => new Gpu { Index = i, Name = $"CUDA device {i}" }).ToArray();
        if (count > 0)
        {
            foreach (var line in NvidiaSmi())
            {
                var fields = line.Split(',', StringSplitOptions.TrimEntries);
                if (fields.Length == 3 && int.TryParse(fields[0], CultureInfo.InvariantCulture, out var index) && index >= 0 && index < count)
                {
                    gpus[index].Name = fields[1];
                    gpus[index].MemoryTotalBytes = long.TryParse(fields[2], CultureInfo.InvariantCulture, out var mib) ? mib * 1024 * 1024 : 0;
                }
            }
        }

        return gpus;
    }

    private static string[] NvidiaSmi()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=index,name,memory.total --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return [];
            }

            var output = process.StandardOutput.ReadToEnd();
            return process.WaitForExit(5000) && process.ExitCode == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries) : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // nvidia-smi is not installed: the generic names stay.
            return [];
        }
    }
}
