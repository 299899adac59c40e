using System.Text.Json;
using System.Text.Json.Nodes;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Dashboard.Security;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Dashboard.Studies;

/// <summary>The outcome of a stage request: the stage, or why not.</summary>
public sealed record StageResult(StageView? Stage, string? Problem = null, bool NotFound = false, IReadOnlyList<FieldError>? Errors = null);

/// <summary>Starts proposed stages (as proposed or with a person's edits) and narrows a study around one trial.</summary>
public sealed class StageControl(StudyStore store, StudyEvents events, SchedulerSignal scheduler, UserAccess access)
{
    public const int DefaultNarrowTrials = 10;

    /// <summary>Starts stage <paramref name="index"/>; <paramref name="space"/>, when given, replaces its proposed space (same JSON as a spec's "space").</summary>
    public async Task<StageResult> StartAsync(long studyId, int index, JsonElement? space, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "start stages", ct);
        var stages = await store.ListStagesAsync(studyId, ct);
        var stage = stages.FirstOrDefault(s => s.Index == index);
        if (stage is null)
        {
            return new StageResult(null, $"study {studyId} has no stage {index + 1}", NotFound: true);
        }

        if (stage.State != StageState.Proposed)
        {
            return new StageResult(stage, $"stage {index + 1} of study {studyId} is already running");
        }

        SearchSpace? edited = null;
        if (space is { } given)
        {
            var study = (await store.GetStudyAsync(studyId, ct))!;
            var spec = JsonNode.Parse(study.Definition.WithSpace(stage.Space).ToJson())!.AsObject();
            spec["space"] = JsonNode.Parse(given.GetRawText());
            var parsed = StudySpecParser.Parse(spec.ToJsonString(), study.Definition.Sampler.Seed);
            if (parsed.Definition is null)
            {
                return new StageResult(stage, "the edited space is not valid", Errors: parsed.Errors);
            }

            edited = parsed.Definition.Space;
        }

        var started = await store.StartStageAsync(studyId, index, edited, ct);
        Changed(studyId);
        return new StageResult(started);
    }

    /// <summary>Proposes a stage of <paramref name="trials"/> trials centred on the trial's values, to start once edited.</summary>
    public async Task<StageResult> NarrowAroundAsync(long trialId, int trials, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "narrow studies", ct);
        if (trials is < 1 or > StudySpecParser.MaxTrials)
        {
            return new StageResult(null, null, Errors: [new FieldError("trials", $"must be an integer between 1 and {StudySpecParser.MaxTrials}, got {trials}")]);
        }

        var stage = await store.NarrowAroundAsync(trialId, trials, ct);
        if (stage is null)
        {
            return new StageResult(null, $"trial {trialId} does not exist", NotFound: true);
        }

        var trial = await store.GetTrialAsync(trialId, ct);
        Changed(trial!.StudyId);
        return new StageResult(stage);
    }

    /// <summary>The stage's space as the JSON a spec's "space" holds, for showing and editing.</summary>
    public static JsonElement SpaceJson(StudyDefinition definition, SearchSpace space) =>
        JsonDocument.Parse(definition.WithSpace(space).ToJson()).RootElement.GetProperty("space").Clone();

    private void Changed(long studyId)
    {
        events.Publish(new StagesChanged(studyId));
        scheduler.Poke();
    }
}
