using System.Text.Json;
using HyperTune.Shared.Pruners;
using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Studies;

/// <summary>One option of a sampler or pruner type: its default (null when it has none) and the values it accepts.</summary>
public sealed record OptionSpec(string Name, ParamValue? Default, bool Required, string Range, Func<ParamValue, bool> Accepts)
{
    public static OptionSpec WholeNumber(string name, int? @default, int min, int max, bool required = false) =>
        new(name, @default is { } d ? ParamValue.Of(d) : null, required, $"an integer in [{min}, {max}]",
            v => v.Kind == ParamKind.Number && v.Number == Math.Floor(v.Number) && v.Number >= min && v.Number <= max);

    public static OptionSpec Number(string name, double @default, double min, double max) =>
        new(name, ParamValue.Of(@default), false, $"a number in [{Parameter.Format(min)}, {Parameter.Format(max)}]",
            v => v.Kind == ParamKind.Number && v.Number >= min && v.Number <= max);

    public static OptionSpec Flag(string name, bool @default) =>
        new(name, ParamValue.Of(@default), false, "true or false", v => v.Kind == ParamKind.Flag);
}

/// <summary>A sampler or pruner type with its options resolved (defaults filled in).</summary>
public sealed record AlgorithmSpec(string Type, IReadOnlyDictionary<string, ParamValue> Options)
{
    public int WholeNumber(string name) => (int)Options[name].Number;

    public int? OptionalWholeNumber(string name) => Options.TryGetValue(name, out var v) ? (int)v.Number : null;

    public double Number(string name) => Options[name].Number;

    public bool Flag(string name) => Options[name].Flag;

    public bool Equals(AlgorithmSpec? other) =>
        other is not null && Type == other.Type && Options.Count == other.Options.Count
        && Options.All(kv => other.Options.TryGetValue(kv.Key, out var v) && v.Equals(kv.Value));

    public override int GetHashCode() => HashCode.Combine(Type, Options.Count);

    /// <summary>Reads {"type": …, options…} at <paramref name="path"/>, checking every option against the type's table.</summary>
    public static AlgorithmSpec? Parse(JsonElement element, string path, IReadOnlyDictionary<string, OptionSpec[]> types, List<FieldError> errors, params string[] extraKeys)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, $"must be an object with a type, got {element.ValueKind.ToString().ToLowerInvariant()}"));
            return null;
        }

        if (!element.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError($"{path}.type", $"is required: one of {string.Join(", ", types.Keys)}"));
            return null;
        }

        var type = typeElement.GetString()!;
        if (!types.TryGetValue(type, out var optionSpecs))
        {
            errors.Add(new FieldError($"{path}.type", $"must be one of {string.Join(", ", types.Keys)}, got \"{type}\""));
            return null;
        }

        return ParseOptions(element, path, type, optionSpecs, errors, [.. extraKeys, "type"]);
    }

    /// <summary>Reads the options of a known <paramref name="type"/> from an object at <paramref name="path"/>; keys in <paramref name="skip"/> belong to the caller.</summary>
    public static AlgorithmSpec? ParseOptions(JsonElement element, string path, string type, OptionSpec[] optionSpecs, List<FieldError> errors, params string[] skip)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, $"must be an object, got {element.ValueKind.ToString().ToLowerInvariant()}"));
            return null;
        }

        var before = errors.Count;
        var options = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject().Where(p => !skip.Contains(p.Name)))
        {
            var spec = optionSpecs.FirstOrDefault(o => o.Name == property.Name);
            if (spec is null)
            {
                var known = optionSpecs.Select(o => o.Name).Concat(skip.Where(k => k != "type")).ToList();
                errors.Add(new FieldError($"{path}.{property.Name}", $"is not an option of {type} ({(known.Count == 0 ? "it has none" : "known: " + string.Join(", ", known))})"));
                continue;
            }

            try
            {
                var value = ParamValue.FromJson(property.Value, $"{path}.{property.Name}");
                if (spec.Accepts(value))
                {
                    options[spec.Name] = value;
                }
                else
                {
                    errors.Add(new FieldError($"{path}.{property.Name}", $"must be {spec.Range}, got {property.Value.GetRawText()}"));
                }
            }
            catch (SpecException ex)
            {
                errors.Add(new FieldError(ex.Path, ex.Problem));
            }
        }

        foreach (var spec in optionSpecs.Where(o => !options.ContainsKey(o.Name)))
        {
            if (spec.Required)
            {
                errors.Add(new FieldError($"{path}.{spec.Name}", $"is required for {type}: {spec.Range}"));
            }
            else if (spec.Default is { } d)
            {
                options[spec.Name] = d;
            }
        }

        return errors.Count > before ? null : new AlgorithmSpec(type, options);
    }

    public void WriteOptions(Utf8JsonWriter w)
    {
        foreach (var (name, value) in Options)
        {
            w.WritePropertyName(name);
            JsonSerializer.Serialize(w, value);
        }
    }
}

