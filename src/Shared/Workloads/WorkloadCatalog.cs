using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Workloads;

/// <summary>One hyperparameter a built-in workload understands, with its default and the values it accepts.</summary>
public sealed record WorkloadParameter(string Name, ParamValue Default, string Range, Func<ParamValue, bool> Accepts, string Meaning);

/// <summary>A built-in workload: its name and the parameters it accepts.</summary>
public sealed record WorkloadInfo(string Name, string Description, IReadOnlyList<WorkloadParameter> Parameters)
{
    public WorkloadParameter? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);
}

/// <summary>The built-in TorchSharp workloads and their parameters; shared so the dashboard rejects a bad spec before any trial runs.</summary>
public static class WorkloadCatalog
{
    public const string FashionMnistCnn = "fashion-mnist-cnn";
    public const string FashionMnistMlp = "fashion-mnist-mlp";
    public const string FashionMnistResNet = "fashion-mnist-resnet";

    public static readonly string[] Optimizers = ["sgd", "adam", "adamw", "rmsprop"];
    public static readonly string[] Schedules = ["constant", "step", "exponential", "cosine", "onecycle"];
    public static readonly string[] Activations = ["relu", "leaky_relu", "tanh", "sigmoid", "gelu"];
    public static readonly string[] Inits = ["default", "kaiming", "xavier", "orthogonal"];
    public static readonly string[] Augments = ["none", "crop", "flip", "crop+flip"];
    public static readonly int[] KernelSizes = [3, 5, 7];

    // libtorch 2.10's CPU conv2d backward returns wrong input gradients for channel counts such as 8, 12, 20 and 24 (checked
    // against an unfold reference in FashionMnistConvBackwardTests); 16, 32 and 64 and their doublings are right.
    public static readonly int[] ChannelCounts = [16, 32, 64];

    // What every Fashion-MNIST model takes: data, optimiser, schedule, regularisation, activation and initialisation.
    private static readonly WorkloadParameter[] Training =
    [
        Float("lr", 0.01, 1e-7, 10, "learning rate (the peak of onecycle, the end of warm-up)"),
        Choice("optimizer", "sgd", Optimizers, "optimiser"),
        Float("momentum", 0.9, 0, 0.9999, "SGD momentum (sgd only)"),
        Flag("nesterov", false, "Nesterov momentum (sgd only; needs momentum > 0)"),
        Float("beta1", 0.9, 0, 0.9999, "first-moment decay (adam, adamw)"),
        Float("beta2", 0.999, 0, 0.99999, "second-moment decay (adam, adamw)"),
        Float("eps", 1e-8, 1e-12, 0.1, "denominator term (adam, adamw, rmsprop)"),
        Float("weight_decay", 0, 0, 1, "weight decay: L2 in the gradient for sgd, adam and rmsprop, decoupled for adamw"),
        Choice("schedule", "constant", Schedules, "learning-rate schedule after warm-up"),
        Int("warmup_epochs", 0, 0, 100, "epochs of linear warm-up before the schedule: batch b of W warm-up batches trains at lr·(b+1)/W"),
        Int("epochs", 3, 1, 1000, "passes over the training subset"),
        Int("patience", 0, 0, 1000, "epochs without a lower val_loss before the trial stops early (0: never)"),
        Int("batch_size", 64, 1, 4096, "images per optimiser step"),
        Int("image_size", 28, 16, 64, "side the 28×28 images are resized to (bilinear, once per trial)"),
        Int("train_samples", 10_000, 100, 55_000, "training images used (a seeded subset of the first 55,000)"),
        Int("val_samples", 5_000, 100, 5_000, "held-out validation images (the last 5,000 of the training file)"),
        Int("seed", 0, 0, int.MaxValue, "seed for weights, the subset, the order and augmentation"),
        Float("dropout", 0.25, 0, 0.95, "dropout before the last layer (after every hidden layer of the MLP)"),
        Float("label_smoothing", 0, 0, 0.5, "label smoothing of the training loss (val and test losses are plain)"),
        Choice("augment", "none", Augments, "training augmentation: random crop after padding by image_size/14, random horizontal flip"),
        Choice("activation", "relu", Activations, "activation after every hidden layer"),
        Choice("init", "default", Inits, "weight initialisation of every conv and linear layer (biases 0 except for default)"),
    ];

