using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;

namespace HyperTune.Agent.Telemetry;

/// <summary>The CUDA devices libtorch sees, named by nvidia-smi when it is installed.</summary>
public sealed class GpuProbe(TorchDevices devices, NvidiaSmi nvidiaSmi)
{
    public IReadOnlyList<Gpu> Probe()
    {
        var count = devices.CudaCount;
        var gpus = Enumerable.Range(0, count).Select(i => new Gpu { Index = i, Name = $"CUDA device {i}" }).ToArray();
        if (count > 0)
        {
            foreach (var sample in nvidiaSmi.Query(out _).Where(s => s.Index < count))
            {
                gpus[sample.Index].Name = sample.Name;
                gpus[sample.Index].MemoryTotalBytes = Math.Max(0, sample.MemoryTotalBytes);
            }
        }

        return gpus;
    }
}
