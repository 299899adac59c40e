using HyperTune.Shared.Pruners;
using static HyperTune.Shared.Tests.PrunerStudies;

namespace HyperTune.Shared.Tests;

/// <summary>What every pruner promises, run against each of them.</summary>
public class PrunerContractTests
{
    private const int Epochs = 27;

    public static TheoryData<string> Pruners => ["patience", "median", "asha", "hyperband"];

    private static IPruner Create(string name) => name switch
    {
        "patience" => new PatiencePruner(patience: 3),
        "median" => new MedianPruner(startupTrials: 5),
        "asha" => new AshaPruner(minEpochs: 1, reductionFactor: 3, maxEpochs: Epochs),
        "hyperband" => new HyperbandPruner(minEpochs: 1, maxEpochs: Epochs, reductionFactor: 3),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown pruner"),
    };

    private static readonly List<TrialCurve> Study = FinishedStudy(40);

    // Better than every finished trial at every epoch, and better than its own previous epoch. Patience stops a
    // plateaued leader by design, so "best so far" here means best of the study at this epoch and still improving.
    private static TrialCurve Leader(long id) =>
        Curve(id, [.. Enumerable.Range(1, Epochs).Select(t => Study.Min(c => c.Values[t - 1]) - 0.01)]);

    // Stuck near the starting loss (and creeping up) while everyone else learns; ids whose Hyperband bracket can prune at epoch 9.
    private static TrialCurve Laggard()
    {
        var hyperband = new HyperbandPruner(1, Epochs);
        var id = Enumerable.Range(1000, 100).First(id => hyperband.BracketOf(id) < hyperband.BracketCount - 1);
        return Curve(id, [.. Enumerable.Range(1, 9).Select(t => 0.95 + (0.0001 * t))]);
    }

    [Theory]
    [MemberData(nameof(Pruners))]
    public void Decide_TrialBestAtItsEpoch_NeverPrunes(string name)
    {
        var pruner = Create(name);

        foreach (var id in Enumerable.Range(500, 20))
        {
            foreach (var epoch in Enumerable.Range(1, Epochs))
            {
                var decision = pruner.Decide(Context(Leader(id).At(epoch), Study));
                Assert.False(decision.Prune, $"trial {id} at epoch {epoch}: {decision.Reason}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pruners))]
    public void Decide_SameInputs_SameDecision(string name)
    {
        foreach (var epoch in Enumerable.Range(1, 9))
        {
            var context = Context(Laggard().At(epoch), Study);

            var first = Create(name).Decide(context);
            var again = Create(name).Decide(context);
            var pruner = Create(name);
            pruner.Decide(Context(Leader(7).At(epoch), Study));

            Assert.Equal(first, again);
            Assert.Equal(first, pruner.Decide(context));
        }
    }

    [Theory]
    [MemberData(nameof(Pruners))]
    public void Decide_OneTrialAlone_ContinuesWhileItImproves(string name)
    {
        var pruner = Create(name);
        var alone = Curve(1, Decaying(0.3, Epochs));

        foreach (var epoch in Enumerable.Range(0, Epochs + 1))
        {
            Assert.False(pruner.Decide(Context(alone.At(epoch), [])).Prune);
        }
    }

    [Theory]
    [MemberData(nameof(Pruners))]
    public void Decide_ClearlyBadCurve_PrunesWhicheverWayTheMetricPoints(string name)
    {
        var minimize = Context(Laggard(), Study);

        Assert.True(Create(name).Decide(minimize).Prune);
        Assert.True(Create(name).Decide(minimize.Mirror()).Prune);
        // The same numbers read as accuracy make the laggard the leader.
        Assert.False(Create(name).Decide(minimize with { Maximize = true }).Prune);
    }

    [Theory]
    [MemberData(nameof(Pruners))]
    public void Decide_MirroredStudy_DecidesAlikeAtEveryEpoch(string name)
    {
        var pruner = Create(name);

        foreach (var trial in Study.Take(12).Select(c => c with { Finished = false }))
        {
            var others = Study.Where(c => c.TrialId != trial.TrialId).ToList();
            foreach (var epoch in Enumerable.Range(1, Epochs))
            {
                var context = Context(trial.At(epoch), others);
                Assert.Equal(pruner.Decide(context).Prune, pruner.Decide(context.Mirror()).Prune);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pruners))]
    public void Decide_Prune_SentenceNamesTheEpochAndTheMetric(string name)
    {
        var decision = Create(name).Decide(Context(Laggard(), Study));

        Assert.True(decision.Prune);
        Assert.StartsWith("pruned at epoch 9", decision.Reason);
        Assert.Contains(Metric, decision.Reason);
    }
}
