using HyperTune.Dashboard.Data;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace HyperTune.Dashboard.Api;

/// <summary>Downloads of a study's trials and epochs (CSV and JSON), streamed as they are read, named study-ID-WHAT.EXT.</summary>
public static partial class ApiEndpoints
{
    private const string CsvType = "text/csv; charset=utf-8";

    private const string JsonType = "application/json; charset=utf-8";

    private static void MapExports(this RouteGroupBuilder api)
    {
        api.MapGet("/studies/{id:long}/trials.csv", (long id, StudyStore store, CancellationToken ct) =>
            ExportAsync(id, store, "trials.csv", CsvType, async (study, stream) =>
                await StudyExport.WriteTrialsCsvAsync(stream, study.Definition, await store.ListTrialsAsync(id, ct), ct), ct));
        api.MapGet("/studies/{id:long}/trials.json", (long id, StudyStore store, IOptions<JsonOptions> json, CancellationToken ct) =>
            ExportAsync(id, store, "trials.json", JsonType, async (_, stream) =>
                await StudyExport.WriteTrialsJsonAsync(stream, await store.ListTrialsAsync(id, ct), json.Value.SerializerOptions, ct), ct));
        api.MapGet("/studies/{id:long}/epochs.csv", (long id, StudyStore store, CancellationToken ct) =>
            ExportAsync(id, store, "epochs.csv", CsvType, async (_, stream) =>
                await StudyExport.WriteEpochsCsvAsync(stream, await store.ListEpochMetricNamesAsync(id, ct), store.StreamEpochsAsync(id, ct), ct), ct));
        api.MapGet("/studies/{id:long}/epochs.json", (long id, StudyStore store, CancellationToken ct) =>
            ExportAsync(id, store, "epochs.json", JsonType, (_, stream) => StudyExport.WriteEpochsJsonAsync(stream, store.StreamEpochsAsync(id, ct), ct), ct));
    }

    private static async Task<IResult> ExportAsync(long id, StudyStore store, string what, string contentType, Func<StudyDetail, Stream, Task> write, CancellationToken ct) =>
        await store.GetStudyAsync(id, ct) is { } study
            ? Results.Stream(stream => write(study, stream), contentType, $"study-{id}-{what}")
            : Results.NotFound(new ProblemDetailsDto($"study {id} does not exist"));
}
