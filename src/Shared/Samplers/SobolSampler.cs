using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>
/// Quasi-random search: trial n is point n of a Sobol sequence, digitally shifted by the seed, mapped through each parameter's scale.
/// </summary>
/// <remarks>
/// Direction numbers are Joe and Kuo's (new-joe-kuo-6.21201) for the first 40 parameters; a 41st parameter and later ones
/// draw seeded uniform values instead, because no maintained Sobol package is served by the package mirror.
/// The random digital shift (an XOR of each coordinate with a seeded 32-bit word) keeps the sequence's stratification
/// while making different seeds give different, equally even designs.
/// </remarks>
public sealed class SobolSampler(int seed) : ISampler
{
    private const int Bits = 32;

    // (degree s, coefficients a, initial direction numbers m_1..m_s) of dimensions 2..40; dimension 1 is van der Corput.
    private static readonly (int Degree, uint Coefficients, uint[] Initial)[] JoeKuo =
    [
        (1, 0, [1]),
        (2, 1, [1, 3]),
        (3, 1, [1, 3, 1]),
        (3, 2, [1, 1, 1]),
        (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]),
        (5, 2, [1, 1, 5, 5, 17]),
        (5, 4, [1, 1, 5, 5, 5]),
        (5, 7, [1, 1, 7, 11, 19]),
        (5, 11, [1, 1, 5, 1, 1]),
        (5, 13, [1, 1, 1, 3, 11]),
        (5, 14, [1, 3, 5, 5, 31]),
        (6, 1, [1, 3, 3, 9, 7, 49]),
        (6, 13, [1, 1, 1, 15, 21, 21]),
        (6, 16, [1, 3, 1, 13, 27, 49]),
        (6, 19, [1, 1, 1, 15, 7, 5]),
        (6, 22, [1, 3, 1, 15, 13, 25]),
        (6, 25, [1, 1, 5, 5, 19, 61]),
        (7, 1, [1, 3, 7, 11, 23, 15, 103]),
        (7, 4, [1, 3, 7, 13, 13, 15, 69]),
        (7, 7, [1, 1, 3, 13, 7, 35, 63]),
        (7, 8, [1, 3, 5, 9, 1, 25, 53]),
        (7, 14, [1, 3, 1, 13, 9, 35, 107]),
        (7, 19, [1, 3, 1, 5, 27, 61, 31]),
        (7, 21, [1, 1, 5, 11, 19, 41, 61]),
        (7, 28, [1, 3, 5, 3, 3, 13, 69]),
        (7, 31, [1, 1, 7, 13, 1, 19, 1]),
        (7, 32, [1, 3, 7, 5, 13, 19, 59]),
        (7, 37, [1, 1, 3, 9, 25, 29, 41]),
        (7, 41, [1, 3, 5, 13, 23, 1, 55]),
        (7, 42, [1, 3, 7, 3, 13, 59, 17]),
        (7, 50, [1, 3, 1, 3, 5, 53, 69]),
        (7, 55, [1, 1, 5, 5, 23, 33, 13]),
        (7, 56, [1, 1, 7, 7, 1, 61, 123]),
        (7, 59, [1, 1, 7, 9, 13, 61, 49]),
        (7, 62, [1, 3, 3, 5, 3, 55, 33]),
        (8, 14, [1, 3, 1, 15, 31, 13, 49, 245]),
        (8, 21, [1, 3, 5, 15, 31, 59, 63, 97]),
        (8, 22, [1, 3, 1, 11, 11, 11, 77, 249]),
    ];

    private static readonly uint[][] Directions = BuildDirections();

    public int Seed { get; } = seed;

    /// <summary>How many parameters get Sobol coordinates; later ones get seeded uniform draws.</summary>
    public static int MaxDimensions => Directions.Length;

    /// <inheritdoc />
    public bool UsesHistory => false;

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        var shifts = new SplitMix64(Seed, -1);
        var fallback = new SplitMix64(Seed, context.TrialNumber);
        var gray = (uint)context.TrialNumber ^ ((uint)context.TrialNumber >> 1);
        var proposal = new Dictionary<string, ParamValue>(context.Space.Parameters.Count);
        for (var d = 0; d < context.Space.Parameters.Count; d++)
        {
            var shift = (uint)(shifts.NextUInt64() >> 32);
            var u = d < Directions.Length ? Point(Directions[d], gray, shift) : fallback.NextDouble();
            proposal[context.Space.Parameters[d].Name] = context.Space.Parameters[d].FromUnit(u);
        }

        return proposal;
    }

    // Gray-code order, as in Joe and Kuo's generator: the first 2^m points are the same set as in natural order.
    private static double Point(uint[] directions, uint gray, uint shift)
    {
        var x = shift;
        for (var k = 0; gray != 0; k++, gray >>= 1)
        {
            if ((gray & 1) != 0)
            {
                x ^= directions[k];
            }
        }

        return (x + 0.5) / 4294967296.0;
    }

    private static uint[][] BuildDirections()
    {
        var all = new uint[JoeKuo.Length + 1][];
        all[0] = Enumerable.Range(0, Bits).Select(k => 1u << (Bits - 1 - k)).ToArray();
        for (var j = 0; j < JoeKuo.Length; j++)
        {
            var (s, a, m) = JoeKuo[j];
            var v = new uint[Bits];
            for (var k = 0; k < Bits; k++)
            {
                if (k < s)
                {
                    v[k] = m[k] << (Bits - 1 - k);
                    continue;
                }

                v[k] = v[k - s] ^ (v[k - s] >> s);
                for (var i = 1; i < s; i++)
                {
                    v[k] ^= ((a >> (s - 1 - i)) & 1) * v[k - i];
                }
            }

            all[j + 1] = v;
        }

        return all;
    }
}
