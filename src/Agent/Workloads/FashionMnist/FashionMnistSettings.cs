using System.Globalization;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Workloads;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>Which network a Fashion-MNIST trial trains.</summary>
public enum FashionMnistModel
{
    Cnn,
    Mlp,
    ResNet,
}

/// <summary>The optimiser a trial steps with.</summary>
public enum FashionMnistOptimizer
{
    Sgd,
    Adam,
    AdamW,
    RmsProp,
}

/// <summary>How the learning rate moves after warm-up (see <see cref="LearningRateSchedule"/>).</summary>
public enum FashionMnistSchedule
{
    Constant,
    Step,
    Exponential,
    Cosine,
    OneCycle,
}

/// <summary>The activation after every hidden layer.</summary>
public enum FashionMnistActivation
{
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    Gelu,
}

/// <summary>How conv and linear weights start.</summary>
public enum FashionMnistInit
{
    /// <summary>TorchSharp's own (PyTorch's): kaiming-uniform with a = √5, biases uniform.</summary>
    Default,
    Kaiming,
    Xavier,
    Orthogonal,
}

/// <summary>Random changes to each training batch.</summary>
[Flags]
public enum FashionMnistAugment
{
    None = 0,
    Crop = 1,
    Flip = 2,
}

/// <summary>The hyperparameters of one Fashion-MNIST trial, with the catalog's defaults for those not given.</summary>
public sealed record FashionMnistSettings
{
    public double Lr { get; init; }

    public FashionMnistOptimizer Optimizer { get; init; }

    public double Momentum { get; init; }

    public bool Nesterov { get; init; }

    public double Beta1 { get; init; }

    public double Beta2 { get; init; }

    public double Eps { get; init; }

    public double WeightDecay { get; init; }

    public FashionMnistSchedule Schedule { get; init; }

    public int WarmupEpochs { get; init; }

    public int Epochs { get; init; }

    /// <summary>Epochs without a lower val_loss before the trial stops early; 0 never stops.</summary>
    public int Patience { get; init; }

    public int BatchSize { get; init; }

    public int ImageSize { get; init; }

    public int TrainSamples { get; init; }

    public int ValSamples { get; init; }

    public int Seed { get; init; }

    /// <summary>Test images evaluated after the last epoch: all 10,000 (not a tunable parameter; tests evaluate fewer).</summary>
    public int TestSamples { get; init; } = FashionMnistData.TestCount;

    public double Dropout { get; init; }

    public double LabelSmoothing { get; init; }

    public FashionMnistAugment Augment { get; init; }

    public FashionMnistActivation Activation { get; init; }

    public FashionMnistInit Init { get; init; }

    /// <summary>Conv blocks of the CNN, residual blocks of the ResNet.</summary>
    public int ConvBlocks { get; init; }

    /// <summary>Channels of the first block (CNN, ResNet); each further block doubles them.</summary>
    public int Channels { get; init; }

    public int KernelSize { get; init; }

    public bool BatchNorm { get; init; }

    public int HiddenUnits { get; init; }

    /// <summary>Hidden layers of the MLP.</summary>
    public int Layers { get; init; }

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

        // A parameter foreign to this model (conv_blocks of the MLP) takes the default of a model that has it; the network ignores it.
        ParamValue Get(string name) => parameters.TryGetValue(name, out var value)
            ? value
            : (info.Find(name) ?? WorkloadCatalog.BuiltIn.Select(w => w.Find(name)).FirstOrDefault(p => p is not null))?.Default
              ?? throw new InvalidOperationException($"no built-in workload has a parameter {name} in the catalog");
        double Number(string name) => Get(name).Number;
        int Integer(string name) => checked((int)Get(name).Number);
        // The catalog spells choices in lower case with _ and + ("leaky_relu", "crop+flip"); the enums are their Pascal-case names.
        T Choice<T>(string name)
            where T : struct, Enum => Enum.Parse<T>(Get(name).Text!.Replace("_", "", StringComparison.Ordinal).Replace('+', ','), ignoreCase: true);

        return new FashionMnistSettings
        {
            Lr = Number("lr"),
            Optimizer = Choice<FashionMnistOptimizer>("optimizer"),
            Momentum = Number("momentum"),
            Nesterov = Get("nesterov").Flag,
            Beta1 = Number("beta1"),
            Beta2 = Number("beta2"),
            Eps = Number("eps"),
            WeightDecay = Number("weight_decay"),
            Schedule = Choice<FashionMnistSchedule>("schedule"),
            WarmupEpochs = Integer("warmup_epochs"),
            Epochs = Integer("epochs"),
            Patience = Integer("patience"),
            BatchSize = Integer("batch_size"),
            ImageSize = Integer("image_size"),
            TrainSamples = Integer("train_samples"),
            ValSamples = Integer("val_samples"),
            Seed = Integer("seed"),
            Dropout = Number("dropout"),
            LabelSmoothing = Number("label_smoothing"),
            Augment = Choice<FashionMnistAugment>("augment"),
            Activation = Choice<FashionMnistActivation>("activation"),
            Init = Choice<FashionMnistInit>("init"),
            ConvBlocks = Integer("conv_blocks"),
            Channels = Integer("channels"),
            KernelSize = Integer("kernel_size"),
            BatchNorm = Get("batch_norm").Flag,
            HiddenUnits = Integer("hidden_units"),
            Layers = Integer("layers"),
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"lr={Lr} optimizer={Lower(Optimizer)} momentum={Momentum} nesterov={Lower(Nesterov)} beta1={Beta1} beta2={Beta2} eps={Eps} " +
        $"weight_decay={WeightDecay} schedule={Lower(Schedule)} warmup_epochs={WarmupEpochs} epochs={Epochs} patience={Patience} " +
        $"batch_size={BatchSize} image_size={ImageSize} train_samples={TrainSamples} val_samples={ValSamples} seed={Seed} dropout={Dropout} " +
        $"label_smoothing={LabelSmoothing} augment={Lower(Augment)} activation={Lower(Activation)} init={Lower(Init)} conv_blocks={ConvBlocks} " +
        $"channels={Channels} kernel_size={KernelSize} batch_norm={Lower(BatchNorm)} hidden_units={HiddenUnits} layers={Layers}");

    private static string Lower<T>(T value)
        where T : notnull => value.ToString()!.ToLowerInvariant();
}
