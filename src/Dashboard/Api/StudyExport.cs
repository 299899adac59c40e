using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using CsvHelper;
using HyperTune.Dashboard.Data;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Api;

/// <summary>
/// A study's trials and epoch reports as CSV or JSON, written straight to a stream. Numbers keep full precision; NaN
/// and ±Inf are written NaN, Infinity and -Infinity (in JSON as strings, which JSON needs for them).
/// </summary>
public static class StudyExport
{
    // Flush to the client about this often, so a big export streams instead of piling up in a buffer.
    private const int FlushBytes = 32 * 1024;

    // RFC 4180, numbers in the invariant culture; text that a spreadsheet would run as a formula (=, +, -, @) gets a leading '.
    private static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with { Injection = CsvInjection.Escape };

    private static readonly string[] TrialColumns = ["number", "id", "stage", "kind", "state", "attempt", "epochs", "objective_last", "objective_best"];

    private static readonly string[] TrialTextColumns = ["tags", "notes", "agent", "reason", "cloned_from", "created_at", "started_at", "ended_at"];

    private static readonly string[] EpochColumns = ["trial", "attempt", "epoch"];

    /// <summary>
    /// One row per trial: number, id, stage, kind, state, attempt, epochs, objective_last, objective_best, params_NAME for
    /// every parameter any trial has (searched ones first), last_NAME for every metric of the trials' latest reports,
    /// tags (comma-separated), notes, agent, reason, cloned_from (a trial number), created_at, started_at, ended_at.
    /// </summary>
    public static async Task WriteTrialsCsvAsync(Stream stream, StudyDefinition definition, IReadOnlyList<TrialView> trials, CancellationToken ct)
    {
        var parameters = ParamNames(definition, trials);
        var metrics = trials.SelectMany(t => t.LastMetrics.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var numbers = trials.ToDictionary(t => t.Id, t => t.Number);
        await using var csv = CsvWriter.Create(stream, CsvOptions, leaveOpen: true);
        csv.WriteHeader([.. TrialColumns.Concat(parameters.Select(p => "params_" + p)).Concat(metrics.Select(m => "last_" + m)).Concat(TrialTextColumns)]);
        foreach (var t in trials)
        {
            csv.WriteField(t.Number);
            csv.WriteField(t.Id);
            csv.WriteField(t.StageIndex + 1);
            csv.WriteField(TrialDto.KindName(t.Kind == TrialKind.LrRangeTest));
            csv.WriteField(t.State.ToWire());
            csv.WriteField(t.Attempt);
            csv.WriteField(t.EpochCount);
            csv.WriteField(t.LastValue);
            csv.WriteField(t.BestValue);
            foreach (var p in parameters)
            {
                WriteParam(csv, t.Params.TryGetValue(p, out var v) ? v : null);
            }

            foreach (var m in metrics)
            {
                csv.WriteField(t.LastMetrics.TryGetValue(m, out var v) ? v : (double?)null);
            }

            csv.WriteField(string.Join(',', t.Tags));
            csv.WriteField(t.Notes);
            csv.WriteField(t.AgentId);
            csv.WriteField(t.Reason);
            csv.WriteField(t.ClonedFromTrialId is { } from && numbers.TryGetValue(from, out var n) ? n : (int?)null);
            csv.WriteField(t.CreatedAt);
            csv.WriteField(t.StartedAt);
            csv.WriteField(t.EndedAt);
            await csv.EndRecordAsync(ct);
        }

        await csv.FlushAsync(ct);
    }

    /// <summary>The trials as a JSON array of the objects GET /api/studies/{id}/trials answers, without their epochs.</summary>
    public static async Task WriteTrialsJsonAsync(Stream stream, IReadOnlyList<TrialView> trials, JsonSerializerOptions options, CancellationToken ct)
    {
        var pipe = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        await using (var json = new Utf8JsonWriter(pipe))
        {
            json.WriteStartArray();
            foreach (var t in trials)
            {
                JsonSerializer.Serialize(json, TrialDto.From(t, epochs: null), options);
                await FlushWhenFullAsync(json, pipe, ct);
            }

            json.WriteEndArray();
        }

        await pipe.CompleteAsync();
    }

    /// <summary>One row per epoch report of every attempt: trial (its number), attempt, epoch, then one column per metric.</summary>
    public static async Task WriteEpochsCsvAsync(Stream stream, IReadOnlyList<string> metrics, IAsyncEnumerable<EpochExportRow> epochs, CancellationToken ct)
    {
        await using var csv = CsvWriter.Create(stream, CsvOptions, leaveOpen: true);
        csv.WriteHeader([.. EpochColumns.Concat(metrics)]);
        await foreach (var e in epochs.WithCancellation(ct))
        {
            csv.WriteField(e.TrialNumber);
            csv.WriteField(e.Attempt);
            csv.WriteField(e.Epoch);
            foreach (var m in metrics)
            {
                csv.WriteField(e.Metrics.TryGetValue(m, out var v) ? v : (double?)null);
            }

            await csv.EndRecordAsync(ct);
        }

        await csv.FlushAsync(ct);
    }

    /// <summary>A JSON array of {"trial": 3, "attempt": 1, "epoch": 2, "metrics": {"val_loss": 0.41, "loss": "NaN"}}.</summary>
    public static async Task WriteEpochsJsonAsync(Stream stream, IAsyncEnumerable<EpochExportRow> epochs, CancellationToken ct)
    {
        var pipe = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        await using (var json = new Utf8JsonWriter(pipe))
        {
            json.WriteStartArray();
            await foreach (var e in epochs.WithCancellation(ct))
            {
                json.WriteStartObject();
                json.WriteNumber("trial", e.TrialNumber);
                json.WriteNumber("attempt", e.Attempt);
                json.WriteNumber("epoch", e.Epoch);
                json.WriteStartObject("metrics");
                foreach (var (name, value) in e.Metrics)
                {
                    if (double.IsFinite(value))
                    {
                        json.WriteNumber(name, value);
                    }
                    else
                    {
                        json.WriteString(name, Number(value));
                    }
                }

                json.WriteEndObject();
                json.WriteEndObject();
                await FlushWhenFullAsync(json, pipe, ct);
            }

            json.WriteEndArray();
        }

        await pipe.CompleteAsync();
    }

    /// <summary>The searched parameters, then every other one any trial has, in ordinal order.</summary>
    public static IReadOnlyList<string> ParamNames(StudyDefinition definition, IEnumerable<TrialView> trials)
    {
        var searched = definition.Space.Parameters.Select(p => p.Name).ToList();
        return [.. searched.Concat(trials.SelectMany(t => t.Params.Keys).Distinct().Where(k => !searched.Contains(k)).Order(StringComparer.Ordinal))];
    }

    // The invariant culture writes NaN, Infinity and -Infinity, and the shortest text that reads back to the same double.
    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void WriteParam(CsvWriter csv, ParamValue? value)
    {
        switch (value)
        {
            case { Kind: ParamKind.Number } v:
                csv.WriteField(v.Number);
                break;
            case { Kind: ParamKind.Text } v:
                csv.WriteField(v.Text);
                break;
            case { } v:
                csv.WriteField(v.Flag ? "true" : "false");
                break;
            default:
                csv.WriteField((string?)null);
                break;
        }
    }

    // The JSON writer writes into the pipe's memory (no I/O, so JsonSerializer's own flushes never block); the pipe
    // sends what is there to the client once enough has gathered.
    private static async Task FlushWhenFullAsync(Utf8JsonWriter json, PipeWriter pipe, CancellationToken ct)
    {
        if (json.BytesPending + pipe.UnflushedBytes >= FlushBytes)
        {
            json.Flush();
            await pipe.FlushAsync(ct);
        }
    }
}
