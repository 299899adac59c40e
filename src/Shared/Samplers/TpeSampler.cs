using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Samplers;

/// <summary>
/// Tree-structured Parzen Estimator, as Optuna 3.1 does it: split the finished trials into the best gamma(n) and the rest,
/// fit a Parzen estimator l to the best and g to the rest, and propose the candidate drawn from l that maximises l/g.
/// </summary>
/// <remarks>
/// gamma(n) = min(ceil(0.1 n), 25). Independent mode fits one estimator per parameter; multivariate mode fits one joint
/// estimator over all parameters, so it can follow interactions. Failed trials (no value, or a non-finite one) join the
/// worse group: the region that crashed should not be proposed again. Ints are modelled on their continuous unit scale
/// and snapped on the way out; categoricals by smoothed counts. The first <c>startupTrials</c> proposals, while fewer
/// trials than that have a value, are random.
/// </remarks>
public sealed class TpeSampler : ISampler
{
    private readonly RandomSampler _startup;

    /// <param name="seed">Seeds the startup trials and the candidate draws.</param>
    /// <param name="multivariate">One joint estimator over all parameters instead of one per parameter.</param>
    /// <param name="startupTrials">Random proposals until this many trials have a value; 0 or more.</param>
    /// <param name="candidates">Candidates drawn from l per proposal (Optuna's n_ei_candidates); at least 1.</param>
    /// <param name="priorWeight">Weight of the prior kernel; greater than 0.</param>
    public TpeSampler(int seed, bool multivariate = false, int startupTrials = 10, int candidates = 24, double priorWeight = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startupTrials);
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates, 1);
        if (!(priorWeight > 0) || !double.IsFinite(priorWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(priorWeight), priorWeight, $"priorWeight must be a finite number > 0, got {priorWeight}");
        }

        Seed = seed;
        Multivariate = multivariate;
        StartupTrials = startupTrials;
        Candidates = candidates;
        PriorWeight = priorWeight;
        _startup = new RandomSampler(seed);
    }

    public int Seed { get; }

    public bool Multivariate { get; }

    public int StartupTrials { get; }

    public int Candidates { get; }

    public double PriorWeight { get; }

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        var trials = UnitHistory.From(context);
        var finished = trials.Count(t => t.Loss is not null);
        if (context.Space.Parameters.Count == 0 || finished < StartupTrials)
        {
            return _startup.Propose(context);
        }

        var (below, above) = Split(trials, finished, context.Space.Parameters.Count);
        var choices = context.Space.Parameters.Select(p => p is CategoricalParameter c ? c.Choices.Count : 0).ToArray();
        var groups = Multivariate
            ? [Enumerable.Range(0, choices.Length).ToArray()]
            : Enumerable.Range(0, choices.Length).Select(d => new[] { d }).ToArray();

        var rng = new SplitMix64(Seed, context.TrialNumber);
        var u = new double[choices.Length];
        var scores = new double[Candidates];
        var penalties = new double[Candidates];
        foreach (var group in groups)
        {
            var groupChoices = group.Select(d => choices[d]).ToArray();
            var l = new ParzenEstimator([.. group.Select(d => below[d])], groupChoices, Multivariate, PriorWeight);
            var g = new ParzenEstimator([.. group.Select(d => above[d])], groupChoices, Multivariate, PriorWeight);
            var candidates = new double[Candidates][];
            for (var k = 0; k < Candidates; k++)
            {
                candidates[k] = new double[group.Length];
                l.Sample(ref rng, candidates[k]);
            }

            l.LogPdf(candidates, scores);
            g.LogPdf(candidates, penalties);
            var best = 0;
            for (var k = 1; k < Candidates; k++)
            {
                best = scores[k] - penalties[k] > scores[best] - penalties[best] ? k : best;
            }

            for (var j = 0; j < group.Length; j++)
            {
                u[group[j]] = candidates[best][j];
            }
        }

        return UnitHistory.ToProposal(context.Space, u);
    }

    // The best gamma(n) finished trials, and the rest with the failed ones, as one column per parameter; both keep their
    // trial order for the weights.
    private static (double[][] Below, double[][] Above) Split(List<UnitTrial> trials, int finished, int dimensions)
    {
        var nBelow = Math.Min((int)Math.Ceiling(0.1 * finished), 25);
        var best = Enumerable.Range(0, trials.Count)
            .Where(i => trials[i].Loss is not null)
            .OrderBy(i => trials[i].Loss!.Value)
            .ThenBy(i => i)
            .Take(nBelow)
            .ToHashSet();
        var below = Enumerable.Range(0, dimensions).Select(_ => new double[nBelow]).ToArray();
        var above = Enumerable.Range(0, dimensions).Select(_ => new double[trials.Count - nBelow]).ToArray();
        for (int i = 0, b = 0, a = 0; i < trials.Count; i++)
        {
            var (columns, row) = best.Contains(i) ? (below, b++) : (above, a++);
            for (var d = 0; d < dimensions; d++)
            {
                columns[d][row] = trials[i].X[d];
            }
        }

        return (below, above);
    }
}
