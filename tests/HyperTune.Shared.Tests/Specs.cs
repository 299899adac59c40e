using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests;

/// <summary>Spec texts shared by the tests: the example, and a way to break one field of it.</summary>
internal static class Specs
{
    public const string Example = """
        { "name": "fmnist-random", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 42 },
          "budget": { "trials": 8, "parallel": 2 },
          "fixed": { "epochs": 3, "train_samples": 6000 },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 0.3, "scale": "log" },
                     "momentum": { "type": "float", "low": 0.5, "high": 0.99 },
                     "batch_size": { "type": "categorical", "choices": [32, 64, 128] },
                     "dropout": { "type": "float", "low": 0.0, "high": 0.5 } } }
        """;

    /// <summary>A minimal valid spec for a workload the catalog does not know, with <paramref name="space"/> as its space.</summary>
    public static string Custom(string space, string extra = "") => $$"""
        { "name": "custom", "workload": "my-script",
          "objective": { "metric": "loss", "direction": "minimize" },
          "budget": { "trials": 4 }{{extra}},
          "space": {{space}} }
        """;

    public static SpecParseResult Parse(string json, int fallbackSeed = 7) => StudySpecParser.Parse(json, fallbackSeed);

    public static StudyDefinition ParseValid(string json, int fallbackSeed = 7)
    {
        var result = Parse(json, fallbackSeed);
        Assert.True(result.IsValid, "expected a valid spec, got: " + string.Join("; ", result.Errors));
        return result.Definition!;
    }

    /// <summary>The one error a spec has; fails with the whole list when there are more or none.</summary>
    public static string SingleError(string json)
    {
        var result = Parse(json);
        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        return $"{error.Path} {error.Message}";
    }
}
