using System.Text.Json;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Dashboard.Api;

/// <summary>Tags and Markdown notes: PUT replaces them whole; bad input gets 400 naming the field and the value.</summary>
public static partial class ApiEndpoints
{
    private static void MapAnnotations(this RouteGroupBuilder api)
    {
        api.MapPut("/trials/{id:long}/tags", PutTrialTags);
        api.MapPut("/trials/{id:long}/notes", PutTrialNotes);
        api.MapPut("/studies/{id:long}/notes", PutStudyNotes);
        api.MapGet("/studies/{id:long}/notes", async (long id, StudyStore store, CancellationToken ct) =>
            await store.GetStudyNotesAsync(id, ct) is { } notes
                ? Results.Ok(new NotesDto(notes))
                : Results.NotFound(new ProblemDetailsDto($"study {id} does not exist")));
    }

    /// <summary>Body {"tags": ["baseline", "good"]}; an empty array clears them.</summary>
    private static async Task<IResult> PutTrialTags(long id, HttpRequest request, TrialAnnotations annotations, CancellationToken ct)
    {
        var (body, problem) = await ReadObjectAsync(request, ct);
        if (problem is not null)
        {
            return Invalid([problem]);
        }

        if (!body.TryGetProperty("tags", out var given) || given.ValueKind != JsonValueKind.Array)
        {
            return Invalid([new FieldError("tags", $"must be an array of strings like [\"baseline\"], got {Raw(given)}")]);
        }

        var tags = new List<string?>();
        var errors = new List<FieldError>();
        foreach (var (tag, i) in given.EnumerateArray().Select((t, i) => (t, i)))
        {
            if (tag.ValueKind == JsonValueKind.String)
            {
                tags.Add(tag.GetString());
            }
            else
            {
                errors.Add(new FieldError($"tags[{i}]", $"must be a string, got {tag.GetRawText()}"));
            }
        }

        return errors.Count > 0 ? Invalid(errors) : ToHttp(await annotations.SetTagsAsync(id, tags, ct), accepted: false);
    }

    /// <summary>Body {"markdown": "..."}; "" or null clears the notes.</summary>
    private static async Task<IResult> PutTrialNotes(long id, HttpRequest request, TrialAnnotations annotations, CancellationToken ct)
    {
        var (markdown, problem) = await ReadMarkdownAsync(request, ct);
        return problem is not null ? Invalid([problem]) : ToHttp(await annotations.SetTrialNotesAsync(id, markdown!, ct), accepted: false);
    }

    private static async Task<IResult> PutStudyNotes(long id, HttpRequest request, TrialAnnotations annotations, CancellationToken ct)
    {
        var (markdown, problem) = await ReadMarkdownAsync(request, ct);
        if (problem is not null)
        {
            return Invalid([problem]);
        }

        var result = await annotations.SetStudyNotesAsync(id, markdown!, ct);
        // Blank notes are stored as none: answer what was stored.
        return result.Status == ControlStatus.Done ? Results.Ok(new NotesDto(string.IsNullOrWhiteSpace(markdown) ? "" : markdown)) : ToHttp(result, accepted: false);
    }

    private static async Task<(string? Markdown, FieldError? Problem)> ReadMarkdownAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await ReadObjectAsync(request, ct);
        if (problem is not null)
        {
            return (null, problem);
        }

        return body.TryGetProperty("markdown", out var given) && given.ValueKind is JsonValueKind.String or JsonValueKind.Null
            ? (given.GetString() ?? "", null)
            : (null, new FieldError("markdown", $"must be a string of Markdown, got {Raw(given)}"));
    }

    private static string Raw(JsonElement element) => element.ValueKind == JsonValueKind.Undefined ? "nothing" : element.GetRawText();
}

/// <summary>A study's or trial's notes, as Markdown ("" when none).</summary>
public sealed record NotesDto(string Markdown);
