using System.Diagnostics;
using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.Workloads;
using TorchSharp;

namespace HyperTune.Agent.Tests;

public sealed class FashionMnistTrainerTests
{
    private static readonly FashionMnistSettings Small = FashionMnistSettings.Defaults(WorkloadCatalog.FashionMnistCnn) with
    {
        Lr = 0.05,
        Momentum = 0.9,
        BatchSize = 64,
        Epochs = 2,
        TrainSamples = 2000,
        ValSamples = 500,
        TestSamples = 1000,
    };

    private static FashionMnistTrainer Trainer() => new(FashionMnistData.Load(FashionMnistData.DefaultDirectory), torch.CPU);

    [Fact]
    public void Train_CnnTwoEpochsOnSmallSubset_ReportsEveryMetricAndTestMetricsAtTheEnd()
    {
        var epochs = new List<EpochMetrics>();

        Trainer().Train(FashionMnistModel.Cnn, Small, epochs.Add, CancellationToken.None);

        Assert.Equal([1, 2], epochs.Select(e => e.Epoch));
        Assert.Equal(["epoch_seconds", "train_images_per_second", "train_loss", "val_accuracy", "val_loss"], epochs[0].ToDictionary().Keys.Order());
        Assert.Equal(["epoch_seconds", "test_accuracy", "test_loss", "train_images_per_second", "train_loss", "val_accuracy", "val_loss"], epochs[1].ToDictionary().Keys.Order());
        foreach (var epoch in epochs)
        {
            Assert.All(epoch.ToDictionary().Values, v => Assert.True(double.IsFinite(v) && v > 0, $"metric value {v}"));
            Assert.InRange(epoch.TrainLoss, 0.05, 2.5);
            Assert.InRange(epoch.ValAccuracy, 0, 1);
        }

        Assert.True(epochs[1].TrainLoss < epochs[0].TrainLoss, $"train_loss {epochs[0].TrainLoss} then {epochs[1].TrainLoss}");
        Assert.True(epochs[1].ValAccuracy > 0.6, $"val_accuracy {epochs[1].ValAccuracy} after 2 epochs (chance is 0.1)");
        Assert.True(epochs[1].TestAccuracy > 0.6, $"test_accuracy {epochs[1].TestAccuracy} after 2 epochs");
        Assert.Null(epochs[1].StoppedEarlyAt);
    }

    [Fact]
    public void Train_MlpSameSeedTwice_ReportsTheSameLosses()
    {
        var settings = Small with { Epochs = 1, TrainSamples = 500, ValSamples = 100, Dropout = 0 };
        var first = new List<EpochMetrics>();
        var second = new List<EpochMetrics>();

        Trainer().Train(FashionMnistModel.Mlp, settings, first.Add, CancellationToken.None);
        Trainer().Train(FashionMnistModel.Mlp, settings, second.Add, CancellationToken.None);

        Assert.Equal(first[0].TrainLoss, second[0].TrainLoss);
        Assert.Equal(first[0].ValLoss, second[0].ValLoss);
    }

    [Fact]
    public void Train_HugeLearningRateWithWeightDecay_DivergesNamingNaNOrInfEpochAndBatch()
    {
        // SGD with lr 10 and weight decay 1 multiplies the weights by about -9 per step, whatever the data:
        // the loss leaves the floats within a few dozen steps, every time.
        var settings = Small with { Lr = 10, WeightDecay = 1, Momentum = 0.9, BatchSize = 16 };
        var epochs = new List<EpochMetrics>();

        var error = Assert.Throws<TrialDivergedException>(() => Trainer().Train(FashionMnistModel.Mlp, settings, epochs.Add, CancellationToken.None));

        Assert.Matches(@"^loss became (NaN|\+Inf|-Inf) at epoch 1, batch \d+$", error.Message);
        Assert.Equal(1, error.Epoch);
        Assert.Equal($"batch {error.Batch}", error.Message[error.Message.LastIndexOf("batch", StringComparison.Ordinal)..]);
        Assert.InRange(error.Batch, 1, settings.TrainSamples / settings.BatchSize);
        Assert.Empty(epochs);
    }

