namespace HyperTune.Shared.Samplers;

/// <summary>A seeded generator keyed by (seed, stream), so trial n of a seed draws the same numbers after a restart.</summary>
/// <remarks>SplitMix64: System.Random's first draws are affine in its seed, so nearby per-trial seeds gave skewed draws.</remarks>
internal struct SplitMix64(int seed, long stream)
{
    private ulong _state = Mix(((ulong)(uint)seed << 32) ^ (ulong)stream);

    public ulong NextUInt64() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="count"/>).</summary>
    public int NextInt(int count) => (int)(NextDouble() * count);

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public double NextGaussian() => Math.Sqrt(-2 * Math.Log(1 - NextDouble())) * Math.Cos(2 * Math.PI * NextDouble());

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
