using System.Globalization;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Workloads;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>Which network a Fashion-MNIST trial trains.</summary>
public enum FashionMnistModel
{
    Cnn,
    Mlp,
}

/// <summary>The optimiser a trial steps with.</summary>
public enum FashionMnistOptimizer
{
    Sgd,
    Adam,
}

/// <summary>The hyperparameters of one Fashion-MNIST trial, with the catalog's defaults for those not given.</summary>
public sealed record FashionMnistSettings
{
    public double Lr { get; init; }

    public double Momentum { get; init; }

    public double WeightDecay { get; init; }

    public int BatchSize { get; init; }

    public double Dropout { get; init; }

    public int HiddenUnits { get; init; }

    public FashionMnistOptimizer Optimizer { get; init; }

    public int Epochs { get; init; }

    public int TrainSamples { get; init; }

    public int ValSamples { get; init; }

    public int Seed { get; init; }

    /// <summary>The catalog's defaults for <paramref name="workload"/>.</summary>
    public static FashionMnistSettings Defaults(string workload) => Parse(workload, new Dictionary<string, ParamValue>());

    /// <summary>Reads parameters against the workload's catalog entry; an unknown or out-of-range one throws <see cref="TrialFailedException"/> naming it and its value.</summary>
    public static FashionMnistSettings Parse(string workload, IReadOnlyDictionary<string, ParamValue> parameters)
    {
        var info = WorkloadCatalog.Find(workload) ?? throw new TrialFailedException($"unknown workload {workload}");
        foreach (var (name, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (WorkloadCatalog.Reject(info, name, value) is { } why)
            {
                throw new TrialFailedException($"parameter {name} {why}");
            }
        }

        ParamValue Get(string name) => parameters.TryGetValue(name, out var value)
            ? value
            : info.Find(name)?.Default ?? throw new InvalidOperationException($"{workload} has no parameter {name} in the catalog");
        double Number(string name) => Get(name).Number;
        int Integer(string name) => checked((int)Get(name).Number);

        return new FashionMnistSettings
        {
            Lr = Number("lr"),
            Momentum = Number("momentum"),
            WeightDecay = Number("weight_decay"),
            BatchSize = Integer("batch_size"),
            Dropout = Number("dropout"),
            HiddenUnits = Integer("hidden_units"),
            Optimizer = Get("optimizer").Text switch
            {
                "adam" => FashionMnistOptimizer.Adam,
                _ => FashionMnistOptimizer.Sgd,
            },
            Epochs = Integer("epochs"),
            TrainSamples = Integer("train_samples"),
            ValSamples = Integer("val_samples"),
            Seed = Integer("seed"),
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"lr={Lr} momentum={Momentum} weight_decay={WeightDecay} batch_size={BatchSize} dropout={Dropout} hidden_units={HiddenUnits} optimizer={Optimizer.ToString().ToLowerInvariant()} epochs={Epochs} train_samples={TrainSamples} val_samples={ValSamples} seed={Seed}");
}