    [Fact]
    public void Train_CancelledMidEpoch_StopsBetweenBatchesWithinTwoSeconds()
    {
        var trainer = Trainer();
        var settings = Small with { TrainSamples = 30_000, Epochs = 5 };
        var epochs = new List<EpochMetrics>();
        using var stop = new CancellationTokenSource();
        var run = Task.Factory.StartNew(() => trainer.Train(FashionMnistModel.Cnn, settings, epochs.Add, stop.Token), TaskCreationOptions.LongRunning);
        Thread.Sleep(TimeSpan.FromSeconds(1.5));

        var cancelled = Stopwatch.StartNew();
        stop.Cancel();
        var ended = ((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
        cancelled.Stop();

        Assert.True(ended, "the trainer did not stop within 10 s of cancellation");
        Assert.IsType<OperationCanceledException>(run.Exception?.InnerException, exactMatch: false);
        Assert.Empty(epochs);
        Assert.True(cancelled.Elapsed < TimeSpan.FromSeconds(2), $"stopped {cancelled.Elapsed.TotalSeconds:F2} s after cancellation; the agent promises 2 s");
    }

    [Theory]
    [InlineData("lr", 50.0, "parameter lr must be a number in [1E-07, 10], got 50")]
    [InlineData("batch_size", 12.5, "parameter batch_size must be an integer in [1, 4096], got 12.5")]
    [InlineData("learning_rate", 0.1, "parameter learning_rate is not a parameter of fashion-mnist-cnn")]
    public void Parse_BadParameter_FailsNamingItAndItsValue(string name, double value, string expected)
    {
        var parameters = new Dictionary<string, Shared.SearchSpaces.ParamValue> { [name] = Shared.SearchSpaces.ParamValue.Of(value) };

        var error = Assert.Throws<TrialFailedException>(() => FashionMnistSettings.Parse(WorkloadCatalog.FashionMnistCnn, parameters));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OptimizerNotInChoices_FailsNamingIt()
    {
        var parameters = new Dictionary<string, Shared.SearchSpaces.ParamValue> { ["optimizer"] = Shared.SearchSpaces.ParamValue.Of("lbfgs") };

        var error = Assert.Throws<TrialFailedException>(() => FashionMnistSettings.Parse(WorkloadCatalog.FashionMnistMlp, parameters));

        Assert.Equal("parameter optimizer must be one of sgd, adam, adamw, rmsprop, got lbfgs", error.Message);
    }

    [Fact]
    public void Parse_NoParameters_TakesTheCatalogDefaults()
    {
        var settings = FashionMnistSettings.Parse(WorkloadCatalog.FashionMnistCnn, new Dictionary<string, Shared.SearchSpaces.ParamValue>());

        Assert.Equal(0.01, settings.Lr);
        Assert.Equal(64, settings.BatchSize);
        Assert.Equal(FashionMnistOptimizer.Sgd, settings.Optimizer);
        Assert.Equal(10_000, settings.TrainSamples);
        Assert.Equal(5_000, settings.ValSamples);
        Assert.Equal(3, settings.Epochs);
        Assert.Equal((2, 32, 3, false, 128), (settings.ConvBlocks, settings.Channels, settings.KernelSize, settings.BatchNorm, settings.HiddenUnits));
        Assert.Equal((28, FashionMnistAugment.None, FashionMnistSchedule.Constant, 0, 0), (settings.ImageSize, settings.Augment, settings.Schedule, settings.WarmupEpochs, settings.Patience));
        Assert.Equal(10_000, settings.TestSamples);
    }

    [Fact]
    public void Parse_EveryChoice_ReadsIntoItsSetting()
    {
        var parameters = new Dictionary<string, Shared.SearchSpaces.ParamValue>
        {
            ["optimizer"] = Shared.SearchSpaces.ParamValue.Of("rmsprop"),
            ["schedule"] = Shared.SearchSpaces.ParamValue.Of("onecycle"),
            ["activation"] = Shared.SearchSpaces.ParamValue.Of("leaky_relu"),
            ["init"] = Shared.SearchSpaces.ParamValue.Of("orthogonal"),
            ["augment"] = Shared.SearchSpaces.ParamValue.Of("crop+flip"),
            ["nesterov"] = Shared.SearchSpaces.ParamValue.Of(true),
            ["layers"] = Shared.SearchSpaces.ParamValue.Of(3),
        };

        var settings = FashionMnistSettings.Parse(WorkloadCatalog.FashionMnistMlp, parameters);

        Assert.Equal(FashionMnistOptimizer.RmsProp, settings.Optimizer);
        Assert.Equal(FashionMnistSchedule.OneCycle, settings.Schedule);
        Assert.Equal(FashionMnistActivation.LeakyRelu, settings.Activation);
        Assert.Equal(FashionMnistInit.Orthogonal, settings.Init);
        Assert.Equal(FashionMnistAugment.Crop | FashionMnistAugment.Flip, settings.Augment);
        Assert.True(settings.Nesterov);
        Assert.Equal(3, settings.Layers);
    }

    [Fact]
    public void Parse_ConvBlocksForTheMlp_FailsNamingTheValueAndTheModelsThatTakeIt()
    {
        var parameters = new Dictionary<string, Shared.SearchSpaces.ParamValue> { ["conv_blocks"] = Shared.SearchSpaces.ParamValue.Of(3) };

        var error = Assert.Throws<TrialFailedException>(() => FashionMnistSettings.Parse(WorkloadCatalog.FashionMnistMlp, parameters));

        Assert.Equal("parameter conv_blocks is not a parameter of fashion-mnist-mlp, got 3 (only fashion-mnist-cnn, fashion-mnist-resnet take conv_blocks)", error.Message);
    }

    [Fact]
    public void Load_MissingFolder_SaysHowToInstallTheData()
    {
        var missing = Path.Combine(Path.GetTempPath(), "hypertune-no-such-folder-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<TrialFailedException>(() => FashionMnistData.Load(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message, StringComparison.Ordinal);
        Assert.Contains("Agent:DataDir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TwiceForOneFolder_ReadsTheFilesOnce()
    {
        var first = FashionMnistData.Load(FashionMnistData.DefaultDirectory);
        var second = FashionMnistData.Load(FashionMnistData.DefaultDirectory + "/");

        Assert.Same(first, second);
        Assert.Equal([60_000L, 1, 28, 28], first.TrainImages.shape);
        Assert.Equal([10_000L], first.TestLabels.shape);
    }
}
