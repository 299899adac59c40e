using HyperTune.Agent.Workloads.Command;

namespace HyperTune.Agent.Workloads;

/// <summary>The workloads this agent runs, by name: built-ins by their own name, commands as "command:&lt;name&gt;".</summary>
public sealed class WorkloadRegistry(IEnumerable<ITrialWorkload> builtIn, IEnumerable<CommandWorkload> commands)
{
    private readonly Dictionary<string, ITrialWorkload> _byName = builtIn.Concat(commands).ToDictionary(w => w.Name, StringComparer.Ordinal);

    /// <summary>The built-in workloads (Hello.workloads).</summary>
    public IReadOnlyList<string> Names { get; } = builtIn.Select(w => w.Name).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The names of the declared commands, without the prefix (Hello.commands).</summary>
    public IReadOnlyList<string> Commands { get; } = commands.Select(c => c.CommandName).Order(StringComparer.Ordinal).ToArray();

    public ITrialWorkload? Find(string name) => _byName.GetValueOrDefault(name);
}
