using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>The new-study form's fields; <see cref="ToJson"/> writes the same spec the REST API accepts.</summary>
public sealed class NewStudyForm
{
    public string Name { get; set; } = "fmnist-random";

    public string Workload { get; set; } = "fashion-mnist-cnn";

    public string Metric { get; set; } = "val_accuracy";

    public string Direction { get; set; } = "maximize";

    public string Seed { get; set; } = "";

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
        var space = new JsonObject();
        foreach (var row in Space.Where(r => !string.IsNullOrWhiteSpace(r.Name)))
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

            space[row.Name.Trim()] = p;
        }

        var fixedValues = new JsonObject();
        foreach (var row in Fixed.Where(r => !string.IsNullOrWhiteSpace(r.Name)))
        {
            fixedValues[row.Name.Trim()] = Scalar(row.Value);
        }

        var sampler = new JsonObject { ["type"] = "random" };
        if (!string.IsNullOrWhiteSpace(Seed))
        {
            sampler["seed"] = Scalar(Seed);
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
        return spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
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
    }
}
