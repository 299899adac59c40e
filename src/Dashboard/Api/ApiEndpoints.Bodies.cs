using System.Text.Json;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Dashboard.Api;

/// <summary>Reading request bodies: JSON whose every string and field name is valid Unicode, or a 400 naming where it is not.</summary>
public static partial class ApiEndpoints
{
    /// <summary>
    /// Parses the body. System.Text.Json checks the structure but decodes a string only when it is read, so a string
    /// with invalid UTF-8 bytes or a lone surrogate escape ("\ud800") would throw deep inside an endpoint: every one is
    /// read here once, and the first that cannot be is named.
    /// </summary>
    private static async Task<(JsonElement Body, FieldError? Problem)> ParseBodyAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            var body = doc.RootElement.Clone();
            return FindUnreadableText(body, "$") is { } path
                ? (default, new FieldError(path, "is not valid Unicode text: it holds bytes that are not UTF-8, or a lone surrogate such as \\ud800"))
                : (body, null);
        }
        catch (JsonException ex)
        {
            return (default, new FieldError("$", $"is not valid JSON: {ex.Message}"));
        }
    }

    private static string? FindUnreadableText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(() => element.GetString()) ? null : path;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = "";
                    if (!Readable(() => name = property.Name))
                    {
                        return path;
                    }

                    if (FindUnreadableText(property.Value, path == "$" ? name : $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindUnreadableText(item, $"{(path == "$" ? "" : path)}[{i++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static bool Readable(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
