using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>
/// Visits every point of a grid over the space once, in a seeded shuffled order; after the last point the same order repeats.
/// </summary>
/// <remarks>
/// A numeric parameter gets <c>resolution</c> points from its low to its high end, evenly spaced on its own scale
/// (geometric for a log scale); ints are snapped to their steps and duplicates dropped. A categorical gets all its choices.
/// The shuffle is a seeded bijection on the grid's indices, so trial n needs no state and no list of visited points.
/// </remarks>
public sealed class GridSampler : ISampler
{
    private const int FeistelRounds = 4;
    private readonly IReadOnlyDictionary<string, int> _resolutions;

    /// <param name="seed">Seeds the visiting order.</param>
    /// <param name="resolution">Points per numeric parameter, at least 1 (1 gives the middle of the range).</param>
    /// <param name="resolutions">Optional points per numeric parameter by name, overriding <paramref name="resolution"/>.</param>
    public GridSampler(int seed, int resolution = 10, IReadOnlyDictionary<string, int>? resolutions = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, 1);
        foreach (var (name, r) in resolutions ?? new Dictionary<string, int>())
        {
            if (r < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(resolutions), r, $"resolutions[{name}] must be at least 1, got {r}");
            }
        }

        Seed = seed;
        Resolution = resolution;
        _resolutions = resolutions ?? new Dictionary<string, int>();
    }

    public int Seed { get; }

    public int Resolution { get; }

    /// <summary>The grid's values of each parameter, in the space's order.</summary>
    public IReadOnlyList<IReadOnlyList<ParamValue>> Axes(SearchSpace space) =>
        space.Parameters.Select(p => Axis(p, _resolutions.GetValueOrDefault(p.Name, Resolution))).ToList();

    /// <summary>How many points the grid over <paramref name="space"/> has.</summary>
    public long Size(SearchSpace space)
    {
        long size = 1;
        foreach (var axis in Axes(space))
        {
            size = size > long.MaxValue / 4 / axis.Count
                ? throw new ArgumentException($"the grid over this space has more than 2^61 points; lower the resolution", nameof(space))
                : size * axis.Count;
        }

        return size;
    }

    /// <inheritdoc />
    public bool UsesHistory => false;

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        var axes = Axes(context.Space);
        var size = Size(context.Space);
        var index = Permute((ulong)(context.TrialNumber % size), (ulong)size);
        var proposal = new Dictionary<string, ParamValue>(axes.Count);
        for (var i = axes.Count - 1; i >= 0; i--)
        {
            var axis = axes[i];
            proposal[context.Space.Parameters[i].Name] = axis[(int)(index % (ulong)axis.Count)];
            index /= (ulong)axis.Count;
        }

        return proposal;
    }

    private static List<ParamValue> Axis(Parameter parameter, int resolution) => parameter switch
    {
        CategoricalParameter c => [.. c.Choices],
        _ => Enumerable.Range(0, resolution)
            .Select(k => parameter.FromUnit(resolution == 1 ? 0.5 : (double)k / (resolution - 1)))
            .Distinct()
            .ToList(),
    };

    // A seeded Feistel network on the next even power of two, walked until it lands inside [0, size): a bijection on [0, size).
    private ulong Permute(ulong x, ulong size)
    {
        var bits = 64 - ulong.LeadingZeroCount(Math.Max(size - 1, 1));
        var half = (int)((bits + 1) / 2);
        var mask = (1UL << half) - 1;
        do
        {
            ulong left = x >> half, right = x & mask;
            for (var round = 0; round < FeistelRounds; round++)
            {
                (left, right) = (right, left ^ (SplitMix64.Mix(right ^ ((ulong)(uint)Seed << 32) ^ ((ulong)round << 59)) & mask));
            }

            x = (left << half) | right;
        }
        while (x >= size);

        return x;
    }
}
