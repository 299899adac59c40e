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

        Assert.Equal("must be one of sgd, adam, got rmsprop", WorkloadCatalog.Reject(workload, "optimizer", ParamValue.Of("rmsprop")));
        Assert.Null(WorkloadCatalog.Reject(workload, "optimizer", ParamValue.Of("adam")));
    }
}
