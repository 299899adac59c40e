using System.Text.Json;
using System.Text.Json.Serialization;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Security;
using HyperTune.Dashboard.Studies;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.LearningRate;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using Microsoft.AspNetCore.Http.HttpResults;

namespace HyperTune.Dashboard.Api;

/// <summary>The REST API for automation: JSON in and out; bad bodies get 400 with errors keyed by field path.</summary>
public static partial class ApiEndpoints
{
    public static IEndpointRouteBuilder MapHyperTuneApi(this IEndpointRouteBuilder app)
    {
        // Token-authenticated, so no antiforgery; reading needs the viewer role, changing anything the operator role.
        var api = app.MapGroup("/api").DisableAntiforgery().RequireAuthorization(ApiRoleRequirement.Policy).AnswerAccessDenied();
        api.MapPost("/studies", CreateStudy);
        api.MapGet("/studies", async (StudyStore store, CancellationToken ct) =>
            (await store.ListStudiesAsync(ct)).Select(StudyDto.From));
        api.MapGet("/studies/{id:long}", GetStudy);
        api.MapGet("/studies/{id:long}/trials", GetTrials);
        api.MapPost("/trials/{id:long}/stop", async (long id, TrialControl control, CancellationToken ct) =>
            ToHttp(await control.StopAsync(id, ct), accepted: true));
        api.MapPost("/trials/{id:long}/kill", async (long id, TrialControl control, CancellationToken ct) =>
            ToHttp(await control.KillAsync(id, ct), accepted: true));
        api.MapPost("/trials/{id:long}/pause", async (long id, TrialControl control, CancellationToken ct) =>
            ToHttp(await control.PauseAsync(id, ct), accepted: true));
        api.MapPost("/trials/{id:long}/resume", async (long id, TrialControl control, CancellationToken ct) =>
            ToHttp(await control.ResumeAsync(id, ct), accepted: true));
        api.MapPost("/trials/{id:long}/rerun", async (long id, TrialControl control, CancellationToken ct) =>
            ToHttp(await control.RerunAsync(id, ct), accepted: true));
        api.MapPost("/trials/{id:long}/clone", CloneTrial);
        api.MapPost("/trials/{id:long}/fork", ForkTrial);
        api.MapGet("/trials/{id:long}/log", async (long id, StudyStore store, CancellationToken ct) =>
            await store.GetTrialLogAsync(id, ct) is { } log ? Results.Ok(log) : Results.NotFound(new ProblemDetailsDto($"trial {id} does not exist")));
        api.MapGet("/agents", async (AgentDirectory agents, CancellationToken ct) => await agents.ListAsync(ct));
        api.MapPost("/studies/{id:long}/ask", async (long id, AskTell askTell, CancellationToken ct) =>
            Answer(await askTell.AskAsync(id, ct), t => Results.Ok(new { trialId = t.Trial!.Id, number = t.Trial.Number, @params = t.Trial.Params })));
        api.MapPost("/trials/{id:long}/report", ReportEpoch);
        api.MapGet("/studies/{id:long}/stages", GetStages);
        api.MapGet("/studies/{id:long}/lr-range-test", async (long id, StudyStore store, CancellationToken ct) =>
            await store.LoadLrRangeTestAsync(id, ct) is { } test
                ? Results.Ok(LrRangeTestDto.From(test))
                : Results.NotFound(new ProblemDetailsDto($"study {id} does not exist or has no lr range test")));
        api.MapPost("/studies/{id:long}/stages/{number:int}/start", StartStage);
        api.MapPost("/trials/{id:long}/narrow", Narrow);
        api.MapPost("/trials/{id:long}/tell", Tell);
        api.MapAnnotations();
        api.MapExports();
        return app;
    }

    private static async Task<IResult> CreateStudy(HttpRequest request, StudyLauncher launcher, CancellationToken ct)
    {
        var (body, problem) = await ParseBodyAsync(request, ct);
        if (problem is not null)
        {
            return Invalid([problem]);
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
        return Results.Ok(trials.Select(t => TrialDto.From(t, epochs[t.Id])));
    }

    private static Task<IResult> CloneTrial(long id, HttpRequest request, TrialControl control, CancellationToken ct) =>
        CloneOrForkAsync(id, request, control, fork: false, ct);

    private static Task<IResult> ForkTrial(long id, HttpRequest request, TrialControl control, CancellationToken ct) =>
        CloneOrForkAsync(id, request, control, fork: true, ct);

    /// <summary>Clone: optional body {"params": {...}}. Fork: body {"epoch": k, "params": {...}}, epoch required.</summary>
    private static async Task<IResult> CloneOrForkAsync(long id, HttpRequest request, TrialControl control, bool fork, CancellationToken ct)
    {
        var overrides = new Dictionary<string, ParamValue>();
        int? epoch = null;
        var errors = new List<FieldError>();
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (body, problem) = await ParseBodyAsync(request, ct);
            if (problem is not null)
            {
                errors.Add(problem);
            }
            else if (body.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError("$", $"must be an object like {{\"params\": {{\"lr\": 0.01}}}}, got {body.ValueKind.ToString().ToLowerInvariant()}"));
            }
            else
            {
                ReadParams(body, overrides, errors);
                if (fork && body.TryGetProperty("epoch", out var given))
                {
                    epoch = given.ValueKind == JsonValueKind.Number && given.TryGetInt32(out var k) && k >= 1 ? k : null;
                    if (epoch is null)
                    {
                        errors.Add(new FieldError("epoch", $"must be an integer ≥ 1 (an epoch with a checkpoint), got {given.GetRawText()}"));
                    }
                }
            }
        }

