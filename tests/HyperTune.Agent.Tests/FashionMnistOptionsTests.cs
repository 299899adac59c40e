using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Workloads;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Agent.Tests;

/// <summary>Every model, optimiser, schedule and regularisation option trains for real, on a few hundred images.</summary>
public sealed class FashionMnistOptionsTests
{
    private static FashionMnistTrainer Trainer() => new(FashionMnistData.Load(FashionMnistData.DefaultDirectory), CPU);

    /// <summary>The catalog's defaults for the workload with <paramref name="parameters"/> ("name=value", flags true/false), on 256 images for 1 epoch unless given.</summary>
    private static FashionMnistSettings Tiny(string workload, params string[] parameters)
    {
        var values = parameters.Select(p => p.Split('=')).ToDictionary(
            p => p[0],
            p => p[1] switch
            {
                "true" => ParamValue.Of(true),
                "false" => ParamValue.Of(false),
                var text when double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var number) => ParamValue.Of(number),
                var text => ParamValue.Of(text),
            });
        var settings = FashionMnistSettings.Parse(workload, values) with { TrainSamples = 256, ValSamples = 100, TestSamples = 100 };
        return values.ContainsKey("epochs") ? settings : settings with { Epochs = 1 };
    }

    private static List<EpochMetrics> Train(string workload, FashionMnistSettings settings)
    {
        var model = workload switch
        {
            WorkloadCatalog.FashionMnistCnn => FashionMnistModel.Cnn,
            WorkloadCatalog.FashionMnistResNet => FashionMnistModel.ResNet,
            _ => FashionMnistModel.Mlp,
        };
        var epochs = new List<EpochMetrics>();
        Trainer().Train(model, settings, epochs.Add, CancellationToken.None);
        return epochs;
    }

    [Theory]
    [InlineData(WorkloadCatalog.FashionMnistCnn)]
    [InlineData(WorkloadCatalog.FashionMnistCnn, "batch_norm=true", "conv_blocks=3", "channels=16", "kernel_size=5", "activation=gelu")]
    [InlineData(WorkloadCatalog.FashionMnistCnn, "image_size=16", "kernel_size=7", "init=kaiming")]
    [InlineData(WorkloadCatalog.FashionMnistCnn, "image_size=40", "augment=crop+flip", "conv_blocks=3")]
    [InlineData(WorkloadCatalog.FashionMnistMlp, "layers=3", "hidden_units=64", "activation=tanh", "init=xavier")]
    [InlineData(WorkloadCatalog.FashionMnistMlp, "activation=leaky_relu", "init=orthogonal", "image_size=16", "augment=flip")]
    [InlineData(WorkloadCatalog.FashionMnistMlp, "activation=sigmoid", "init=kaiming", "augment=crop")]
    [InlineData(WorkloadCatalog.FashionMnistResNet)]
    [InlineData(WorkloadCatalog.FashionMnistResNet, "batch_norm=false", "conv_blocks=2", "channels=32", "image_size=16", "augment=crop")]
    [InlineData(WorkloadCatalog.FashionMnistResNet, "conv_blocks=4", "channels=16", "image_size=40", "init=kaiming")]
    public void Train_ModelWithOptions_TrainsOneEpochWithFiniteMetricsAndTestMetrics(string workload, params string[] parameters)
    {
        var epochs = Train(workload, Tiny(workload, [.. parameters, "lr=0.05"]));

        var metrics = Assert.Single(epochs).ToDictionary();
        Assert.All(metrics, m => Assert.True(double.IsFinite(m.Value), $"{m.Key} = {m.Value}"));
        Assert.InRange(metrics[EpochMetrics.TestAccuracyName], 0, 1);
        Assert.InRange(metrics[EpochMetrics.ValAccuracyName], 0, 1);
    }

    [Theory]
    [InlineData("sgd", "nesterov=true", "momentum=0.9")]
    [InlineData("adam", "beta1=0.8", "beta2=0.99", "eps=1e-6")]
    [InlineData("adamw", "weight_decay=0.05")]
    [InlineData("rmsprop", "eps=1e-6")]
    public void Train_EachOptimizer_LowersTheTrainingLoss(string optimizer, params string[] parameters)
    {
        var lr = optimizer == "sgd" ? "lr=0.05" : "lr=0.002";

        var epochs = Train(WorkloadCatalog.FashionMnistMlp, Tiny(WorkloadCatalog.FashionMnistMlp, [.. parameters, $"optimizer={optimizer}", lr, "epochs=3", "dropout=0"]));

        Assert.True(epochs[2].TrainLoss < epochs[0].TrainLoss, $"{optimizer}: train_loss {epochs[0].TrainLoss} then {epochs[2].TrainLoss}");
    }

    [Theory]
    [InlineData("step")]
    [InlineData("exponential")]
    [InlineData("cosine")]
    [InlineData("onecycle")]
    public void Train_EachSchedule_TrainsOtherwiseThanAConstantRate(string schedule)
    {
        var constant = Train(WorkloadCatalog.FashionMnistMlp, Tiny(WorkloadCatalog.FashionMnistMlp, "epochs=2", "dropout=0"));
        var scheduled = Train(WorkloadCatalog.FashionMnistMlp, Tiny(WorkloadCatalog.FashionMnistMlp, "epochs=2", "dropout=0", $"schedule={schedule}", "warmup_epochs=1"));

        Assert.All(scheduled, e => Assert.True(double.IsFinite(e.TrainLoss)));
        Assert.NotEqual(constant[1].TrainLoss, scheduled[1].TrainLoss);
    }

    [Fact]
    public void Train_LabelSmoothing_RaisesTheTrainingLoss()
    {
        var plain = Train(WorkloadCatalog.FashionMnistMlp, Tiny(WorkloadCatalog.FashionMnistMlp, "dropout=0", "lr=0.05", "epochs=3"));
        var smoothed = Train(WorkloadCatalog.FashionMnistMlp, Tiny(WorkloadCatalog.FashionMnistMlp, "dropout=0", "lr=0.05", "epochs=3", "label_smoothing=0.3"));

        // Smoothed targets keep the loss away from 0: once the network is confident, it reports a clearly higher training loss.
        Assert.True(smoothed[2].TrainLoss > plain[2].TrainLoss + 0.1, $"train_loss {plain[2].TrainLoss} plain, {smoothed[2].TrainLoss} smoothed");
    }

    [Fact]
    public void Train_PatienceRunsOut_StopsEarlyAndSaysSoInTheLastReport()
    {
        // 100 images, adam at a high rate and no dropout overfit within a few epochs: val_loss turns up and patience runs out.
        var settings = Tiny(WorkloadCatalog.FashionMnistMlp, "optimizer=adam", "lr=0.01", "dropout=0", "patience=2", "hidden_units=512") with { Epochs = 40, TrainSamples = 100 };

        var epochs = Train(WorkloadCatalog.FashionMnistMlp, settings);

        var last = epochs[^1];
        Assert.True(epochs.Count < 40, "patience 2 never ran out in 40 epochs");
        Assert.Equal(last.Epoch, last.StoppedEarlyAt);
        Assert.Equal(last.Epoch, last.ToDictionary()[EpochMetrics.StoppedEarlyAtName]);
        Assert.NotNull(last.TestAccuracy);
        var best = epochs.SkipLast(2).Min(e => e.ValLoss);
        Assert.All(epochs.TakeLast(2), e => Assert.True(e.ValLoss >= best, $"epoch {e.Epoch} val_loss {e.ValLoss} beat the best {best}"));
        Assert.All(epochs.SkipLast(1), e => Assert.Null(e.StoppedEarlyAt));
    }

    [Fact]
    public void Train_PatienceZero_RunsEveryEpoch()
    {
        var settings = Tiny(WorkloadCatalog.FashionMnistMlp, "optimizer=adam", "lr=0.01", "dropout=0", "hidden_units=512") with { Epochs = 8, TrainSamples = 100 };

        var epochs = Train(WorkloadCatalog.FashionMnistMlp, settings);

        Assert.Equal(8, epochs.Count);
        Assert.Null(epochs[^1].StoppedEarlyAt);
    }

    [Fact]
    public void Train_NesterovWithoutMomentum_FailsNamingBoth()
    {
        var settings = Tiny(WorkloadCatalog.FashionMnistMlp, "nesterov=true", "momentum=0");

        var error = Assert.Throws<TrialFailedException>(() => Train(WorkloadCatalog.FashionMnistMlp, settings));

        Assert.Equal("parameter nesterov true needs momentum > 0, got momentum 0", error.Message);
    }

    [Fact]
    public void BuildNetwork_CnnBlocksTooManyForTheImage_FailsNamingConvBlocksAndImageSize()
    {
        var settings = Tiny(WorkloadCatalog.FashionMnistCnn, "conv_blocks=3", "image_size=16");

        var error = Assert.Throws<TrialFailedException>(() => FashionMnistTrainer.BuildNetwork(FashionMnistModel.Cnn, settings));

        Assert.StartsWith("parameter conv_blocks 3 does not fit image_size 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildNetwork_DefaultCnn_IsTheBenchmarkModel()
    {
        using var network = FashionMnistTrainer.BuildNetwork(FashionMnistModel.Cnn, FashionMnistSettings.Defaults(WorkloadCatalog.FashionMnistCnn));

        // conv(1→32,3), conv(32→64,3), fc(1600→128), fc(128→10): BENCHMARKS.md §4.
        Assert.Equal(
            [[32L, 1, 3, 3], [32], [64, 32, 3, 3], [64], [128, 1600], [128], [10, 128], [10]],
            network.parameters().Select(p => p.shape));
    }

    [Fact]
    public void BuildNetwork_OrthogonalInit_GivesOrthonormalRowsScaledByTheGain()
    {
        var settings = Tiny(WorkloadCatalog.FashionMnistMlp, "init=orthogonal", "activation=tanh", "hidden_units=32");

        using var network = FashionMnistTrainer.BuildNetwork(FashionMnistModel.Mlp, settings);

        using var scope = NewDisposeScope();
        var weight = network.parameters().First();
        var gain = 5.0 / 3;
        var gram = weight.matmul(weight.t()).div(gain * gain);
        Assert.True(gram.allclose(eye(32), atol: 1e-4), "W·Wᵀ / gain² is not the identity");
        Assert.Equal(0, network.parameters().ElementAt(1).abs().sum().item<float>());
    }

    [Fact]
    public void BuildNetwork_SameSeedAndInit_GivesTheSameWeights()
    {
        var settings = Tiny(WorkloadCatalog.FashionMnistResNet, "init=kaiming");

        using var first = FashionMnistTrainer.BuildNetwork(FashionMnistModel.ResNet, settings);
        using var second = FashionMnistTrainer.BuildNetwork(FashionMnistModel.ResNet, settings);

        Assert.All(first.parameters().Zip(second.parameters()), pair => Assert.True(pair.First.equal(pair.Second).all().item<bool>()));
    }

    [Fact]
    public void Resize_To40_KeepsTheImageBilinearly()
    {
        var data = FashionMnistData.Load(FashionMnistData.DefaultDirectory);
        using var scope = NewDisposeScope();
        var images = data.TestImages.narrow(0, 0, 4);

        var resized = FashionMnistTrainer.Resize(images, 40);
        var back = FashionMnistTrainer.Resize(resized, 28);

        Assert.Equal([4L, 1, 40, 40], resized.shape);
        Assert.True(back.sub(images).abs().mean().item<float>() < 0.1, "resizing to 40 and back to 28 lost the image");
        Assert.Equal(images.shape, FashionMnistTrainer.Resize(images, 28).shape);
    }
}
