using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Security;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Dashboard.Trials;

/// <summary>
/// A person's tags and Markdown notes on trials and studies, from the UI or the REST API: validated here, stored, then
/// published so every open page shows them at once. A study's notes answer Done with no trial.
/// </summary>
public sealed class TrialAnnotations(StudyStore store, StudyEvents events, UserAccess access)
{
    public const int MaxTags = 20;

    public const int MaxTagLength = 40;

    /// <summary>The most UTF-8 bytes a note may hold (64 KiB).</summary>
    public const int MaxNotesBytes = 64 * 1024;

    /// <summary>
    /// Checks tags a person gave: each trimmed, 1 to <see cref="MaxTagLength"/> characters with no comma (exports join
    /// them with commas) and no control character, at most <see cref="MaxTags"/>; a repeat (ignoring case) is dropped.
    /// </summary>
    public static (IReadOnlyList<string> Tags, IReadOnlyList<FieldError> Errors) CleanTags(IReadOnlyList<string?> given, string field = "tags")
    {
        var errors = new List<FieldError>();
        var tags = new List<string>();
        for (var i = 0; i < given.Count; i++)
        {
            var path = $"{field}[{i}]";
            var tag = given[i]?.Trim();
            if (string.IsNullOrEmpty(tag))
            {
                errors.Add(new FieldError(path, $"must not be empty, got {Quote(given[i])}"));
            }
            else if (tag.Length > MaxTagLength)
            {
                errors.Add(new FieldError(path, $"must be at most {MaxTagLength} characters, got {tag.Length}: {Quote(tag)}"));
            }
            else if (tag.Contains(','))
            {
                errors.Add(new FieldError(path, $"must not contain a comma, got {Quote(tag)}"));
            }
            else if (tag.Any(char.IsControl))
            {
                errors.Add(new FieldError(path, $"must not contain control characters, got {Quote(tag)}"));
            }
            else if (!tags.Contains(tag, StringComparer.OrdinalIgnoreCase))
            {
                tags.Add(tag);
            }
        }

        if (tags.Count > MaxTags)
        {
            errors.Add(new FieldError(field, $"must hold at most {MaxTags} tags, got {tags.Count}"));
        }

        return (tags, errors);
    }

    /// <summary>Checks a note: at most <see cref="MaxNotesBytes"/> bytes of UTF-8.</summary>
    public static FieldError? CheckNotes(string markdown, string field = "markdown")
    {
        var bytes = Encoding.UTF8.GetByteCount(markdown);
        return bytes > MaxNotesBytes ? new FieldError(field, $"must be at most {MaxNotesBytes} bytes of UTF-8, got {bytes}") : null;
    }

    public async Task<ControlResult> SetTagsAsync(long trialId, IReadOnlyList<string?> tags, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "tag trials", ct);
        var (clean, errors) = CleanTags(tags);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        return Published(await store.SetTrialTagsAsync(trialId, clean, ct), trialId);
    }

    /// <summary>Adds one tag to the trial's tags (a repeat changes nothing).</summary>
    public async Task<ControlResult> AddTagAsync(long trialId, string tag, CancellationToken ct = default)
    {
        var trial = await store.GetTrialAsync(trialId, ct);
        return trial is null ? NotFound(trialId) : await SetTagsAsync(trialId, [.. trial.Tags, tag], ct);
    }

    public async Task<ControlResult> RemoveTagAsync(long trialId, string tag, CancellationToken ct = default)
    {
        var trial = await store.GetTrialAsync(trialId, ct);
        return trial is null ? NotFound(trialId) : await SetTagsAsync(trialId, [.. trial.Tags.Where(t => !string.Equals(t, tag, StringComparison.OrdinalIgnoreCase))], ct);
    }

    public async Task<ControlResult> SetTrialNotesAsync(long trialId, string markdown, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "write notes", ct);
        if (CheckNotes(markdown) is { } error)
        {
            return Invalid([error]);
        }

        return Published(await store.SetTrialNotesAsync(trialId, markdown, ct), trialId);
    }

    public async Task<ControlResult> SetStudyNotesAsync(long studyId, string markdown, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "write notes", ct);
        if (CheckNotes(markdown) is { } error)
        {
            return Invalid([error]);
        }

        if (!await store.SetStudyNotesAsync(studyId, markdown, ct))
        {
            return new ControlResult(ControlStatus.NotFound, null, $"study {studyId} does not exist");
        }

        events.Publish(new StudyNotesChanged(studyId));
        return new ControlResult(ControlStatus.Done, null);
    }

    /// <summary>What went wrong, in one line for a person (each error names the field and the value); null when it went well.</summary>
    public static string? Problem(ControlResult result) => result.Status == ControlStatus.Done
        ? null
        : result.Message ?? string.Join("; ", result.Errors?.Select(e => $"{e.Path} {e.Message}") ?? []);

    private ControlResult Published(TrialView? trial, long trialId)
    {
        if (trial is null)
        {
            return NotFound(trialId);
        }

        events.Publish(new TrialChanged(trial));
        return new ControlResult(ControlStatus.Done, trial);
    }

    private static ControlResult Invalid(IReadOnlyList<FieldError> errors) => new(ControlStatus.Invalid, null, Errors: errors);

    private static ControlResult NotFound(long trialId) => new(ControlStatus.NotFound, null, $"trial {trialId} does not exist");

    // JSON quoting shows control characters escaped (\u0007) and spaces as they are ("a b").
    private static string Quote(string? value) => value is null ? "null" : JsonSerializer.Serialize(value, QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
