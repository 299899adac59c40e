using HyperTune.Agent.Slots;

namespace HyperTune.Agent.Tests;

/// <summary>The slot → GPU mapping, planned from a GPU list given by the test: no GPU is needed (none is here).</summary>
public sealed class SlotLayoutTests
{
    [Fact]
    public void Plan_TwoFakeGpusWithoutRealGpu_OneSlotPerGpuEachWithItsOwn()
    {
        var layout = SlotLayout.Plan(slots: null, slotGpus: null, visibleGpus: ["0", "1"], cores: 16);

        Assert.Equal([new SlotAssignment(0, "0", 8), new SlotAssignment(1, "1", 8)], layout.Slots);
    }

    [Fact]
    public void Plan_MoreSlotsThanFakeGpusWithoutRealGpu_SlotsShareGpusInTurn()
    {
        var layout = SlotLayout.Plan(slots: 4, slotGpus: null, visibleGpus: ["2", "3"], cores: 8);

        Assert.Equal(["2", "3", "2", "3"], layout.Slots.Select(s => s.Gpus));
        Assert.All(layout.Slots, s => Assert.Equal(2, s.CpuThreads));
    }

    [Fact]
    public void Plan_ExplicitSlotGpusWithoutRealGpu_SlotNGetsEntryN()
    {
        var layout = SlotLayout.Plan(slots: null, slotGpus: ["0", "1", "2,3"], visibleGpus: ["0", "1", "2", "3"], cores: 12);

        Assert.Equal(["0", "1", "2,3"], layout.Slots.Select(s => s.Gpus));
        Assert.Equal(3, layout.Count);
    }

    [Fact]
    public void Plan_CpuMachine_ConfiguredSlotsSplitTheCoresAndSeeNoGpu()
    {
        var layout = SlotLayout.Plan(slots: 3, slotGpus: null, visibleGpus: [], cores: 8);

        Assert.Equal([new SlotAssignment(0, "", 2), new SlotAssignment(1, "", 2), new SlotAssignment(2, "", 2)], layout.Slots);
    }

    [Fact]
    public void Plan_CpuMachineMoreSlotsThanCores_EverySlotKeepsOneThread()
    {
        var layout = SlotLayout.Plan(slots: 4, slotGpus: null, visibleGpus: [], cores: 2);

        Assert.All(layout.Slots, s => Assert.Equal(1, s.CpuThreads));
    }

    [Fact]
    public void Plan_NothingConfiguredOnCpuMachine_OneSlotWithEveryCore()
    {
        var layout = SlotLayout.Plan(slots: null, slotGpus: null, visibleGpus: [], cores: 6);

        Assert.Equal([new SlotAssignment(0, "", 6)], layout.Slots);
    }
}
