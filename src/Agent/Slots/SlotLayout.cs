using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Slots;

/// <summary>What one slot gets: the GPUs a command sees (CUDA_VISIBLE_DEVICES; empty on a CPU slot) and its share of the CPU threads.</summary>
public sealed record SlotAssignment(int Slot, string Gpus, int CpuThreads);

/// <summary>
/// How many slots the agent has and what each gets: one slot per visible GPU by default, or Agent:Slots, or the
/// explicit Agent:SlotGpus list; on a machine without GPUs, Agent:Slots (default 1) with the cores split between them.
/// </summary>
public sealed class SlotLayout
{
    private readonly SlotAssignment[] _slots;

    public SlotLayout(IReadOnlyList<SlotAssignment> slots) => _slots = [.. slots];

    public int Count => _slots.Length;

    public IReadOnlyList<SlotAssignment> Slots => _slots;

    public SlotAssignment this[int slot] => _slots[slot];

    /// <summary>The agent's layout from its options, the GPUs it can see and its cores.</summary>
    public static SlotLayout FromOptions(IOptions<AgentOptions> options)
    {
        var o = options.Value;
        return Plan(o.Slots, o.SlotGpus, o.Device == AgentOptions.DeviceCpu ? [] : VisibleGpus(), Environment.ProcessorCount);
    }

    /// <summary>
    /// Slot i gets <paramref name="slotGpus"/>[i] when given, else visible GPU i modulo their number; every slot gets
    /// cores / slots CPU threads (at least 1). No GPU visible: every slot gets an empty GPU list.
    /// </summary>
    public static SlotLayout Plan(int? slots, IReadOnlyList<string>? slotGpus, IReadOnlyList<string> visibleGpus, int cores)
    {
        var count = slots ?? (slotGpus is { Count: > 0 } ? slotGpus.Count : Math.Max(1, visibleGpus.Count));
        var threads = Math.Max(1, cores / count);
        return new SlotLayout([.. Enumerable.Range(0, count).Select(i => new SlotAssignment(i,
            slotGpus is { Count: > 0 } ? slotGpus[i % slotGpus.Count]
            : visibleGpus.Count > 0 ? visibleGpus[i % visibleGpus.Count]
            : "",
            threads))]);
    }

    /// <summary>The agent's own CUDA_VISIBLE_DEVICES when set, else the indexes nvidia-smi lists, else none.</summary>
    public static IReadOnlyList<string> VisibleGpus()
    {
        if (Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is { } inherited)
        {
            return [.. inherited.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).TakeWhile(g => g != "-1")];
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "-L") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return [];
            }

            var lines = process.StandardOutput.ReadToEnd().Split('\n').Count(l => l.StartsWith("GPU ", StringComparison.Ordinal));
            return process.WaitForExit(5000) && process.ExitCode == 0 ? [.. Enumerable.Range(0, lines).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))] : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No NVIDIA driver: a CPU machine.
            return [];
        }
    }
}
