using System.Security.Cryptography;
using System.Text.Json;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Dashboard.Security;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Dashboard.Studies;

/// <summary>Creates studies from a JSON spec, the same way for the REST API and the new-study form.</summary>
public sealed class StudyLauncher(StudyStore store, StudyEvents events, SchedulerSignal scheduler, UserAccess access, ILogger<StudyLauncher> logger)
{
    public async Task<(long? StudyId, IReadOnlyList<FieldError> Errors)> CreateAsync(JsonElement spec, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Operator, "create studies", ct);
        // A study without a seed gets one now, stored with it, so it can be reproduced.
        var parsed = StudySpecParser.Parse(spec, RandomNumberGenerator.GetInt32(int.MaxValue));
        if (parsed.Definition is not { } definition)
        {
            return (null, parsed.Errors);
        }

        var id = await store.CreateStudyAsync(definition, ct);
        logger.LogInformation("Study {StudyId} \"{Name}\" created: {Workload}, {Trials} trials, {Parallel} in parallel, {Sampler} seed {Seed}",
            id, definition.Name, definition.Workload, definition.Budget.Trials, definition.Budget.Parallel, definition.Sampler.Type, definition.Sampler.Seed);
        events.Publish(new StudyCreated(id));
        scheduler.Poke();
        return (id, []);
    }

    public async Task<(long? StudyId, IReadOnlyList<FieldError> Errors)> CreateAsync(string json, CancellationToken ct = default)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return await CreateAsync(doc.RootElement, ct);
        }
        catch (JsonException ex)
        {
            return (null, [new FieldError("$", $"is not valid JSON: {ex.Message}")]);
        }
    }
}
