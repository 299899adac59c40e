using HyperTune.Agent.Checkpoints;
using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.Workloads;
using TorchSharp;

namespace HyperTune.Agent.Tests;

/// <summary>Checkpoints of the built-in workloads with real TorchSharp training on a small subset, kept in a temporary folder.</summary>
public sealed class CheckpointTests : IDisposable
{
    // Dropout 0: dropout draws from libtorch's process-wide generator, which a checkpoint cannot capture.
    private static readonly FashionMnistSettings Small = FashionMnistSettings.Defaults(WorkloadCatalog.FashionMnistMlp) with
    {
        Lr = 0.05,
        Momentum = 0.9,
        Dropout = 0,
        BatchSize = 50,
        Epochs = 3,
        TrainSamples = 1000,
        ValSamples = 300,
        TestSamples = 300,
    };

    private readonly CheckpointStore store = new(Directory.CreateTempSubdirectory("hypertune-checkpoints-").FullName);

    private static FashionMnistTrainer Trainer() => new(FashionMnistData.Load(FashionMnistData.DefaultDirectory), torch.CPU);

    private List<EpochMetrics> Train(long trialId, FashionMnistSettings settings, ResumePoint? resume = null)
    {
        var epochs = new List<EpochMetrics>();
        Trainer().Train(FashionMnistModel.Mlp, settings, epochs.Add, CancellationToken.None, checkpoints: new CheckpointHooks(resume,
            (epoch, isBest, write) => store.Save(trialId, 1, epoch, isBest, write)));
        return epochs;
    }

    [Fact]
    public void Resume_FromEpochTwoOfThree_TrainsTheThirdEpochExactlyAsWithoutTheStop()
    {
        var straight = Train(1, Small);
        Train(2, Small with { Epochs = 2 });

        var resumed = Train(3, Small, new ResumePoint(store.PathOf(2, 1, 2), 2));

        var epoch = Assert.Single(resumed);
        Assert.Equal(3, epoch.Epoch);
        Assert.Equal(straight[2].TrainLoss, epoch.TrainLoss, 5);
        Assert.Equal(straight[2].ValLoss, epoch.ValLoss, 5);
        Assert.Equal(straight[2].ValAccuracy, epoch.ValAccuracy, 5);
    }

    [Fact]
    public void Save_EveryEpoch_KeepsOnlyTheLastAndTheBest()
    {
        var saves = new[] { (1, true), (2, true), (3, false), (4, false) };
        IReadOnlyList<int> kept = [];
        foreach (var (epoch, isBest) in saves)
        {
            kept = store.Save(7, 1, epoch, isBest, s => s.WriteByte((byte)epoch));
        }

        Assert.Equal([2, 4], kept);
        Assert.Equal([2, 4], store.Epochs(7, 1));
        Assert.Equal(4, File.ReadAllBytes(store.PathOf(7, 1, 4)).Single());
    }

    [Fact]
    public void Fork_WithAnotherNetworkShape_FailsSayingOnlyTrainingHyperparametersMayChange()
    {
        Train(4, Small with { Epochs = 1 });

        var error = Assert.Throws<TrialFailedException>(() => Train(5, Small with { HiddenUnits = 64 }, new ResumePoint(store.PathOf(4, 1, 1), 1)));

        Assert.Contains("another network shape", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fork_WithAnotherOptimizerAndLr_ContinuesFromTheWeightsWithFreshOptimizerState()
    {
        var first = Train(6, Small with { Epochs = 1 });

        var forked = Train(8, Small with { Epochs = 2, Optimizer = FashionMnistOptimizer.Adam, Lr = 0.001 }, new ResumePoint(store.PathOf(6, 1, 1), 1));

        var epoch = Assert.Single(forked);
        Assert.Equal(2, epoch.Epoch);
        // Continuing from trained weights, not from scratch: already better than chance and than the first epoch's start.
        Assert.True(epoch.ValAccuracy > 0.6, $"val_accuracy {epoch.ValAccuracy} after the fork's first epoch (the source had {first[0].ValAccuracy})");
    }

    [Fact]
    public void Resume_FromTheLastEpoch_FailsSayingThereIsNothingToTrain()
    {
        Train(9, Small with { Epochs = 1 });

        var error = Assert.Throws<TrialFailedException>(() => Train(10, Small with { Epochs = 1 }, new ResumePoint(store.PathOf(9, 1, 1), 1)));

        Assert.Equal("nothing to train: the checkpoint is after epoch 1 and epochs is 1 (raise epochs to continue)", error.Message);
    }

    public void Dispose() => Directory.Delete(store.Root, recursive: true);
}
