using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>Independent uniform sampling on each parameter's own scale; trial n of a seed is always the same.</summary>
public sealed class RandomSampler(int seed) : ISampler
{
    public int Seed { get; } = seed;

    /// <inheritdoc />
    public bool UsesHistory => false;

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        // One generator per trial number, so a restarted dashboard proposes the same trial n again.
        var rng = new SplitMix64(Seed, context.TrialNumber);
        var proposal = new Dictionary<string, ParamValue>(context.Space.Parameters.Count);
        foreach (var parameter in context.Space.Parameters)
        {
            proposal[parameter.Name] = parameter.FromUnit(rng.NextDouble());
        }

        return proposal;
    }
}
