namespace HyperTune.TestSupport;

/// <summary>Study specs that several test projects use.</summary>
public static class TestSpecs
{
    /// <summary>An ask/tell study (workload "external") of two trials over lr, minimizing val_loss: a trial runs once asked for, with no agent.</summary>
    public const string AskTell = """
        { "name": "my-loop", "workload": "external",
          "objective": { "metric": "val_loss", "direction": "minimize" },
          "sampler": { "type": "random", "seed": 5 },
          "budget": { "trials": 2 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;
}