    public static IReadOnlyList<WorkloadInfo> BuiltIn { get; } =
    [
        new(FashionMnistCnn, "Fashion-MNIST CNN: conv blocks (conv, batch norm, activation, max-pool 2) doubling the channels, a hidden layer",
        [
            .. Training,
            Int("conv_blocks", 2, 1, 4, "conv blocks; each trims 2 pixels and halves the map, so 3 blocks need image_size ≥ 22 and 4 need ≥ 46"),
            NumberChoice("channels", 32, ChannelCounts, "channels of the first conv block; each further block doubles them"),
            NumberChoice("kernel_size", 3, KernelSizes, "conv kernel side, padded by (kernel_size − 3)/2"),
            Flag("batch_norm", false, "batch norm after every conv"),
            Int("hidden_units", 128, 1, 4096, "units of the hidden fully connected layer"),
        ]),
        new(FashionMnistMlp, "Fashion-MNIST MLP: hidden layers of equal width",
        [
            .. Training,
            Int("layers", 1, 1, 8, "hidden layers"),
            Int("hidden_units", 128, 1, 4096, "units of every hidden layer"),
        ]),
        new(FashionMnistResNet, "Fashion-MNIST small ResNet: a 3×3 stem, residual blocks (each after the first halves the map and doubles the channels), global average pool",
        [
            .. Training,
            Int("conv_blocks", 3, 1, 4, "residual blocks of two 3×3 convs"),
            NumberChoice("channels", 16, ChannelCounts, "channels of the stem and the first block"),
            Flag("batch_norm", true, "batch norm after every conv"),
        ]),
    ];

    public static WorkloadInfo? Find(string name) => BuiltIn.FirstOrDefault(w => w.Name == name);

    /// <summary>Why <paramref name="value"/> does not suit parameter <paramref name="name"/> of the workload, or null.</summary>
    public static string? Reject(WorkloadInfo workload, string name, ParamValue value)
    {
        if (workload.Find(name) is not { } parameter)
        {
            var owners = BuiltIn.Where(w => w.Find(name) is not null).Select(w => w.Name).ToArray();
            return owners.Length > 0
                ? $"is not a parameter of {workload.Name}, got {value} (only {string.Join(", ", owners)} take {name})"
                : $"is not a parameter of {workload.Name}, got {value} (known: {string.Join(", ", workload.Parameters.Select(p => p.Name))})";
        }

        return parameter.Accepts(value) ? null : $"must be {parameter.Range}, got {value}";
    }

    private static WorkloadParameter Float(string name, double @default, double min, double max, string meaning) =>
        new(name, ParamValue.Of(@default), $"a number in [{Parameter.Format(min)}, {Parameter.Format(max)}]",
            v => v.Kind == ParamKind.Number && v.Number >= min && v.Number <= max, meaning);

    private static WorkloadParameter Int(string name, int @default, int min, int max, string meaning) =>
        new(name, ParamValue.Of(@default), $"an integer in [{min}, {max}]",
            v => v.Kind == ParamKind.Number && v.Number == Math.Floor(v.Number) && v.Number >= min && v.Number <= max, meaning);

    private static WorkloadParameter Flag(string name, bool @default, string meaning) =>
        new(name, ParamValue.Of(@default), "true or false", v => v.Kind == ParamKind.Flag, meaning);

    private static WorkloadParameter Choice(string name, string @default, string[] choices, string meaning) =>
        OneOf(name, ParamValue.Of(@default), [.. choices.Select(ParamValue.Of)], meaning);

    private static WorkloadParameter NumberChoice(string name, int @default, int[] choices, string meaning) =>
        OneOf(name, ParamValue.Of(@default), [.. choices.Select(c => ParamValue.Of(c))], meaning);

    private static WorkloadParameter OneOf(string name, ParamValue @default, ParamValue[] choices, string meaning) =>
        new(name, @default, $"one of {string.Join(", ", choices)}", choices.Contains, meaning);
}
