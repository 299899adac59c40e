using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HyperTune.Shared.SearchSpaces;

/// <summary>The kind of value a hyperparameter holds.</summary>
public enum ParamKind
{
    Number,
    Text,
    Flag,
}

/// <summary>One hyperparameter value: a number, a text or a flag, as it appears in JSON.</summary>
[JsonConverter(typeof(ParamValueJsonConverter))]
public readonly record struct ParamValue
{
    private ParamValue(ParamKind kind, double number, string? text, bool flag)
    {
        Kind = kind;
        Number = number;
        Text = text;
        Flag = flag;
    }

    public ParamKind Kind { get; }

    public double Number { get; }

    public string? Text { get; }

    public bool Flag { get; }

    public static ParamValue Of(double number) => new(ParamKind.Number, number, null, false);

    public static ParamValue Of(string text) => new(ParamKind.Text, 0, text, false);

    public static ParamValue Of(bool flag) => new(ParamKind.Flag, 0, null, flag);

    public override string ToString() => Kind switch
    {
        ParamKind.Number => Number.ToString("G6", CultureInfo.InvariantCulture),
        ParamKind.Text => Text ?? "",
        _ => Flag ? "true" : "false",
    };

    /// <summary>Reads a JSON scalar; anything else is an error that names the path.</summary>
    public static ParamValue FromJson(JsonElement element, string path) => element.ValueKind switch
    {
        // GetDouble reads 1e400 as infinity, which no JSON writer can write back.
        JsonValueKind.Number when double.IsFinite(element.GetDouble()) => Of(element.GetDouble()),
        JsonValueKind.Number => throw new SpecException(path, $"must be a finite number, got {element.GetRawText()}"),
        JsonValueKind.String => Of(element.GetString()!),
        JsonValueKind.True => Of(true),
        JsonValueKind.False => Of(false),
        _ => throw new SpecException(path, $"must be a number, a string or a boolean, got {element.ValueKind.ToString().ToLowerInvariant()}"),
    };
}

/// <summary>Writes a <see cref="ParamValue"/> as a plain JSON number, string or boolean.</summary>
public sealed class ParamValueJsonConverter : JsonConverter<ParamValue>
{
    // Scalars straight from the reader (a 10,000-trial study parses 70,000 of them per page open); anything else goes
    // through FromJson, whose error says what it got.
    public override ParamValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetDouble(out var number) && double.IsFinite(number) => ParamValue.Of(number),
        JsonTokenType.String => ParamValue.Of(reader.GetString()!),
        JsonTokenType.True => ParamValue.Of(true),
        JsonTokenType.False => ParamValue.Of(false),
        _ => ParamValue.FromJson(JsonElement.ParseValue(ref reader), "value"),
    };

    public override void Write(Utf8JsonWriter writer, ParamValue value, JsonSerializerOptions options)
    {
        switch (value.Kind)
        {
            case ParamKind.Number:
                writer.WriteNumberValue(value.Number);
                break;
            case ParamKind.Text:
                writer.WriteStringValue(value.Text);
                break;
            default:
                writer.WriteBooleanValue(value.Flag);
                break;
        }
    }
}
