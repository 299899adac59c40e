using HyperTune.Agent.Slots;
using HyperTune.Agent.Workloads;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace HyperTune.Agent.Tests;

/// <summary>Device selection with the CUDA count faked: these tests run without a GPU and never touch one.</summary>
public sealed class TorchDevicesTests
{
    // The slot plan sees as many GPUs as libtorch is made to report (none with Device cpu), as nvidia-smi would list them.
    private static TorchDevices Devices(string device, int reportedCudaDevices, int? slots = null, Action? probed = null) =>
        new(Options.Create(new AgentOptions { Device = device, Slots = slots }),
            SlotLayout.Plan(slots, null, device == AgentOptions.DeviceCpu ? [] : [.. Enumerable.Range(0, reportedCudaDevices).Select(i => $"{i}")], cores: 2),
            NullLogger<TorchDevices>.Instance, () =>
            {
                probed?.Invoke();
                return reportedCudaDevices;
            });

    [Fact]
    public void ForSlot_FakeThreeCudaDevicesNoGpuUsed_MapsSlotNToCudaNModuloThree()
    {
        var devices = Devices(AgentOptions.DeviceAuto, reportedCudaDevices: 3);

        Assert.Equal(3, devices.Slots);
        Assert.Equal(
            [(DeviceType.CUDA, 0), (DeviceType.CUDA, 1), (DeviceType.CUDA, 2), (DeviceType.CUDA, 0)],
            Enumerable.Range(0, 4).Select(slot => devices.ForSlot(slot)).Select(d => (d.type, d.index)));
    }

    [Fact]
    public void ForSlot_FakeNoCudaDevicesNoGpuUsed_FallsBackToTheCpu()
    {
        var devices = Devices(AgentOptions.DeviceAuto, reportedCudaDevices: 0, slots: 2);

        Assert.Equal(2, devices.Slots);
        Assert.All(Enumerable.Range(0, 2), slot => Assert.Equal(DeviceType.CPU, devices.ForSlot(slot).type));
    }

    [Fact]
    public void ForSlot_DeviceCpuWithFakeCudaDevicesNoGpuUsed_NeverProbesAndTrainsOnTheCpu()
    {
        var probes = 0;
        var devices = Devices(AgentOptions.DeviceCpu, reportedCudaDevices: 2, probed: () => probes++);

        Assert.Equal(DeviceType.CPU, devices.ForSlot(1).type);
        Assert.Equal(1, devices.Slots);
        Assert.Equal(0, probes);
    }

    [Fact]
    public void Configure_DeviceCudaWithFakeNoCudaDevicesNoGpuUsed_RefusesToStartSayingHowToFixIt()
    {
        var devices = Devices(AgentOptions.DeviceCuda, reportedCudaDevices: 0);

        var error = Assert.Throws<InvalidOperationException>(devices.Configure);

        Assert.Contains("Agent:Device is cuda", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForSlot_StaticMappingNoGpuUsed_IsCudaSlotModuloCountOrCpu()
    {
        Assert.Equal((DeviceType.CUDA, 1), (TorchDevices.ForSlot(5, 2).type, TorchDevices.ForSlot(5, 2).index));
        Assert.Equal(DeviceType.CPU, TorchDevices.ForSlot(5, 0).type);
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchDevices.ForSlot(-1, 2));
    }
}
