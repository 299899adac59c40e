using System.Text.Json;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Studies;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using Microsoft.AspNetCore.Http.HttpResults;

namespace HyperTune.Dashboard.Api;

/// <summary>The REST API for automation: JSON in and out; bad bodies get 400 with errors keyed by field path.</summary>
public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapHyperTuneApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").DisableAntiforgery();
        api.MapPost("/studies", CreateStudy);
        api.MapGet("/studies", async (StudyStore store, CancellationToken ct) =>
            (await store.ListStudiesAsync(ct)).Select(StudyDto.From));
        api.MapGet("/studies/{id:long}", GetStudy);
        api.MapGet("/studies/{id:long}/trials", GetTrials);
        api.MapPost("/trials/{id:long}/stop", async (long id, TrialControl control, CancellationToken ct) =>
            ToHttp(await control.StopAsync(id, ct), accepted: true));
        api.MapPost("/trials/{id:long}/clone", CloneTrial);
        api.MapGet("/agents", async (AgentDirectory agents, CancellationToken ct) => await agents.ListAsync(ct));
        return app;
    }

    private static async Task<IResult> CreateStudy(HttpRequest request, StudyLauncher launcher, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            body = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Invalid([new FieldError("$", $"is not valid JSON: {ex.Message}")]);
        }

        var (id, errors) = await launcher.CreateAsync(body, ct);
        return id is { } studyId
            ? Results.Created($"/api/studies/{studyId}", new { id = studyId })
            : Invalid(errors);
    }

    private static async Task<Results<Ok<StudyDetailDto>, NotFound<ProblemDetailsDto>>> GetStudy(long id, StudyStore store, CancellationToken ct)
    {
        var study = await store.GetStudyAsync(id, ct);
        return study is null
            ? TypedResults.NotFound(new ProblemDetailsDto($"study {id} does not exist"))
            : TypedResults.Ok(new StudyDetailDto(StudyDto.From(study.Summary), JsonDocument.Parse(study.SpecJson).RootElement));
    }

    private static async Task<IResult> GetTrials(long id, StudyStore store, CancellationToken ct)
    {
        if (await store.GetStudyAsync(id, ct) is null)
        {
            return Results.NotFound(new ProblemDetailsDto($"study {id} does not exist"));
        }

        var trials = await store.ListTrialsAsync(id, ct);
        var epochs = (await store.ListEpochsAsync(id, ct)).ToLookup(e => e.TrialId);
        return Results.Ok(trials.Select(t => TrialDto.From(t, epochs[t.Id].Where(e => e.Attempt == t.Attempt))));
    }

    private static async Task<IResult> CloneTrial(long id, HttpRequest request, TrialControl control, CancellationToken ct)
    {
        var overrides = new Dictionary<string, ParamValue>();
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var errors = new List<FieldError>();
            try
            {
                using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new FieldError("$", $"must be an object like {{\"params\": {{\"lr\": 0.01}}}}, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}"));
                }
                else if (doc.RootElement.TryGetProperty("params", out var given))
                {
                    if (given.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new FieldError("params", $"must be an object of parameter values, got {given.ValueKind.ToString().ToLowerInvariant()}"));
                    }
                    else
                    {
                        foreach (var p in given.EnumerateObject())
                        {
                            try
                            {
                                overrides[p.Name] = ParamValue.FromJson(p.Value, $"params.{p.Name}");
                            }
                            catch (SpecException ex)
                            {
                                errors.Add(new FieldError(ex.Path, ex.Problem));
                            }
                        }
                    }
                }
            }
            catch (JsonException ex)
            {
                errors.Add(new FieldError("$", $"is not valid JSON: {ex.Message}"));
            }

            if (errors.Count > 0)
            {
                return Invalid(errors);
            }
        }

        var result = await control.CloneAsync(id, overrides, ct);
        return result.Status == ControlStatus.Done
            ? Results.Created($"/api/trials/{result.Trial!.Id}", TrialDto.From(result.Trial, []))
            : ToHttp(result, accepted: false);
    }

    private static IResult ToHttp(ControlResult result, bool accepted) => result.Status switch
    {
        ControlStatus.Done => accepted ? Results.Accepted(null, TrialDto.From(result.Trial!, [])) : Results.Ok(TrialDto.From(result.Trial!, [])),
        ControlStatus.NotFound => Results.NotFound(new ProblemDetailsDto(result.Message!)),
        ControlStatus.Conflict => Results.Conflict(new ProblemDetailsDto(result.Message!)),
        _ => Invalid(result.Errors ?? []),
    };

    private static IResult Invalid(IEnumerable<FieldError> errors) =>
        Results.ValidationProblem(errors.GroupBy(e => e.Path).ToDictionary(g => g.Key, g => g.Select(e => $"{e.Path} {e.Message}").ToArray()),
            title: "The request has invalid fields");
}

public sealed record ProblemDetailsDto(string Detail);

public sealed record StudyDto(long Id, string Name, string Workload, string State, string Metric, string Direction, int BudgetTrials, int Parallel,
    int TrialCount, int FinishedCount, int RunningCount, double? BestValue, long? BestTrialId, DateTimeOffset CreatedAt)
{
    public static StudyDto From(StudySummary s) => new(s.Id, s.Name, s.Workload, s.State, s.Objective.Metric,
        s.Objective.Direction == Shared.Studies.Direction.Maximize ? "maximize" : "minimize", s.BudgetTrials, s.Parallel, s.TrialCount,
        s.FinishedCount, s.RunningCount, s.BestValue, s.BestTrialId, s.CreatedAt);
}

public sealed record StudyDetailDto(StudyDto Study, JsonElement Spec);

public sealed record EpochDto(int Epoch, IReadOnlyDictionary<string, double> Metrics);

public sealed record TrialDto(long Id, long StudyId, int Number, string State, IReadOnlyDictionary<string, ParamValue> Params, int Attempt,
    string? AgentId, long? ClonedFromTrialId, string? Reason, double? LastValue, double? BestValue,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, IReadOnlyList<EpochDto> Epochs)
{
    public static TrialDto From(TrialView t, IEnumerable<EpochPoint> epochs) => new(t.Id, t.StudyId, t.Number, t.State.ToWire(), t.Params,
        t.Attempt, t.AgentId, t.ClonedFromTrialId, t.Reason, t.LastValue, t.BestValue, t.CreatedAt, t.StartedAt, t.EndedAt,
        [.. epochs.Select(e => new EpochDto(e.Epoch, e.Metrics))]);
}
