using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Samplers;

/// <summary>A finished (or failed) trial as a sampler sees it: its parameters and its objective value, if any.</summary>
/// <param name="Params">The trial's values of the searched parameters (and any others it ran with).</param>
/// <param name="Value">The objective value (the trial's best), or null when the trial failed or reported none.</param>
public sealed record TrialResult(IReadOnlyDictionary<string, ParamValue> Params, double? Value);

/// <summary>What a sampler may look at when it proposes the next trial.</summary>
/// <param name="Space">The space to sample from.</param>
/// <param name="TrialNumber">0-based number of the sampled trial within its study.</param>
/// <param name="History">Trials of the study that have ended, oldest first; empty for samplers that ignore it.</param>
/// <param name="Direction">Whether larger or smaller objective values are better.</param>
public sealed record SamplerContext(SearchSpace Space, int TrialNumber, IReadOnlyList<TrialResult> History, Direction Direction = Direction.Maximize)
{
    public SamplerContext(SearchSpace space, int trialNumber)
        : this(space, trialNumber, [])
    {
    }
}

/// <summary>Proposes a configuration for the next trial.</summary>
public interface ISampler
{
    /// <summary>False for samplers whose proposals ignore <see cref="SamplerContext.History"/>: callers may pass none.</summary>
    bool UsesHistory => true;

    IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context);
}