        if (fork && epoch is null && errors.Count == 0)
        {
            errors.Add(new FieldError("epoch", "is required: the epoch whose checkpoint the fork continues from"));
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var result = await control.CloneAsync(id, overrides, epoch, ct);
        return result.Status == ControlStatus.Done
            ? Results.Created($"/api/trials/{result.Trial!.Id}", TrialDto.From(result.Trial, []))
            : ToHttp(result, accepted: false);
    }

    private static void ReadParams(JsonElement body, Dictionary<string, ParamValue> overrides, List<FieldError> errors)
    {
        if (!body.TryGetProperty("params", out var given))
        {
            return;
        }

        if (given.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("params", $"must be an object of parameter values, got {given.ValueKind.ToString().ToLowerInvariant()}"));
            return;
        }

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
                if (MetricValue.FromJson(metric.Value) is { } value)
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
            value = MetricValue.FromJson(v);
            if (value is not { } x || !double.IsFinite(x))
            {
                return Invalid([new FieldError("value", $"must be a finite number, got {v.GetRawText()}")]);
            }
        }

        return Answer(await askTell.TellAsync(id, value, ct), r => Results.Ok(TrialDto.From(r.Trial!, [])));
    }

    private static async Task<(JsonElement Body, FieldError? Problem)> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await ParseBodyAsync(request, ct);
        return problem is not null || body.ValueKind == JsonValueKind.Object
            ? (body, problem)
            : (default, new FieldError("$", $"must be a JSON object, got {body.ValueKind.ToString().ToLowerInvariant()}"));
    }

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

/// <summary>A trial as the API shows it; <see cref="Epochs"/> is left out (null) where a trial goes without its epochs, as in trials.json.</summary>
public sealed record TrialDto(long Id, long StudyId, int Number, string State, IReadOnlyDictionary<string, ParamValue> Params, int Attempt,
    string? AgentId, long? ClonedFromTrialId, string? Reason, double? LastValue, double? BestValue,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, int Stage, string Kind,
    IReadOnlyList<int> CheckpointEpochs, ResumeDto? Resume,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<EpochDto>? Epochs,
    IReadOnlyList<string> Tags, string? Notes, IReadOnlyDictionary<string, double> LastMetrics)
{
    public static TrialDto From(TrialView t, IEnumerable<EpochPoint>? epochs) => new(t.Id, t.StudyId, t.Number, t.State.ToWire(), t.Params,
        t.Attempt, t.AgentId, t.ClonedFromTrialId, t.Reason, t.LastValue, t.BestValue, t.CreatedAt, t.StartedAt, t.EndedAt,
        t.StageIndex + 1, KindName(t.Kind == TrialKind.LrRangeTest), t.CheckpointEpochs,
        t.Resume is { } r ? new ResumeDto(r.TrialId, r.Attempt, r.Epoch) : null,
        epochs is null ? null : [.. epochs.Select(e => new EpochDto(e.Epoch, e.Metrics))],
        t.Tags, t.Notes, t.LastMetrics)
    {
        Command = t.Command is { } c ? new CommandDto(c.Command.ToWire(), c.State.ToWire(), c.Label, c.At, c.Message, c.By) : null,
    };

    /// <summary>The last command a person gave the trial and how far it got; null when none was given.</summary>
    public CommandDto? Command { get; init; }

    /// <summary>"training" or "lr_range_test" (trials), "search" or "lr_range_test" (stages).</summary>
    public static string KindName(bool rangeTest, string otherwise = "training") => rangeTest ? LrRangeTestSpec.Field : otherwise;
}

/// <summary>A person's command on a trial: which ("stop", "kill", "pause", "resume", "rerun", "clone", "fork"), its delivery ("requested", "delivered", "done", "failed"), the chip's words, since when, a sentence, and who gave it.</summary>
public sealed record CommandDto(string Command, string Delivery, string Label, DateTimeOffset At, string? Message, string? By);

/// <summary>The checkpoint a trial continues from: trial, attempt, and the epoch it was saved after.</summary>
public sealed record ResumeDto(long TrialId, int Attempt, int Epoch);

public sealed record StageDto(int Number, string Kind, string State, int Trials, int Sampled, int Ended, string Origin, JsonElement Space)
{
    public static StageDto From(StageView s, StudyDefinition definition) => new(s.Index + 1, TrialDto.KindName(s.Kind == StageKind.LrRangeTest, "search"),
        s.State.ToString().ToLowerInvariant(), s.Trials, s.Sampled, s.Ended, s.Origin, StageControl.SpaceJson(definition, s.Space));
}

/// <summary>An LR range test's curve (smoothed loss null past where the analysis stopped) and its proposal, null when it proposes nothing.</summary>
public sealed record LrRangeTestDto(long TrialId, int Number, string State, IReadOnlyList<LrRangeStepDto> Steps, LrProposalDto? Proposal, string Sentence)
{
    public static LrRangeTestDto From(LrRangeTestView test) => new(test.Trial.Id, test.Trial.Number, test.Trial.State.ToWire(),
        [.. test.Points.Select((p, i) => new LrRangeStepDto(i + 1, p.Lr, p.Loss, double.IsFinite(test.Analysis.Smoothed[i]) ? test.Analysis.Smoothed[i] : null))],
        test.Analysis.Proposal is { } p ? new LrProposalDto(p.Low, p.High, p.LrAtMinLoss, p.SteepestLr) : null,
        test.Analysis.Sentence);
}

public sealed record LrRangeStepDto(int Step, double Lr, double Loss, double? SmoothedLoss);

public sealed record LrProposalDto(double Low, double High, double LrAtMinLoss, double SteepestLr);
