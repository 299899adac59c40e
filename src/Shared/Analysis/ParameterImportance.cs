using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace HyperTune.Shared.Analysis;

/// <summary>The share of the objective's variance that one parameter explains on its own.</summary>
public readonly record struct ParameterShare(string Name, double Importance);

/// <summary>
/// Parameter importances (shares summing to 1, largest first) and the trials they were fitted on:
/// <paramref name="TrialsUsed"/> of <paramref name="TrialsAvailable"/> (a seeded sample when there are more than the fit takes).
/// </summary>
public sealed record ImportanceResult(IReadOnlyList<ParameterShare> Parameters, int TrialsUsed, int TrialsAvailable)
{
    /// <summary>True when no parameter explains any of the objective's variance (every trial scored alike, or too few trials).</summary>
    public bool IsFlat => Parameters.All(p => p.Importance == 0);
}

/// <summary>
/// fANOVA parameter importance (Hutter, Hoos and Leyton-Brown 2014, as optuna computes it): a random forest (ML.NET's
/// FastForest) is fitted on the trials' parameters mapped into the unit cube by <see cref="Parameter.ToUnit"/> (so log
/// scales count in log space and a categorical is the index of its choice), and each parameter's importance is the
/// variance of the forest's marginal prediction along it, as a fraction of the prediction's variance, averaged over the
/// trees and normalised to sum to 1.
/// </summary>
public static class ParameterImportance
{
    /// <summary>The fewest trials an importance is computed from.</summary>
    public const int MinTrials = 5;

    /// <summary>
    /// The most trials one fit uses: above it, a sample chosen by hashing (seed, trial number), so it is the same for a
    /// seed and a new trial changes it by at most one member. Keeps a fit of 10,000 trials well under a second.
    /// </summary>
    public const int MaxTrials = 1000;

    /// <summary>Trees in the forest.</summary>
    public const int Trees = 32;

    /// <summary>
    /// The importance of each parameter of <paramref name="space"/> over <paramref name="trials"/> (non-finite values left
    /// out); no shares when there are fewer than <see cref="MinTrials"/>. The same seed and trials give the same result.
    /// A conditional parameter a trial ran without counts at the middle of its range, as the samplers see it.
    /// </summary>
    public static ImportanceResult Compute(SearchSpace space, IReadOnlyCollection<ScoredTrial> trials, int seed)
    {
        var usable = trials.Where(t => double.IsFinite(t.Value)).ToList();
        if (usable.Count < MinTrials || space.Parameters.Count == 0)
        {
            return new ImportanceResult([], 0, usable.Count);
        }

        var sample = usable.Count <= MaxTrials
            ? usable
            : [.. usable.OrderBy(t => SplitMix64.Mix(((ulong)(uint)seed << 32) ^ (uint)t.Number)).Take(MaxTrials)];
        var forest = Fit(space, sample, seed);
        var features = space.Parameters.Count;
        var sums = new double[features];
        var counted = 0;
        foreach (var tree in forest)
        {
            if (tree.Total <= 1e-12 * Math.Max(1, tree.Mean * tree.Mean))
            {
                continue;
            }

            counted++;
            for (var j = 0; j < features; j++)
            {
                sums[j] += tree.MainEffect(j) / tree.Total;
            }
        }

        var sum = sums.Sum();
        var shares = space.Parameters
            .Select((p, j) => new ParameterShare(p.Name, counted > 0 && sum > 0 ? sums[j] / sum : 0))
            .OrderByDescending(s => s.Importance)
            .ToList();
        return new ImportanceResult(shares, sample.Count, usable.Count);
    }

    private static List<TreeVariance> Fit(SearchSpace space, IReadOnlyList<ScoredTrial> trials, int seed)
    {
        var features = space.Parameters.Count;
        var rows = trials.Select(t => new ForestRow { Features = Unit(space, t.Params), Label = (float)t.Value }).ToList();
        var ml = new MLContext(seed);
        var schema = SchemaDefinition.Create(typeof(ForestRow));
        schema[nameof(ForestRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        var options = new FastForestRegressionTrainer.Options
        {
            NumberOfTrees = Trees,
            NumberOfLeaves = 32,
            MinimumExampleCountPerLeaf = 2,

            // Every parameter is a candidate at every split, as in optuna's forest; the trees differ by their bootstrap.
            FeatureFraction = 1,
            FeatureFractionPerSplit = 1,
            BaggingExampleFraction = 0.7,

            // One thread: the same seed then gives the same forest, and the dashboard's other work keeps its cores.
            NumberOfThreads = 1,
            Seed = seed,
            FeatureSelectionSeed = seed,
        };
        var model = ml.Regression.Trainers.FastForest(options).Fit(ml.Data.LoadFromEnumerable(rows, schema));
        return [.. model.Model.TrainedTreeEnsemble.Trees.Select(tree => new TreeVariance(features, tree.LeftChild, tree.RightChild,
            tree.NumericalSplitFeatureIndexes, tree.NumericalSplitThresholds, tree.LeafValues))];
    }

    private static float[] Unit(SearchSpace space, IReadOnlyDictionary<string, ParamValue> values)
    {
        var complete = space.Completed(values);
        return [.. space.Parameters.Select(p => p.ToUnit(complete[p.Name]) is var u && double.IsFinite(u) ? (float)u : 0.5f)];
    }

    // ML.NET reads rows through public fields.
    private sealed class ForestRow
    {
        public float[] Features = [];

        public float Label;
    }
}
