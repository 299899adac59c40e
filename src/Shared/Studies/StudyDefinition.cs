using System.Text.Json;
using HyperTune.Shared.LearningRate;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Studies;

/// <summary>Whether a larger or a smaller objective value is better.</summary>
public enum Direction
{
    Maximize,
    Minimize,
}

/// <summary>The metric a study optimises, and which way.</summary>
public sealed record Objective(string Metric, Direction Direction)
{
    /// <summary>True when <paramref name="candidate"/> beats <paramref name="incumbent"/>; NaN and null never win.</summary>
    public bool IsBetter(double candidate, double? incumbent) =>
        !double.IsNaN(candidate) && (incumbent is not { } best || double.IsNaN(best) ||
            (Direction == Direction.Maximize ? candidate > best : candidate < best));
}

/// <summary>Which sampler proposes trials, its seed and its options (defaults filled in).</summary>
public sealed record SamplerSpec(string Type, int Seed, IReadOnlyDictionary<string, ParamValue>? Options = null)
{
    public const string CoarseToFine = "coarse-to-fine";

    /// <summary>Trials per stage of a coarse-to-fine search (they add up to the budget); null for other samplers.</summary>
    public IReadOnlyList<int>? Stages { get; init; }

    /// <summary>True when a coarse-to-fine study starts its next stage without waiting for a person.</summary>
    public bool AutoStages => Type == CoarseToFine && Algorithm.Flag("auto");

    public AlgorithmSpec Algorithm => new(Type, Options ?? new Dictionary<string, ParamValue>());

    // Options are compared by content: a spec read twice is the same spec.
    public bool Equals(SamplerSpec? other) => other is not null && Seed == other.Seed && Algorithm.Equals(other.Algorithm)
        && (Stages ?? []).SequenceEqual(other.Stages ?? []);

    public override int GetHashCode() => HashCode.Combine(Seed, Algorithm);
}

/// <summary>
/// How many trials a study samples, how many run at once, and how many times one trial is re-queued after its agent was
/// lost before it fails.
/// </summary>
public sealed record Budget(int Trials, int Parallel, int MaxRetries = Budget.DefaultMaxRetries)
{
    /// <summary>Re-queues of one trial after a lost agent, when the spec says nothing.</summary>
    public const int DefaultMaxRetries = 2;

    /// <summary>The most a spec may ask for.</summary>
    public const int MostRetries = 100;
}

/// <summary>A validated study: what to train, what to optimise, where to search and how much.</summary>
public sealed record StudyDefinition(
    string Name,
    string Workload,
    Objective Objective,
    SamplerSpec Sampler,
    Budget Budget,
    IReadOnlyDictionary<string, ParamValue> Fixed,
    SearchSpace Space)
{
    /// <summary>The early-stopping rule applied on every epoch report, or null for none.</summary>
    public AlgorithmSpec? Pruner { get; init; }

    /// <summary>The LR range test run as the study's first stage, or null for none.</summary>
    public LrRangeTestSpec? LrRangeTest { get; init; }

    /// <summary>The same study searching <paramref name="space"/> (a later stage's version of the space).</summary>
    public StudyDefinition WithSpace(SearchSpace space) => this with { Space = space };

    /// <summary>The canonical JSON spec (the same shape the API accepts), with the seed filled in.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", Name);
            w.WriteString("workload", Workload);
            w.WriteStartObject("objective");
            w.WriteString("metric", Objective.Metric);
            w.WriteString("direction", Objective.Direction == Direction.Maximize ? "maximize" : "minimize");
            w.WriteEndObject();
            w.WriteStartObject("sampler");
            w.WriteString("type", Sampler.Type);
            w.WriteNumber("seed", Sampler.Seed);
            Sampler.Algorithm.WriteOptions(w);
            if (Sampler.Stages is { } stages)
            {
                w.WritePropertyName("stages");
                JsonSerializer.Serialize(w, stages);
            }

            w.WriteEndObject();
            if (Pruner is not null)
            {
                w.WriteStartObject("pruner");
                w.WriteString("type", Pruner.Type);
                Pruner.WriteOptions(w);
                w.WriteEndObject();
            }

            if (LrRangeTest is not null)
            {
                w.WriteStartObject(LrRangeTestSpec.Field);
                LrRangeTest.ToOptions().WriteOptions(w);
                w.WriteEndObject();
            }

            w.WriteStartObject("budget");
            w.WriteNumber("trials", Budget.Trials);
            w.WriteNumber("parallel", Budget.Parallel);
            if (Budget.MaxRetries != Budget.DefaultMaxRetries)
            {
                w.WriteNumber("max_retries", Budget.MaxRetries);
            }

            w.WriteEndObject();
            w.WriteStartObject("fixed");
            foreach (var (key, value) in Fixed)
            {
                w.WritePropertyName(key);
                JsonSerializer.Serialize(w, value);
            }

            w.WriteEndObject();
            w.WriteStartObject("space");
            foreach (var p in Space.Parameters)
            {
                WriteParameter(w, p);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteParameter(Utf8JsonWriter w, Parameter p)
    {
        w.WriteStartObject(p.Name);
        switch (p)
        {
            case FloatParameter f:
                w.WriteString("type", "float");
                w.WriteNumber("low", f.Low);
                w.WriteNumber("high", f.High);
                w.WriteString("scale", f.Scale switch { Scale.Log => "log", Scale.ReverseLog => "reverse_log", _ => "linear" });
                break;
            case IntParameter i:
                w.WriteString("type", "int");
                w.WriteNumber("low", i.Low);
                w.WriteNumber("high", i.High);
                w.WriteString("scale", i.Scale == Scale.Log ? "log" : "linear");
                w.WriteNumber("step", i.Step);
                break;
            case CategoricalParameter c:
                w.WriteString("type", "categorical");
                w.WritePropertyName("choices");
                JsonSerializer.Serialize(w, c.Choices);
                break;
        }

        if (p.When is { } when)
        {
            w.WriteStartObject("when");
            w.WritePropertyName(when.Parent);
            JsonSerializer.Serialize(w, when.Values);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }
}
