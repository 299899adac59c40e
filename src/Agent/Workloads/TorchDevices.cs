using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace HyperTune.Agent.Workloads;

/// <summary>Where trials train: CUDA when present (slot N on cuda:N), else the CPU, whose threads the slots share.</summary>
public sealed class TorchDevices
{
    private readonly Lazy<int> _cudaCount;
    private readonly AgentOptions _options;
    private readonly ILogger<TorchDevices> _logger;
    private int _configured;

    public TorchDevices(IOptions<AgentOptions> options, ILogger<TorchDevices> logger)
    {
        _options = options.Value;
        _logger = logger;
        _cudaCount = new Lazy<int>(() => _options.Device == AgentOptions.DeviceCpu || !torch.cuda.is_available() ? 0 : torch.cuda.device_count());
    }

    /// <summary>CUDA devices this agent trains on (0 when Agent:Device is cpu or there are none).</summary>
    public int CudaCount => _cudaCount.Value;

    /// <summary>Agent:Slots, or one per CUDA device, or 1.</summary>
    public int Slots => _options.Slots ?? Math.Max(1, CudaCount);

    /// <summary>Loads libtorch, checks Agent:Device against what is present, and gives each slot its share of the CPU cores.</summary>
    public void Configure()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1)
        {
            return;
        }

        if (_options.Device == AgentOptions.DeviceCuda && CudaCount == 0)
        {
            throw new InvalidOperationException($"Agent:Device is cuda, but torch.cuda.is_available() is false (build with -p:HyperTuneTorchRuntime=cuda on a machine with an NVIDIA driver, or set Agent:Device to auto or cpu)");
        }

        var threads = Math.Max(1, Environment.ProcessorCount / Slots);
        torch.set_num_threads(threads);
        _logger.LogInformation("Torch {Version}: {Devices}, {Slots} slot(s), {Threads} CPU thread(s) per slot", torch.__version__,
            CudaCount > 0 ? $"{CudaCount} CUDA device(s)" : "CPU only", Slots, threads);
    }

    /// <summary>The device a trial in <paramref name="slot"/> trains on.</summary>
    public torch.Device ForSlot(int slot) => CudaCount > 0 ? new torch.Device(DeviceType.CUDA, slot % CudaCount) : torch.CPU;
}