/// <summary>A sampler a spec may name: its options and how to build it.</summary>
public sealed record SamplerType(string Name, OptionSpec[] Options, Func<SamplerSpec, ISampler> Create);

/// <summary>A pruner a spec may name: its options and how to build it.</summary>
public sealed record PrunerType(string Name, OptionSpec[] Options, Func<AlgorithmSpec, IPruner> Create);

/// <summary>The sampler and pruner types a study spec may name: adding one is one line here.</summary>
public static class Algorithms
{
    public static IReadOnlyList<SamplerType> SamplerTypes { get; } =
    [
        new("random", [], s => new RandomSampler(s.Seed)),
        new("grid", [OptionSpec.WholeNumber("resolution", 10, 2, 1000)], s => new GridSampler(s.Seed, s.Algorithm.WholeNumber("resolution"))),
        new("sobol", [], s => new SobolSampler(s.Seed)),
        new("gp", [OptionSpec.WholeNumber("startup_trials", 10, 1, 1000)], s => new GpSampler(s.Seed, s.Algorithm.WholeNumber("startup_trials"))),
        new("tpe", [OptionSpec.WholeNumber("startup_trials", 10, 1, 1000), OptionSpec.Flag("multivariate", false)],
            s => new TpeSampler(s.Seed, s.Algorithm.Flag("multivariate"), s.Algorithm.WholeNumber("startup_trials"))),

        // Within a stage, trials are drawn at random from that stage's space; stages zoom (Samplers/CoarseToFine.cs).
        new(SamplerSpec.CoarseToFine, [OptionSpec.Flag("auto", false)], s => new RandomSampler(s.Seed)),
    ];

    public static IReadOnlyList<PrunerType> PrunerTypes { get; } =
    [
        new("patience", [OptionSpec.WholeNumber("patience", 3, 1, 10_000), OptionSpec.Number("min_delta", 0, 0, 1e9)],
            p => new PatiencePruner(p.WholeNumber("patience"), p.Number("min_delta"))),
        new("median", [OptionSpec.WholeNumber("startup_trials", 5, 0, 10_000), OptionSpec.WholeNumber("warmup_epochs", 0, 0, 100_000)],
            p => new MedianPruner(p.WholeNumber("startup_trials"), p.WholeNumber("warmup_epochs"))),
        new("asha", [OptionSpec.WholeNumber("min_epochs", 1, 1, 100_000), OptionSpec.WholeNumber("reduction_factor", 3, 2, 100), OptionSpec.WholeNumber("max_epochs", null, 1, 100_000)],
            p => new AshaPruner(p.WholeNumber("min_epochs"), p.WholeNumber("reduction_factor"), p.OptionalWholeNumber("max_epochs"))),
        new("hyperband", [OptionSpec.WholeNumber("min_epochs", 1, 1, 100_000), OptionSpec.WholeNumber("max_epochs", null, 1, 100_000, required: true), OptionSpec.WholeNumber("reduction_factor", 3, 2, 100)],
            p => new HyperbandPruner(p.WholeNumber("min_epochs"), p.WholeNumber("max_epochs"), p.WholeNumber("reduction_factor"))),
    ];

    public static IReadOnlyDictionary<string, OptionSpec[]> Samplers { get; } = SamplerTypes.ToDictionary(t => t.Name, t => t.Options);

    public static IReadOnlyDictionary<string, OptionSpec[]> Pruners { get; } = PrunerTypes.ToDictionary(t => t.Name, t => t.Options);

    public static ISampler CreateSampler(SamplerSpec spec) =>
        SamplerTypes.FirstOrDefault(t => t.Name == spec.Type)?.Create(spec)
        ?? throw new InvalidOperationException($"sampler.type \"{spec.Type}\" has no implementation");

    public static IPruner? CreatePruner(AlgorithmSpec? spec) => spec is null
        ? null
        : PrunerTypes.FirstOrDefault(t => t.Name == spec.Type)?.Create(spec)
          ?? throw new InvalidOperationException($"pruner.type \"{spec.Type}\" has no implementation");
}
