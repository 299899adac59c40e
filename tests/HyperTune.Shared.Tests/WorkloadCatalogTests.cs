using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Workloads;

namespace HyperTune.Shared.Tests;

public class WorkloadCatalogTests
{
    public static TheoryData<string> BuiltInNames => new(WorkloadCatalog.BuiltIn.Select(w => w.Name));

    [Fact]
    public void Find_FashionMnistWorkloads_AreBuiltIn()
    {
        Assert.NotNull(WorkloadCatalog.Find("fashion-mnist-cnn"));
        Assert.NotNull(WorkloadCatalog.Find("fashion-mnist-mlp"));
        Assert.NotNull(WorkloadCatalog.Find("fashion-mnist-resnet"));
        Assert.Null(WorkloadCatalog.Find("imagenet"));
    }

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void Reject_EveryDefault_IsAccepted(string name)
    {
        var workload = WorkloadCatalog.Find(name)!;

        Assert.All(workload.Parameters, p => Assert.Null(WorkloadCatalog.Reject(workload, p.Name, p.Default)));
    }

    [Theory]
    [InlineData("lr", 0.0)]
    [InlineData("lr", 11.0)]
    [InlineData("batch_size", 0.0)]
    [InlineData("batch_size", 32.5)]
    [InlineData("dropout", 0.96)]
    [InlineData("train_samples", 60_000.0)]
    [InlineData("image_size", 15.0)]
    [InlineData("image_size", 65.0)]
    [InlineData("label_smoothing", 0.6)]
    [InlineData("beta1", 1.0)]
    [InlineData("beta2", -0.1)]
    [InlineData("eps", 0.0)]
    [InlineData("warmup_epochs", 1.5)]
    [InlineData("patience", -1.0)]
    [InlineData("conv_blocks", 5.0)]
    [InlineData("channels", 8.0)]
    [InlineData("channels", 24.0)]
    [InlineData("kernel_size", 4.0)]
    [InlineData("kernel_size", 9.0)]
    public void Reject_NumberOutOfRange_SaysTheRangeAndTheValue(string name, double value)
    {
        var workload = WorkloadCatalog.Find(WorkloadCatalog.FashionMnistCnn)!;

        var problem = WorkloadCatalog.Reject(workload, name, ParamValue.Of(value));

        Assert.NotNull(problem);
        Assert.StartsWith("must be ", problem, StringComparison.Ordinal);
        Assert.EndsWith($"got {ParamValue.Of(value)}", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Reject_UnknownOptimizer_ListsTheChoices()
    {
        var workload = WorkloadCatalog.Find(WorkloadCatalog.FashionMnistMlp)!;

        Assert.Equal("must be one of sgd, adam, adamw, rmsprop, got lbfgs", WorkloadCatalog.Reject(workload, "optimizer", ParamValue.Of("lbfgs")));
        Assert.All(["sgd", "adam", "adamw", "rmsprop"], o => Assert.Null(WorkloadCatalog.Reject(workload, "optimizer", ParamValue.Of(o))));
    }

    [Theory]
    [InlineData("schedule", "linear", "must be one of constant, step, exponential, cosine, onecycle, got linear")]
    [InlineData("activation", "swish", "must be one of relu, leaky_relu, tanh, sigmoid, gelu, got swish")]
    [InlineData("init", "he", "must be one of default, kaiming, xavier, orthogonal, got he")]
    [InlineData("augment", "flip+crop", "must be one of none, crop, flip, crop+flip, got flip+crop")]
    public void Reject_UnknownChoice_ListsTheChoicesAndTheValue(string name, string value, string expected)
    {
        var workload = WorkloadCatalog.Find(WorkloadCatalog.FashionMnistResNet)!;

        Assert.Equal(expected, WorkloadCatalog.Reject(workload, name, ParamValue.Of(value)));
    }

    [Theory]
    [InlineData(WorkloadCatalog.FashionMnistCnn, "nesterov")]
    [InlineData(WorkloadCatalog.FashionMnistCnn, "batch_norm")]
    [InlineData(WorkloadCatalog.FashionMnistResNet, "batch_norm")]
    public void Reject_FlagGivenAsNumberOrText_AsksForABoolean(string workloadName, string name)
    {
        var workload = WorkloadCatalog.Find(workloadName)!;

        Assert.Equal("must be true or false, got 1", WorkloadCatalog.Reject(workload, name, ParamValue.Of(1)));
        Assert.Equal("must be true or false, got yes", WorkloadCatalog.Reject(workload, name, ParamValue.Of("yes")));
        Assert.Null(WorkloadCatalog.Reject(workload, name, ParamValue.Of(true)));
    }

    [Fact]
    public void Reject_KernelSize_TakesOnlyOddSizesThreeToSeven()
    {
        var cnn = WorkloadCatalog.Find(WorkloadCatalog.FashionMnistCnn)!;

        Assert.All([3, 5, 7], k => Assert.Null(WorkloadCatalog.Reject(cnn, "kernel_size", ParamValue.Of(k))));
        Assert.Equal("must be one of 3, 5, 7, got 4", WorkloadCatalog.Reject(cnn, "kernel_size", ParamValue.Of(4)));
    }

    [Theory]
    [InlineData(WorkloadCatalog.FashionMnistMlp, "conv_blocks", "fashion-mnist-cnn, fashion-mnist-resnet")]
    [InlineData(WorkloadCatalog.FashionMnistMlp, "batch_norm", "fashion-mnist-cnn, fashion-mnist-resnet")]
    [InlineData(WorkloadCatalog.FashionMnistResNet, "kernel_size", "fashion-mnist-cnn")]
    [InlineData(WorkloadCatalog.FashionMnistResNet, "hidden_units", "fashion-mnist-cnn, fashion-mnist-mlp")]
    [InlineData(WorkloadCatalog.FashionMnistCnn, "layers", "fashion-mnist-mlp")]
    public void Reject_ParameterOfAnotherModel_NamesTheValueAndTheModelsThatTakeIt(string workloadName, string name, string owners)
    {
        var workload = WorkloadCatalog.Find(workloadName)!;

        Assert.Equal($"is not a parameter of {workloadName}, got 3 (only {owners} take {name})", WorkloadCatalog.Reject(workload, name, ParamValue.Of(3)));
    }

    [Fact]
    public void Reject_UnknownParameter_NamesTheValueAndListsTheKnownOnes()
    {
        var workload = WorkloadCatalog.Find(WorkloadCatalog.FashionMnistMlp)!;

        var problem = WorkloadCatalog.Reject(workload, "learning_rate", ParamValue.Of(0.1));

        Assert.StartsWith("is not a parameter of fashion-mnist-mlp, got 0.1 (known: lr, optimizer, ", problem, StringComparison.Ordinal);
        Assert.EndsWith("layers, hidden_units)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BuiltIn_EveryWorkload_NamesEachParameterOnce()
    {
        Assert.All(WorkloadCatalog.BuiltIn, w => Assert.Equal(w.Parameters.Count, w.Parameters.Select(p => p.Name).Distinct().Count()));
    }

    [Fact]
    public void BuiltIn_EveryModel_TakesTheTrainingParametersAndOnlyItsOwnArchitecture()
    {
        string[] training = ["lr", "momentum", "nesterov", "weight_decay", "batch_size", "image_size", "train_samples", "val_samples", "seed", "epochs",
            "dropout", "label_smoothing", "augment", "optimizer", "beta1", "beta2", "eps", "schedule", "warmup_epochs", "patience", "activation", "init"];
        string[] Own(string name) => [.. WorkloadCatalog.Find(name)!.Parameters.Select(p => p.Name).Except(training).Order(StringComparer.Ordinal)];

        Assert.All(WorkloadCatalog.BuiltIn, w => Assert.Empty(training.Except(w.Parameters.Select(p => p.Name))));
        Assert.Equal(["hidden_units", "layers"], Own(WorkloadCatalog.FashionMnistMlp));
        Assert.Equal(["batch_norm", "channels", "conv_blocks", "hidden_units", "kernel_size"], Own(WorkloadCatalog.FashionMnistCnn));
        Assert.Equal(["batch_norm", "channels", "conv_blocks"], Own(WorkloadCatalog.FashionMnistResNet));
    }
}
