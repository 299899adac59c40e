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

    private static readonly WorkloadParameter[] Common =
    [
        Float("lr", 0.01, 1e-7, 10, "learning rate"),
        Float("momentum", 0.9, 0, 0.9999, "SGD momentum (ignored by adam)"),
        Float("weight_decay", 0, 0, 1, "L2 weight decay"),
        Int("batch_size", 64, 1, 4096, "images per optimiser step"),
        Float("dropout", 0.25, 0, 0.95, "dropout before the last layer"),
        Int("hidden_units", 128, 1, 4096, "units of the hidden fully connected layer"),
        Choice("optimizer", "sgd", ["sgd", "adam"], "optimiser"),
        Int("epochs", 3, 1, 1000, "passes over the training subset"),
        Int("train_samples", 10_000, 100, 55_000, "training images used (a seeded subset of the 60,000)"),
        Int("val_samples", 5_000, 100, 5_000, "held-out validation images (the last 5,000 of the training file)"),
        Int("seed", 0, 0, int.MaxValue, "seed for weights and the subset"),
    ];

    public static IReadOnlyList<WorkloadInfo> BuiltIn { get; } =
    [
        new(FashionMnistCnn, "Fashion-MNIST, 2 conv blocks (32, 64 channels) + hidden layer", Common),
        new(FashionMnistMlp, "Fashion-MNIST, one hidden layer MLP", Common),
    ];

    public static WorkloadInfo? Find(string name) => BuiltIn.FirstOrDefault(w => w.Name == name);

    /// <summary>Why <paramref name="value"/> does not suit parameter <paramref name="name"/> of the workload, or null.</summary>
    public static string? Reject(WorkloadInfo workload, string name, ParamValue value)
    {
        if (workload.Find(name) is not { } parameter)
        {
            return $"is not a parameter of {workload.Name} (known: {string.Join(", ", workload.Parameters.Select(p => p.Name))})";
        }

        return parameter.Accepts(value) ? null : $"must be {parameter.Range}, got {value}";
    }

    private static WorkloadParameter Float(string name, double @default, double min, double max, string meaning) =>
        new(name, ParamValue.Of(@default), $"a number in [{Parameter.Format(min)}, {Parameter.Format(max)}]",
            v => v.Kind == ParamKind.Number && v.Number >= min && v.Number <= max, meaning);

    private static WorkloadParameter Int(string name, int @default, int min, int max, string meaning) =>
        new(name, ParamValue.Of(@default), $"an integer in [{min}, {max}]",
            v => v.Kind == ParamKind.Number && v.Number == Math.Floor(v.Number) && v.Number >= min && v.Number <= max, meaning);

    private static WorkloadParameter Choice(string name, string @default, string[] choices, string meaning) =>
        new(name, ParamValue.Of(@default), $"one of {string.Join(", ", choices)}",
            v => v.Kind == ParamKind.Text && choices.Contains(v.Text), meaning);
}
