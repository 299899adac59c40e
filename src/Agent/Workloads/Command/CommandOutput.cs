using System.Text.Json;
using System.Text.RegularExpressions;
using HyperTune.Shared.Trials;

namespace HyperTune.Agent.Workloads.Command;

/// <summary>What one stdout line of a command means: an epoch report, or only a line of its log (with a note when it looked like a report but was not).</summary>
public sealed record CommandLineOutput(int? Epoch, IReadOnlyDictionary<string, double> Metrics, string? Note);

/// <summary>
/// Reads a command's stdout: a line that is a JSON object with an integer "epoch" (≥ 1) is an epoch report whose other
/// numeric fields are its metrics ("NaN", "Infinity", "-Infinity" allowed); any other line is only logged.
/// </summary>
public static partial class CommandOutput
{
    public const string EpochField = "epoch";

    private static readonly CommandLineOutput LogOnly = new(null, new Dictionary<string, double>(), null);

    public static CommandLineOutput Parse(string line)
    {
        var trimmed = line.AsSpan().Trim();
        if (trimmed.Length == 0 || trimmed[0] != '{')
        {
            return LogOnly;
        }

        var text = trimmed.ToString();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            // Python's json.dumps writes NaN and Infinity bare, which JSON does not allow: read them as quoted.
            var quoted = BareNonFinite().Replace(text, "\"$1\"");
            if (quoted == text || TryParse(quoted) is not { } repaired)
            {
                return LogOnly with { Note = $"not an epoch report: the line starts with '{{' but is not valid JSON ({e.Message})" };
            }

            doc = repaired;
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty(EpochField, out var epochElement) || epochElement.ValueKind != JsonValueKind.Number
                || !epochElement.TryGetInt32(out var epoch) || epoch < 1)
            {
                var got = epochElement.ValueKind == JsonValueKind.Undefined ? "none" : epochElement.GetRawText();
                return LogOnly with { Note = $"not an epoch report: a JSON line needs \"epoch\", an integer >= 1, got {got}" };
            }

            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            var ignored = new List<string>();
            foreach (var property in root.EnumerateObject().Where(p => p.Name != EpochField))
            {
                if (MetricValue.FromJson(property.Value) is { } value)
                {
                    metrics[property.Name] = value;
                }
                else
                {
                    ignored.Add($"{property.Name}={property.Value.GetRawText()}");
                }
            }

            return new CommandLineOutput(epoch, metrics,
                ignored.Count == 0 ? null : $"epoch {epoch}: ignored fields that are not numbers: {string.Join(", ", ignored)}");
        }
    }

    private static JsonDocument? TryParse(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"(?<=:\s*)(NaN|-?Infinity)(?=\s*[,}])")]
    private static partial Regex BareNonFinite();
}
