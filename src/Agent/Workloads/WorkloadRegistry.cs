namespace HyperTune.Agent.Workloads;

/// <summary>The workloads this agent runs, by name.</summary>
public sealed class WorkloadRegistry(IEnumerable<ITrialWorkload> workloads)
{
    private readonly Dictionary<string, ITrialWorkload> _byName = workloads.ToDictionary(w => w.Name, StringComparer.Ordinal);

    public IReadOnlyList<string> Names { get; } = workloads.Select(w => w.Name).Order(StringComparer.Ordinal).ToArray();

    public ITrialWorkload? Find(string name) => _byName.GetValueOrDefault(name);
}
