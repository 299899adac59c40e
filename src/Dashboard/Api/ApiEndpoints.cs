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
        api.MapPost("/studies/{id:long}/ask", async (long id, AskTell askTell, CancellationToken ct) =>
            Answer(await askTell.AskAsync(id, ct), t => Results.Ok(new { trialId = t.Trial!.Id, number = t.Trial.Number, @params = t.Trial.Params })));
        api.MapPost("/trials/{id:long}/report", ReportEpoch);
        api.MapGet("/studies/{id:long}/stages", GetStages);
        api.MapPost("/studies/{id:long}/stages/{number:int}/start", StartStage);
        api.MapPost("/trials/{id:long}/narrow", Narrow);
        api.MapPost("/trials/{id:long}/tell", Tell);
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

    private static async Task<IResult> GetStages(long id, StudyStore store, CancellationToken ct)
    {
        if (await store.GetStudyAsync(id, ct) is not { } study)
        {
            return Results.NotFound(new ProblemDetailsDto($"study {id} does not exist"));
        }

        return Results.Ok((await store.ListStagesAsync(id, ct)).Select(s => StageDto.From(s, study.Definition)));
    }

    // Stages are numbered from 1 in the API and on the page, like trials.
    private static async Task<IResult> StartStage(long id, int number, HttpRequest request, StageControl stages, StudyStore store, CancellationToken ct)
    {
        JsonElement? space = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null)
            {
                return Invalid([problem]);
            }

            if (body.TryGetProperty("space", out var given))
            {
                space = given;
            }
        }

        var result = await stages.StartAsync(id, number - 1, space, ct);
        if (result.Errors is { Count: > 0 } errors)
        {
            return Invalid(errors);
        }

        var study = await store.GetStudyAsync(id, ct);
        return result.Problem is null ? Results.Ok(StageDto.From(result.Stage!, study!.Definition))
            : result.NotFound ? Results.NotFound(new ProblemDetailsDto(result.Problem))
            : Results.Conflict(new ProblemDetailsDto(result.Problem));
    }

    private static async Task<IResult> Narrow(long id, HttpRequest request, StageControl stages, StudyStore store, CancellationToken ct)
    {
        var trials = StageControl.DefaultNarrowTrials;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null)
            {
                return Invalid([problem]);
            }

            if (body.TryGetProperty("trials", out var t))
            {
                if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt32(out trials))
                {
                    return Invalid([new FieldError("trials", $"must be an integer, got {t.GetRawText()}")]);
                }
            }
        }

        var result = await stages.NarrowAroundAsync(id, trials, ct);
        if (result.Errors is { Count: > 0 } errors)
        {
            return Invalid(errors);
        }

        if (result.NotFound)
        {
            return Results.NotFound(new ProblemDetailsDto(result.Problem!));
        }

        var trial = await store.GetTrialAsync(id, ct);
        var study = await store.GetStudyAsync(trial!.StudyId, ct);
        return Results.Created($"/api/studies/{study!.Summary.Id}/stages", StageDto.From(result.Stage!, study.Definition));
    }

    private static async Task<IResult> ReportEpoch(long id, HttpRequest request, AskTell askTell, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var (body, problem) = await ReadObjectAsync(request, ct);
        if (problem is not null)
        {
            return Invalid([problem]);
        }

        var epoch = body.TryGetProperty("epoch", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n) && n >= 1 ? n : (int?)null;
        if (epoch is null)
        {
            errors.Add(new FieldError("epoch", $"must be an integer >= 1, got {(e.ValueKind == JsonValueKind.Undefined ? "nothing" : e.GetRawText())}"));
        }

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!body.TryGetProperty("metrics", out var m) || m.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("metrics", $"must be an object of metric name to number, got {(m.ValueKind == JsonValueKind.Undefined ? "nothing" : m.GetRawText())}"));
        }
        else
        {
            foreach (var metric in m.EnumerateObject())
            {
                if (ReadMetric(metric.Value) is { } value)
                {
                    metrics[metric.Name] = value;
                }
                else
                {
                    errors.Add(new FieldError($"metrics.{metric.Name}", $"must be a number, \"NaN\", \"Infinity\" or \"-Infinity\", got {metric.Value.GetRawText()}"));
                }
            }
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        return Answer(await askTell.ReportAsync(id, epoch!.Value, metrics, ct), r => Results.Ok(new
        {
            prune = r.Decision?.Prune ?? false,
            reason = r.Decision?.Reason,
            state = r.Trial?.State.ToWire(),
        }));
    }

    private static async Task<IResult> Tell(long id, HttpRequest request, AskTell askTell, CancellationToken ct)
    {
        var (body, problem) = await ReadObjectAsync(request, ct);
        if (problem is not null)
        {
            return Invalid([problem]);
        }

        var hasValue = body.TryGetProperty("value", out var v);
        var hasState = body.TryGetProperty("state", out var state);
        if (hasValue == hasState)
        {
            return Invalid([new FieldError("$", "must hold either \"value\" (a number) or \"state\": \"failed\"")]);
        }

        if (hasState && !(state.ValueKind == JsonValueKind.String && state.GetString() == "failed"))
        {
            return Invalid([new FieldError("state", $"must be \"failed\", got {state.GetRawText()}")]);
        }

        double? value = null;
        if (hasValue)
        {
            value = ReadMetric(v);
            if (value is not { } x || !double.IsFinite(x))
            {
                return Invalid([new FieldError("value", $"must be a finite number, got {v.GetRawText()}")]);
            }
        }

        return Answer(await askTell.TellAsync(id, value, ct), r => Results.Ok(TrialDto.From(r.Trial!, [])));
    }

    private static async Task<(JsonElement Body, FieldError? Problem)> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? (doc.RootElement.Clone(), null)
                : (default, new FieldError("$", $"must be a JSON object, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}"));
        }
        catch (JsonException ex)
        {
            return (default, new FieldError("$", $"is not valid JSON: {ex.Message}"));
        }
    }

    private static double? ReadMetric(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String => value.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => null,
        },
        _ => null,
    };

    private static IResult Answer(AskTellResult result, Func<AskTellResult, IResult> ok) =>
        result.Problem is null ? ok(result)
        : result.NotFound ? Results.NotFound(new ProblemDetailsDto(result.Problem))
        : Results.Conflict(new ProblemDetailsDto(result.Problem));

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
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, int Stage, IReadOnlyList<EpochDto> Epochs)
{
    public static TrialDto From(TrialView t, IEnumerable<EpochPoint> epochs) => new(t.Id, t.StudyId, t.Number, t.State.ToWire(), t.Params,
        t.Attempt, t.AgentId, t.ClonedFromTrialId, t.Reason, t.LastValue, t.BestValue, t.CreatedAt, t.StartedAt, t.EndedAt,
        t.StageIndex + 1, [.. epochs.Select(e => new EpochDto(e.Epoch, e.Metrics))]);
}

public sealed record StageDto(int Number, string State, int Trials, int Sampled, int Ended, string Origin, JsonElement Space)
{
    public static StageDto From(StageView s, StudyDefinition definition) => new(s.Index + 1, s.State.ToString().ToLowerInvariant(),
        s.Trials, s.Sampled, s.Ended, s.Origin, StageControl.SpaceJson(definition, s.Space));
}
