using HyperTune.Agent.Slots;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace HyperTune.Agent.Workloads;

/// <summary>Where trials train: CUDA when present (slot N on cuda:N), else the CPU, whose threads the slots share.</summary>
public sealed class TorchDevices
{
    private readonly Lazy<int> _cudaCount;
    private readonly AgentOptions _options;
    private readonly SlotLayout _layout;
    private readonly ILogger<TorchDevices> _logger;
    private int _configured;

    public TorchDevices(IOptions<AgentOptions> options, SlotLayout layout, ILogger<TorchDevices> logger)
        : this(options, layout, logger, () => torch.cuda.is_available() ? torch.cuda.device_count() : 0)
    {
    }

    /// <summary>With <paramref name="probeCuda"/> standing in for libtorch's count of CUDA devices (asked at most once, never when Agent:Device is cpu).</summary>
    public TorchDevices(IOptions<AgentOptions> options, SlotLayout layout, ILogger<TorchDevices> logger, Func<int> probeCuda)
    {
        _options = options.Value;
        _layout = layout;
        _logger = logger;
        _cudaCount = new Lazy<int>(() => _options.Device == AgentOptions.DeviceCpu ? 0 : probeCuda());
    }

    /// <summary>CUDA devices this agent trains on (0 when Agent:Device is cpu or there are none).</summary>
    public int CudaCount => _cudaCount.Value;

    /// <summary>The agent's slots (<see cref="SlotLayout"/>: Agent:Slots, or one per visible GPU, or 1).</summary>
    public int Slots => _layout.Count;

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

        // Process-wide in libtorch (a global read by every new thread), which is right while every slot gets the same share.
        var threads = _layout[0].CpuThreads;
        torch.set_num_threads(threads);
        _logger.LogInformation("Torch {Version}: {Devices}, {Slots} slot(s), {Threads} CPU thread(s) per slot", torch.__version__,
            CudaCount > 0 ? $"{CudaCount} CUDA device(s)" : "CPU only", Slots, threads);
    }

    /// <summary>The device a trial in <paramref name="slot"/> trains on.</summary>
    public torch.Device ForSlot(int slot) => ForSlot(slot, CudaCount);

    /// <summary>Slot N trains on cuda:(N mod <paramref name="cudaCount"/>), or on the CPU when there is no CUDA device.</summary>
    public static torch.Device ForSlot(int slot, int cudaCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        return cudaCount > 0 ? new torch.Device(DeviceType.CUDA, slot % cudaCount) : torch.CPU;
    }
}
