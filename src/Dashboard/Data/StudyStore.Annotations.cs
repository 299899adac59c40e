using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>What people add to studies and trials (tags, Markdown notes), and each trial's latest metrics.</summary>
public sealed partial class StudyStore
{
    // NaN and ±Inf are kept as "NaN", "Infinity", "-Infinity" (JSON has no literal for them).
    private static readonly JsonSerializerOptions MetricJsonOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static readonly IReadOnlyDictionary<string, double> NoMetrics = new Dictionary<string, double>();

    /// <summary>Replaces the trial's tags (already validated); null when the trial does not exist.</summary>
    public async Task<TrialView?> SetTrialTagsAsync(long trialId, IReadOnlyList<string> tags, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null)
        {
            return null;
        }

        trial.TagsJson = tags.Count == 0 ? null : JsonSerializer.Serialize(tags);
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>Replaces the trial's notes (already validated; blank clears them); null when the trial does not exist.</summary>
    public async Task<TrialView?> SetTrialNotesAsync(long trialId, string? markdown, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null)
        {
            return null;
        }

        trial.Notes = string.IsNullOrWhiteSpace(markdown) ? null : markdown;
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>Replaces the study's notes (already validated; blank clears them); false when the study does not exist.</summary>
    public async Task<bool> SetStudyNotesAsync(long studyId, string? markdown, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var notes = string.IsNullOrWhiteSpace(markdown) ? null : markdown;
        return await db.Studies.Where(s => s.Id == studyId).ExecuteUpdateAsync(u => u.SetProperty(s => s.Notes, notes), ct) == 1;
    }

    /// <summary>The study's notes: "" when it has none, null when the study does not exist.</summary>
    public async Task<string?> GetStudyNotesAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var study = await db.Studies.AsNoTracking().Where(s => s.Id == studyId).Select(s => new { s.Notes }).FirstOrDefaultAsync(ct);
        return study is null ? null : study.Notes ?? "";
    }

    private static string MetricsJson(IReadOnlyDictionary<string, double> metrics) => JsonSerializer.Serialize(metrics, MetricJsonOptions);

    private static IReadOnlyDictionary<string, double> ParseMetrics(string? json) =>
        json is null ? NoMetrics : JsonSerializer.Deserialize<Dictionary<string, double>>(json, MetricJsonOptions) ?? NoMetrics;

    private static IReadOnlyList<string> ParseTags(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];
}
