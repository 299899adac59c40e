using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>Independent uniform sampling on each parameter's own scale; trial n of a seed is always the same.</summary>
public sealed class RandomSampler(int seed) : ISampler
{
    public int Seed { get; } = seed;

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        // One generator per trial number, so a restarted dashboard proposes the same trial n again.
        var rng = new TrialRandom(Seed, context.TrialNumber);
        var proposal = new Dictionary<string, ParamValue>(context.Space.Parameters.Count);
        foreach (var parameter in context.Space.Parameters)
        {
            proposal[parameter.Name] = parameter.FromUnit(rng.NextDouble());
        }

        return proposal;
    }

    // SplitMix64 over (seed, trial): System.Random's first draws are affine in its seed, so nearby per-trial seeds gave skewed draws.
    private struct TrialRandom(int seed, int trial)
    {
        private ulong _state = Mix(((ulong)(uint)seed << 32) | (uint)trial);

        public double NextDouble() => (Mix(_state += 0x9E3779B97F4A7C15UL) >> 11) * (1.0 / (1UL << 53));

        private static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
