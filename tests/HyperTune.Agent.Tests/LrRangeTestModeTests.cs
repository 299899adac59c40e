using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.LearningRate;
using HyperTune.Shared.Workloads;
using TorchSharp;

namespace HyperTune.Agent.Tests;

public sealed class LrRangeTestModeTests
{
    private static readonly FashionMnistSettings Small = FashionMnistSettings.Defaults(WorkloadCatalog.FashionMnistMlp) with
    {
        Momentum = 0.9,
        BatchSize = 32,
        TrainSamples = 1000,
    };

    [Fact]
    public void RangeTest_MlpFrom1e5To10_RaisesLrEveryStepAndTheCurveProposesBounds()
    {
        var test = new LrRangeTestSpec(1e-5, 10, 120, Auto: false);
        var points = new List<(int Step, double Lr, double Loss)>();

        new FashionMnistTrainer(FashionMnistData.Load(FashionMnistData.DefaultDirectory), torch.CPU)
            .RangeTest(FashionMnistModel.Mlp, Small, test, (step, lr, loss) => points.Add((step, lr, loss)), CancellationToken.None);

        // 120 steps over 32 batches of the 1,000-image subset: the subset is cycled.
        Assert.InRange(points.Count, 40, 120);
        Assert.Equal(Enumerable.Range(1, points.Count), points.Select(p => p.Step));
        Assert.Equal(1e-5, points[0].Lr, 12);
        Assert.All(points.Zip(points.Skip(1)), pair => Assert.True(pair.Second.Lr > pair.First.Lr));
        Assert.InRange(points[0].Loss, 1.8, 2.8);

        var analysis = LrRangeCurve.Analyze([.. points.Select(p => new LrLossPoint(p.Lr, p.Loss))]);
        var proposal = Assert.IsType<LrProposal>(analysis.Proposal);
        Assert.True(proposal.Low < proposal.High, proposal.Sentence);
        Assert.InRange(proposal.High, 1e-4, 1);
    }

    [Fact]
    public void RangeTest_Cancelled_StopsBetweenTwoSteps()
    {
        using var stop = new CancellationTokenSource();
        var steps = 0;

        Assert.Throws<OperationCanceledException>(() =>
            new FashionMnistTrainer(FashionMnistData.Load(FashionMnistData.DefaultDirectory), torch.CPU).RangeTest(
                FashionMnistModel.Mlp, Small, new LrRangeTestSpec(1e-5, 1, 100, Auto: false),
                (_, _, _) =>
                {
                    if (++steps == 3)
                    {
                        stop.Cancel();
                    }
                },
                stop.Token));

        Assert.Equal(3, steps);
    }
}
