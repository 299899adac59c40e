using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HyperTune.Shared.LearningRate;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>The new-study form's fields; <see cref="ToJson"/> writes the same spec the REST API accepts.</summary>
public sealed class NewStudyForm
{
    public string Name { get; set; } = "fmnist-random";

    public string Workload { get; set; } = "fashion-mnist-cnn";

    public string Metric { get; set; } = "val_accuracy";

    public string Direction { get; set; } = "maximize";

    public string Seed { get; set; } = "";

    public string Sampler { get; set; } = "random";

    /// <summary>Trials per stage for coarse-to-fine, comma-separated.</summary>
    public string Stages { get; set; } = "4, 2, 2";

    public bool AutoStages { get; set; } = true;

    /// <summary>A pruner type, or empty for none; its options keep their defaults (the JSON tab sets them).</summary>
    public string Pruner { get; set; } = "";

    /// <summary>Run an LR range test first; its curve proposes the lr bounds of the first search stage.</summary>
    public bool LrRangeTest { get; set; }

    public int LrRangeTestSteps { get; set; } = 200;

    /// <summary>Start the search as soon as the range test proposes bounds, instead of waiting for a person to review them.</summary>
    public bool LrRangeTestAuto { get; set; }

    public int Trials { get; set; } = 8;

    public int Parallel { get; set; } = 2;

    public List<FixedRow> Fixed { get; } =
    [
        new() { Name = "epochs", Value = "3" },
        new() { Name = "train_samples", Value = "6000" },
    ];

    public List<SpaceRow> Space { get; } =
    [
        new() { Name = "lr", Type = "float", Low = "0.0001", High = "0.3", Scale = "log" },
        new() { Name = "momentum", Type = "float", Low = "0.5", High = "0.99" },
        new() { Name = "batch_size", Type = "categorical", Choices = "32, 64, 128" },
        new() { Name = "dropout", Type = "float", Low = "0.0", High = "0.5" },
    ];

    public string ToJson()
    {
        var space = SpaceJson(Space);

        var fixedValues = new JsonObject();
        foreach (var row in Fixed.Where(r => !string.IsNullOrWhiteSpace(r.Name)))
        {
            fixedValues[row.Name.Trim()] = Scalar(row.Value);
        }

        var sampler = new JsonObject { ["type"] = Sampler };
        if (!string.IsNullOrWhiteSpace(Seed))
        {
            sampler["seed"] = Scalar(Seed);
        }

        if (Sampler == SamplerSpec.CoarseToFine)
        {
            sampler["stages"] = new JsonArray([.. Stages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Scalar)]);
            sampler["auto"] = AutoStages;
        }

        var spec = new JsonObject
        {
            ["name"] = Name,
            ["workload"] = Workload,
            ["objective"] = new JsonObject { ["metric"] = Metric, ["direction"] = Direction },
            ["sampler"] = sampler,
            ["budget"] = new JsonObject { ["trials"] = Trials, ["parallel"] = Parallel },
            ["fixed"] = fixedValues,
            ["space"] = space,
        };
        if (!string.IsNullOrEmpty(Pruner))
        {
            spec["pruner"] = PrunerJson();
        }

        if (LrRangeTest)
        {
            spec[LrRangeTestSpec.Field] = new JsonObject { ["steps"] = LrRangeTestSteps, ["auto"] = LrRangeTestAuto };
        }

        return spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    // Hyperband needs its maximum: the study's epochs when fixed, else the workload default's 3.
    private JsonObject PrunerJson()
    {
        var pruner = new JsonObject { ["type"] = Pruner };
        if (Pruner == "hyperband")
        {
            pruner["max_epochs"] = Scalar(Fixed.FirstOrDefault(f => f.Name.Trim() == "epochs")?.Value ?? "3");
        }

        return pruner;
    }

    /// <summary>The rows as a spec's "space" object.</summary>
    public static JsonObject SpaceJson(IEnumerable<SpaceRow> rows)
    {
        var space = new JsonObject();
        foreach (var row in rows.Where(r => !string.IsNullOrWhiteSpace(r.Name)))
        {
            var p = new JsonObject { ["type"] = row.Type };
            if (row.Type == "categorical")
            {
                var choices = new JsonArray();
                foreach (var c in (row.Choices ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    choices.Add(Scalar(c));
                }

                p["choices"] = choices;
            }
            else
            {
                p["low"] = Scalar(row.Low);
                p["high"] = Scalar(row.High);
                p["scale"] = row.Scale;
                if (row.Type == "int" && !string.IsNullOrWhiteSpace(row.Step))
                {
                    p["step"] = Scalar(row.Step);
                }
            }

            if (!string.IsNullOrWhiteSpace(row.WhenText))
            {
                p["when"] = WhenJson(row.WhenText);
            }
            else if (row.When is { } when)
            {
                p["when"] = new JsonObject { [when.Parent] = new JsonArray([.. when.Values.Select(v => JsonNode.Parse(JsonSerializer.Serialize(v)))]) };
            }

            space[row.Name.Trim()] = p;
        }

        return space;
    }

    // "optimizer=sgd, adam" → {"optimizer": ["sgd", "adam"]}; anything else goes as text, for the parser to name.
    private static JsonNode WhenJson(string text)
    {
        var at = text.IndexOf('=', StringComparison.Ordinal);
        if (at <= 0)
        {
            return JsonValue.Create(text.Trim());
        }

        var values = text[(at + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new JsonObject { [text[..at].Trim()] = new JsonArray([.. values.Select(Scalar)]) };
    }

    // A number when it reads as one, true/false as booleans, anything else as text (the parser then names the field).
    private static JsonValue Scalar(string? text)
    {
        var t = (text ?? "").Trim();
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return JsonValue.Create(n);
        }

        return t switch
        {
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            _ => JsonValue.Create(t),
        };
    }

    public sealed class FixedRow
    {
        public string Name { get; set; } = "";

        public string Value { get; set; } = "";
    }

    public sealed class SpaceRow
    {
        public string Name { get; set; } = "";

        public string Type { get; set; } = "float";

        public string Low { get; set; } = "";

        public string High { get; set; } = "";

        public string Scale { get; set; } = "linear";

        public string Step { get; set; } = "";

        public string Choices { get; set; } = "";

        /// <summary>A condition typed on the form, "parent=value, value" (e.g. "optimizer=sgd"); empty for none.</summary>
        public string WhenText { get; set; } = "";

        /// <summary>Carried through unchanged when a stage's space is edited.</summary>
        public Condition? When { get; set; }

        /// <summary>A row showing an existing parameter, for editing a proposed stage.</summary>
        public static SpaceRow From(Parameter parameter) => parameter switch
        {
            FloatParameter f => new() { Name = f.Name, Type = "float", Low = Num(f.Low), High = Num(f.High), Scale = ScaleName(f.Scale), When = f.When },
            IntParameter i => new() { Name = i.Name, Type = "int", Low = Num(i.Low), High = Num(i.High), Scale = ScaleName(i.Scale), Step = Num(i.Step), When = i.When },
            CategoricalParameter c => new() { Name = c.Name, Type = "categorical", Choices = string.Join(", ", c.Choices), When = c.When },
            _ => new() { Name = parameter.Name },
        };

        private static string Num(double x) => x.ToString("R", CultureInfo.InvariantCulture);

        private static string ScaleName(HyperTune.Shared.SearchSpaces.Scale scale) => scale switch
        {
            HyperTune.Shared.SearchSpaces.Scale.Log => "log",
            HyperTune.Shared.SearchSpaces.Scale.ReverseLog => "reverse_log",
            _ => "linear",
        };
    }
}
