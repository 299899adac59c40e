using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HyperTune.Shared.LearningRate;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Workloads;

namespace HyperTune.Shared.Studies;

/// <summary>The outcome of reading a study spec: a definition, or every problem found, each naming its field.</summary>
public sealed record SpecParseResult(StudyDefinition? Definition, IReadOnlyList<FieldError> Errors)
{
    public bool IsValid => Definition is not null;
}

/// <summary>Reads and validates the JSON study spec shared by the REST API and the new-study form.</summary>
public static partial class StudySpecParser
{
    public const int MaxTrials = 100_000;
    public const int MaxParallel = 1_000;

    private static readonly string[] TopLevelFields = ["name", "workload", "objective", "sampler", "pruner", LrRangeTestSpec.Field, "budget", "fixed", "space"];

    public static SpecParseResult Parse(string json, int fallbackSeed)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return Parse(doc.RootElement, fallbackSeed);
        }
        catch (JsonException ex)
        {
            return new SpecParseResult(null, [new FieldError("$", $"is not valid JSON: {ex.Message}")]);
        }
    }

    public static SpecParseResult Parse(JsonElement root, int fallbackSeed)
    {
        var errors = new List<FieldError>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new SpecParseResult(null, [new FieldError("$", $"must be a JSON object, got {Kind(root)}")]);
        }

        var name = RequiredString(root, "name", errors);
        if (name is { Length: > 200 })
        {
            errors.Add(new FieldError("name", $"must be at most 200 characters, got {name.Length}"));
        }

        var workload = RequiredString(root, "workload", errors);
        if (workload is not null && CommandWorkloads.TryGetCommand(workload, out var command))
        {
            if (!CommandWorkloads.IsValidName(command))
            {
                errors.Add(new FieldError("workload", $"must name a command as \"command:<name>\" with a name of 1 to 100 letters, digits, '-', '_' or '.', got \"{workload}\""));
            }
        }
        else if (workload is not null && !IdentifierPattern().IsMatch(workload))
        {
            errors.Add(new FieldError("workload", $"must be letters, digits, '-', '_' or '.' (or \"command:<name>\" for a command an agent declares), got \"{workload}\""));
        }

        var objective = ParseObjective(root, errors);
        var sampler = ParseSampler(root, fallbackSeed, errors);
        var budget = ParseBudget(root, errors);
        var fixedValues = ParseFixed(root, errors);
        var space = ParseSpace(root, errors);
        // "pruner": null means no early stopping, like leaving it out.
        var pruner = root.TryGetProperty("pruner", out var prunerElement) && prunerElement.ValueKind != JsonValueKind.Null
            ? AlgorithmSpec.Parse(prunerElement, "pruner", Algorithms.Pruners, errors)
            : null;

        var lrRangeTest = ParseLrRangeTest(root, workload, space, errors);

        foreach (var key in fixedValues.Keys.Where(k => space.Any(p => p.Name == k)))
        {
            errors.Add(new FieldError($"fixed.{key}", "is also in space; a parameter is either fixed or searched"));
        }

        foreach (var unknown in root.EnumerateObject().Select(p => p.Name).Except(TopLevelFields))
        {
            errors.Add(new FieldError(unknown, $"is not a known field ({string.Join(", ", TopLevelFields)})"));
        }

        if (sampler?.Stages is { } stageTrials && budget is not null && stageTrials.Sum() != budget.Trials)
        {
            errors.Add(new FieldError("budget.trials", $"must equal the sum of sampler.stages ({stageTrials.Sum()}), got {budget.Trials}"));
        }

        if (workload is not null && WorkloadCatalog.Find(workload) is { } builtIn)
        {
            CheckAgainstWorkload(builtIn, fixedValues, space, errors);
        }

        if (errors.Count > 0)
        {
            return new SpecParseResult(null, errors);
        }

        return new SpecParseResult(
            new StudyDefinition(name!, workload!, objective!, sampler!, budget!, fixedValues, new SearchSpace(space)) { Pruner = pruner, LrRangeTest = lrRangeTest },
            errors);
    }

    /// <summary>"lr_range_test": {min_lr, max_lr, steps, auto}; only for built-in workloads searching a float lr.</summary>
    private static LrRangeTestSpec? ParseLrRangeTest(JsonElement root, string? workload, List<Parameter> space, List<FieldError> errors)
    {
        if (!root.TryGetProperty(LrRangeTestSpec.Field, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var options = AlgorithmSpec.ParseOptions(element, LrRangeTestSpec.Field, LrRangeTestSpec.Field, LrRangeTestSpec.Options, errors);
        if (options is null)
        {
            return null;
        }

        var spec = LrRangeTestSpec.From(options);
        var before = errors.Count;
        if (spec.MinLr >= spec.MaxLr)
        {
            errors.Add(new FieldError($"{LrRangeTestSpec.Field}.max_lr", $"must be greater than min_lr ({Parameter.Format(spec.MinLr)}), got {Parameter.Format(spec.MaxLr)}"));
        }

        if (workload is not null && WorkloadCatalog.Find(workload) is null)
        {
            errors.Add(new FieldError(LrRangeTestSpec.Field, $"needs a built-in workload ({string.Join(", ", WorkloadCatalog.BuiltIn.Select(w => w.Name))}), got \"{workload}\""));
        }

        if (space.FirstOrDefault(p => p.Name == LrRangeTestSpec.LrParameter) is not FloatParameter { When: null })
        {
            errors.Add(new FieldError(LrRangeTestSpec.Field, "needs space.lr: an unconditional float parameter whose bounds the test proposes"));
        }

        return errors.Count > before ? null : spec;
    }

    /// <summary>Checks a single value against the parameter of that name (for clone overrides).</summary>
    public static string? RejectValue(StudyDefinition study, string name, ParamValue value)
    {
        if (WorkloadCatalog.Find(study.Workload) is { } builtIn)
        {
            return WorkloadCatalog.Reject(builtIn, name, value);
        }

        if (study.Space.Find(name) is { } parameter)
        {
            return parameter.Reject(value);
        }

        if (study.Fixed.TryGetValue(name, out var fixedValue))
        {
            return fixedValue.Kind == value.Kind ? null : $"must be a {fixedValue.Kind.ToString().ToLowerInvariant()}, got {value}";
        }

        return IdentifierPattern().IsMatch(name) ? null : $"is not a valid parameter name";
    }

    private static void CheckAgainstWorkload(WorkloadInfo workload, Dictionary<string, ParamValue> fixedValues, List<Parameter> space, List<FieldError> errors)
    {
        foreach (var (key, value) in fixedValues)
        {
            if (WorkloadCatalog.Reject(workload, key, value) is { } problem)
            {
                errors.Add(new FieldError($"fixed.{key}", problem));
            }
        }

        foreach (var parameter in space)
        {
            // The ends of a range (and every choice) must be values the workload accepts.
            IEnumerable<ParamValue> corners = parameter switch
            {
                FloatParameter f => [ParamValue.Of(f.Low), ParamValue.Of(f.High)],
                IntParameter i => [ParamValue.Of(i.Low), ParamValue.Of(i.High)],
                CategoricalParameter c => c.Choices,
                _ => [],
            };
            foreach (var value in corners)
            {
                if (WorkloadCatalog.Reject(workload, parameter.Name, value) is { } problem)
                {
                    errors.Add(new FieldError($"space.{parameter.Name}", problem));
                    break;
                }
            }
        }
    }

    private static Objective? ParseObjective(JsonElement root, List<FieldError> errors)
    {
        if (!RequiredObject(root, "objective", errors, out var o))
        {
            return null;
        }

        var metric = RequiredString(o, "metric", errors, "objective.");
        var direction = RequiredString(o, "direction", errors, "objective.");
        Direction? dir = direction switch
        {
            "maximize" => Direction.Maximize,
            "minimize" => Direction.Minimize,
            null => null,
            _ => null,
        };
        if (direction is not null && dir is null)
        {
            errors.Add(new FieldError("objective.direction", $"must be \"maximize\" or \"minimize\", got \"{direction}\""));
        }

        return metric is null || dir is null ? null : new Objective(metric, dir.Value);
    }

    private static SamplerSpec? ParseSampler(JsonElement root, int fallbackSeed, List<FieldError> errors)
    {
        if (!root.TryGetProperty("sampler", out var s))
        {
            return new SamplerSpec("random", fallbackSeed, new Dictionary<string, ParamValue>());
        }

        var seed = fallbackSeed;
        if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("seed", out var seedElement))
        {
            if (seedElement.ValueKind == JsonValueKind.Number && seedElement.TryGetInt32(out var given))
            {
                seed = given;
            }
            else
            {
                errors.Add(new FieldError("sampler.seed", $"must be a 32-bit integer, got {seedElement.GetRawText()}"));
            }
        }

        var algorithm = AlgorithmSpec.Parse(s, "sampler", Algorithms.Samplers, errors, "seed", "stages");
        if (algorithm is null)
        {
            return null;
        }

        var stages = ParseStages(s, algorithm.Type, errors);
        return new SamplerSpec(algorithm.Type, seed, algorithm.Options) { Stages = stages };
    }

    private static List<int>? ParseStages(JsonElement sampler, string type, List<FieldError> errors)
    {
        var given = sampler.TryGetProperty("stages", out var stagesElement);
        if (type != SamplerSpec.CoarseToFine)
        {
            if (given)
            {
                errors.Add(new FieldError("sampler.stages", $"is only an option of {SamplerSpec.CoarseToFine}, not of {type}"));
            }

            return null;
        }

        if (!given || stagesElement.ValueKind != JsonValueKind.Array || stagesElement.GetArrayLength() is < 1 or > 20
            || stagesElement.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var n) || n < 1))
        {
            errors.Add(new FieldError("sampler.stages", $"must list 1 to 20 trial counts >= 1, e.g. [50, 25, 25], got {(given ? stagesElement.GetRawText() : "nothing")}"));
            return null;
        }

        return [.. stagesElement.EnumerateArray().Select(e => e.GetInt32())];
    }

    private static Budget? ParseBudget(JsonElement root, List<FieldError> errors)
    {
        if (!RequiredObject(root, "budget", errors, out var b))
        {
            return null;
        }

        var trials = RequiredInt(b, "trials", 1, MaxTrials, errors, "budget.");
        int? parallel = 1;
        if (b.TryGetProperty("parallel", out _))
        {
            parallel = RequiredInt(b, "parallel", 1, MaxParallel, errors, "budget.");
        }

        int? retries = Budget.DefaultMaxRetries;
        if (b.TryGetProperty("max_retries", out _))
        {
            retries = RequiredInt(b, "max_retries", 0, Budget.MostRetries, errors, "budget.");
        }

        return trials is null || parallel is null || retries is null ? null : new Budget(trials.Value, parallel.Value, retries.Value);
    }

    private static Dictionary<string, ParamValue> ParseFixed(JsonElement root, List<FieldError> errors)
    {
        var values = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        if (!root.TryGetProperty("fixed", out var f))
        {
            return values;
        }

        if (f.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("fixed", $"must be an object, got {Kind(f)}"));
            return values;
        }

        foreach (var property in f.EnumerateObject())
        {
            var path = $"fixed.{property.Name}";
            if (!IdentifierPattern().IsMatch(property.Name))
            {
                errors.Add(new FieldError(path, "is not a valid parameter name (letters, digits, '_', '-', '.')"));
                continue;
            }

            try
            {
                values[property.Name] = ParamValue.FromJson(property.Value, path);
            }
            catch (SpecException ex)
            {
                errors.Add(new FieldError(ex.Path, ex.Problem));
            }
        }

        return values;
    }

    private static List<Parameter> ParseSpace(JsonElement root, List<FieldError> errors)
    {
        var parameters = new List<Parameter>();
        if (!RequiredObject(root, "space", errors, out var space))
        {
            return parameters;
        }

        foreach (var property in space.EnumerateObject())
        {
            var path = $"space.{property.Name}";
            if (!IdentifierPattern().IsMatch(property.Name))
            {
                errors.Add(new FieldError(path, "is not a valid parameter name (letters, digits, '_', '-', '.')"));
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(path, $"must be an object with a type, got {Kind(property.Value)}"));
                continue;
            }

            foreach (var unknown in property.Value.EnumerateObject().Select(k => k.Name).Except(ParameterKeys))
            {
                errors.Add(new FieldError($"{path}.{unknown}", $"is not a parameter field ({string.Join(", ", ParameterKeys)})"));
            }

            if (ParseParameter(property.Name, property.Value, path, errors) is { } parameter)
            {
                parameters.Add(parameter);
            }
        }

        // Conditions name other parameters, so they are read once every parameter is known.
        for (var i = 0; i < parameters.Count; i++)
        {
            if (space.GetProperty(parameters[i].Name).TryGetProperty("when", out var when))
            {
                var condition = ParseCondition(when, parameters[i].Name, parameters, space, errors);
                parameters[i] = parameters[i] with { When = condition };
            }
        }

        return parameters;
    }

    private static readonly string[] ParameterKeys = ["type", "low", "high", "scale", "step", "choices", "when"];

    private static Condition? ParseCondition(JsonElement when, string child, List<Parameter> parameters, JsonElement space, List<FieldError> errors)
    {
        var path = $"space.{child}.when";
        if (when.ValueKind != JsonValueKind.Object || when.EnumerateObject().Count() != 1)
        {
            errors.Add(new FieldError(path, $"must name one parent parameter and its value(s), e.g. {{\"optimizer\": \"sgd\"}}, got {when.GetRawText()}"));
            return null;
        }

        var rule = when.EnumerateObject().Single();
        var parent = parameters.FirstOrDefault(p => p.Name == rule.Name);
        if (parent is null)
        {
            errors.Add(new FieldError($"{path}.{rule.Name}", $"names no parameter of the space (conditions refer to searched parameters)"));
            return null;
        }

        if (parent.Name == child || space.GetProperty(parent.Name).TryGetProperty("when", out _))
        {
            errors.Add(new FieldError($"{path}.{rule.Name}", $"must name an unconditional parameter (conditions are one level deep), got {rule.Name}"));
            return null;
        }

        var values = new List<ParamValue>();
        var raw = rule.Value.ValueKind == JsonValueKind.Array ? [.. rule.Value.EnumerateArray()] : new[] { rule.Value };
        foreach (var element in raw)
        {
            try
            {
                var value = ParamValue.FromJson(element, $"{path}.{rule.Name}");
                if (parent.Reject(value) is { } problem || (parent is CategoricalParameter c && !c.Choices.Contains(value)))
                {
                    errors.Add(new FieldError($"{path}.{rule.Name}", $"{element.GetRawText()} is not a value {rule.Name} can take ({parent.Describe()})"));
                    return null;
                }

                values.Add(value);
            }
            catch (SpecException ex)
            {
                errors.Add(new FieldError(ex.Path, ex.Problem));
                return null;
            }
        }

        if (values.Count == 0)
        {
            errors.Add(new FieldError($"{path}.{rule.Name}", "must list at least one value"));
            return null;
        }

        return new Condition(rule.Name, values);
    }

    private static Parameter? ParseParameter(string name, JsonElement p, string path, List<FieldError> errors)
    {
        var type = RequiredString(p, "type", errors, path + ".");
        switch (type)
        {
            case null:
                return null;
            case "float":
            case "int":
                return ParseNumeric(name, type, p, path, errors);
            case "categorical":
                return ParseCategorical(name, p, path, errors);
            default:
                errors.Add(new FieldError($"{path}.type", $"must be \"float\", \"int\" or \"categorical\", got \"{type}\""));
                return null;
        }
    }

    private static Parameter? ParseNumeric(string name, string type, JsonElement p, string path, List<FieldError> errors)
    {
        var before = errors.Count;
        var low = RequiredNumber(p, "low", errors, path + ".");
        var high = RequiredNumber(p, "high", errors, path + ".");
        var scaleText = p.TryGetProperty("scale", out var s) ? (s.ValueKind == JsonValueKind.String ? s.GetString() : s.GetRawText()) : "linear";
        Scale? scale = scaleText switch
        {
            "linear" => Scale.Linear,
            "log" => Scale.Log,
            "reverse_log" when type == "float" => Scale.ReverseLog,
            _ => null,
        };
        if (scale is null)
        {
            errors.Add(new FieldError($"{path}.scale", type == "float"
                ? $"must be \"linear\", \"log\" or \"reverse_log\", got {Quote(scaleText)}"
                : $"must be \"linear\" or \"log\", got {Quote(scaleText)}"));
        }

        long step = 1;
        if (p.TryGetProperty("step", out var stepElement))
        {
            if (type != "int")
            {
                errors.Add(new FieldError($"{path}.step", "is only allowed on int parameters"));
            }
            else if (stepElement.ValueKind != JsonValueKind.Number || !stepElement.TryGetInt64(out step) || step < 1)
            {
                errors.Add(new FieldError($"{path}.step", $"must be an integer >= 1, got {stepElement.GetRawText()}"));
            }
        }

        if (low is { } lo && high is { } hi)
        {
            if (type == "int" && (lo != Math.Floor(lo) || hi != Math.Floor(hi)))
            {
                errors.Add(new FieldError(lo != Math.Floor(lo) ? $"{path}.low" : $"{path}.high", $"must be an integer for an int parameter, got {Parameter.Format(lo != Math.Floor(lo) ? lo : hi)}"));
            }

            if (!(hi > lo))
            {
                errors.Add(new FieldError($"{path}.high", $"must be > low ({Parameter.Format(lo)}), got {Parameter.Format(hi)}"));
            }

            if (scale == Scale.Log && !(lo > 0))
            {
                errors.Add(new FieldError($"{path}.low", $"must be > 0 for a log scale, got {Parameter.Format(lo)}"));
            }

            if (scale == Scale.ReverseLog && !(hi < 1))
            {
                errors.Add(new FieldError($"{path}.high", $"must be < 1 for a reverse_log scale (it spreads 1 - x on a log scale), got {Parameter.Format(hi)}"));
            }
        }

        if (errors.Count > before)
        {
            return null;
        }

        return type == "float"
            ? new FloatParameter(name, low!.Value, high!.Value, scale!.Value)
            : new IntParameter(name, (long)low!.Value, (long)high!.Value, scale!.Value, step);
    }

    private static CategoricalParameter? ParseCategorical(string name, JsonElement p, string path, List<FieldError> errors)
    {
        if (!p.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            errors.Add(new FieldError($"{path}.choices", $"must be a non-empty array, got {(choices.ValueKind == JsonValueKind.Undefined ? "nothing" : choices.GetRawText())}"));
            return null;
        }

        var values = new List<ParamValue>();
        var index = 0;
        foreach (var c in choices.EnumerateArray())
        {
            try
            {
                var value = ParamValue.FromJson(c, $"{path}.choices[{index}]");
                if (values.Count > 0 && value.Kind != values[0].Kind)
                {
                    errors.Add(new FieldError($"{path}.choices[{index}]", $"must be a {values[0].Kind.ToString().ToLowerInvariant()} like the first choice, got {c.GetRawText()}"));
                }
                else if (values.Contains(value))
                {
                    errors.Add(new FieldError($"{path}.choices[{index}]", $"repeats the choice {c.GetRawText()}"));
                }
                else
                {
                    values.Add(value);
                }
            }
            catch (SpecException ex)
            {
                errors.Add(new FieldError(ex.Path, ex.Problem));
            }

            index++;
        }

        return values.Count == choices.GetArrayLength() ? new CategoricalParameter(name, values) : null;
    }

    private static bool RequiredObject(JsonElement parent, string name, List<FieldError> errors, out JsonElement value)
    {
        if (!parent.TryGetProperty(name, out value))
        {
            errors.Add(new FieldError(name, "is required"));
            return false;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(name, $"must be an object, got {Kind(value)}"));
            return false;
        }

        return true;
    }

    private static string? RequiredString(JsonElement parent, string name, List<FieldError> errors, string prefix = "")
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            errors.Add(new FieldError(prefix + name, "is required"));
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            errors.Add(new FieldError(prefix + name, $"must be a non-empty string, got {value.GetRawText()}"));
            return null;
        }

        return value.GetString()!.Trim();
    }

    private static double? RequiredNumber(JsonElement parent, string name, List<FieldError> errors, string prefix)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            errors.Add(new FieldError(prefix + name, "is required"));
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !double.IsFinite(value.GetDouble()))
        {
            errors.Add(new FieldError(prefix + name, $"must be a finite number, got {value.GetRawText()}"));
            return null;
        }

        return value.GetDouble();
    }

    private static int? RequiredInt(JsonElement parent, string name, int min, int max, List<FieldError> errors, string prefix)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            errors.Add(new FieldError(prefix + name, "is required"));
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < min || n > max)
        {
            errors.Add(new FieldError(prefix + name, $"must be an integer between {min} and {max.ToString(CultureInfo.InvariantCulture)}, got {value.GetRawText()}"));
            return null;
        }

        return n;
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private static string Quote(string? s) => s is null ? "null" : $"\"{s}\"";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex IdentifierPattern();
}
