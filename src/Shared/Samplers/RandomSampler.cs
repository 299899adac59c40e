using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>Independent uniform sampling on each parameter's own scale; trial n of a seed is always the same.</summary>
public sealed class RandomSampler(int seed) : ISampler
{
    public int Seed { get; } = seed;

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        // One generator per trial number, so a restarted dashboard proposes the same trial n again.
        var rng = new Random(unchecked((Seed * 1_000_003) ^ (context.TrialNumber * 7919) ^ 0x5bd1e995));
        var proposal = new Dictionary<string, ParamValue>(context.Space.Parameters.Count);
        foreach (var parameter in context.Space.Parameters)
        {
            proposal[parameter.Name] = parameter.FromUnit(rng.NextDouble());
        }

        return proposal;
    }
}
