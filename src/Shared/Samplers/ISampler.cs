using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>What a sampler may look at when it proposes the next trial.</summary>
/// <param name="Space">The space to sample from.</param>
/// <param name="TrialNumber">0-based number of the sampled trial within its study.</param>
public sealed record SamplerContext(SearchSpace Space, int TrialNumber);

/// <summary>Proposes a configuration for the next trial.</summary>
public interface ISampler
{
    IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context);
}
