using System.Text.Json;
using HyperTune.Shared.Pruners;
using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>What became of an epoch report.</summary>
public enum IngestOutcome
{
    Stored,
    Duplicate,
    UnknownTrial,
    StaleAttempt,
}

/// <summary>A trial the scheduler has just handed to an agent slot.</summary>
public sealed record ClaimedTrial(TrialView Trial, string Workload);

/// <summary>What a claim did: the trial handed out, if any, and the studies that got a new stage on the way.</summary>
public sealed record ClaimOutcome(ClaimedTrial? Claimed, IReadOnlyList<long> StagesAdded);

/// <summary>All durable state of studies and trials. One context per operation; hands out snapshots only.</summary>
public sealed class StudyStore(IDbContextFactory<HyperTuneDbContext> contexts, TimeProvider clock)
{
    /// <summary>A study with this workload is driven only through the ask/tell API, never sent to an agent.</summary>
    public const string ExternalWorkload = "external";

    public async Task<long> CreateStudyAsync(StudyDefinition definition, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = new StudyRow
        {
            Name = definition.Name,
            Workload = definition.Workload,
            SpecJson = definition.ToJson(),
            ObjectiveMetric = definition.Objective.Metric,
            Maximize = definition.Objective.Direction == Direction.Maximize,
            BudgetTrials = definition.Budget.Trials,
            Parallel = definition.Budget.Parallel,
            CreatedAt = clock.GetUtcNow(),
        };
        db.Studies.Add(row);
        await db.SaveChangesAsync(ct);
        db.Stages.Add(new StageRow
        {
            StudyId = row.Id,
            Index = 0,
            SpecJson = row.SpecJson,
            Trials = definition.Sampler.Stages?[0] ?? definition.Budget.Trials,
            State = StageState.Running,
            Origin = "spec",
            CreatedAt = row.CreatedAt,
            StartedAt = row.CreatedAt,
        });
        await db.SaveChangesAsync(ct);
        return row.Id;
    }

    public async Task<IReadOnlyList<StudySummary>> ListStudiesAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var studies = await db.Studies.AsNoTracking().OrderByDescending(s => s.Id).ToListAsync(ct);
        var trials = await db.Trials.AsNoTracking()
            .Select(t => new TrialStat(t.StudyId, t.Id, t.State, t.BestValue))
            .ToListAsync(ct);
        var waiting = (await db.Stages.Where(s => s.State == StageState.Proposed).Select(s => s.StudyId).ToListAsync(ct)).ToHashSet();
        var byStudy = trials.ToLookup(t => t.StudyId);
        return [.. studies.Select(s => Summarise(s, byStudy[s.Id], waiting.Contains(s.Id)))];
    }

    public async Task<StudyDetail?> GetStudyAsync(long id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var study = await db.Studies.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (study is null)
        {
            return null;
        }

        var trials = await db.Trials.AsNoTracking().Where(t => t.StudyId == id)
            .Select(t => new TrialStat(t.StudyId, t.Id, t.State, t.BestValue)).ToListAsync(ct);
        var waiting = await db.Stages.AnyAsync(s => s.StudyId == id && s.State == StageState.Proposed, ct);
        return new StudyDetail(Summarise(study, trials, waiting), Definition(study), study.SpecJson);
    }

    public async Task<IReadOnlyList<TrialView>> ListTrialsAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.Trials.AsNoTracking().Where(t => t.StudyId == studyId).OrderBy(t => t.Number).ToListAsync(ct);
        return [.. rows.Select(ToView)];
    }

    public async Task<TrialView?> GetTrialAsync(long trialId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.Trials.AsNoTracking().FirstOrDefaultAsync(t => t.Id == trialId, ct);
        return row is null ? null : ToView(row);
    }

    /// <summary>Every stored epoch of a study's trials, in trial then epoch order.</summary>
    public async Task<IReadOnlyList<EpochPoint>> ListEpochsAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var reports = await db.EpochReports.AsNoTracking()
            .Where(r => db.Trials.Any(t => t.Id == r.TrialId && t.StudyId == studyId))
            .OrderBy(r => r.TrialId).ThenBy(r => r.Attempt).ThenBy(r => r.Epoch).ThenBy(r => r.Seq)
            .Select(r => new { r.TrialId, r.Attempt, r.Epoch, Metrics = r.Metrics.Select(m => new { m.Name, m.Kind, m.Value }).ToList() })
            .ToListAsync(ct);
        return [.. reports.Select(r => new EpochPoint(r.TrialId, r.Attempt, r.Epoch,
            r.Metrics.ToDictionary(m => m.Name, m => MetricValue.Join(m.Kind, m.Value))))];
    }

    public async Task<IReadOnlyList<TrialView>> ListTrialsInStateAsync(TrialState state, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.Trials.AsNoTracking().Where(t => t.State == state).OrderBy(t => t.Id).ToListAsync(ct);
        return [.. rows.Select(ToView)];
    }

    /// <summary>
    /// Picks the next trial for a free slot: a queued trial (e.g. a clone) first, else a new one from the
    /// study's sampler; oldest study first; never more than the study's parallel limit running.
    /// </summary>
    public async Task<ClaimOutcome> ClaimNextTrialAsync(IReadOnlyCollection<string> workloads, string agentId, int slot, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var stagesAdded = new List<long>();
        var candidates = await db.Studies
            .Where(s => workloads.Contains(s.Workload) && s.Workload != ExternalWorkload)
            .Where(s => s.SampledCount < s.BudgetTrials || s.Trials.Any(t => t.State == TrialState.Queued))
            .Where(s => s.Trials.Count(t => t.State == TrialState.Running) < s.Parallel)
            .OrderBy(s => s.Id)
            .ToListAsync(ct);
        foreach (var study in candidates)
        {
            var trial = await db.Trials.Where(t => t.StudyId == study.Id && t.State == TrialState.Queued)
                .OrderBy(t => t.Number).FirstOrDefaultAsync(ct);
            trial ??= await SampleTrialAsync(db, study, ct);
            if (db.ChangeTracker.Entries<StageRow>().Any(e => e.State == EntityState.Added))
            {
                stagesAdded.Add(study.Id);
            }

            if (trial is null)
            {
                // The study waits: its stage is spent and still running, or a proposed stage waits for a person.
                await db.SaveChangesAsync(ct);
                continue;
            }

            trial.State = TrialState.Running;
            trial.Attempt++;
            trial.AgentId = agentId;
            trial.Slot = slot;
            trial.StartedAt = clock.GetUtcNow();
            trial.Reason = null;
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return new ClaimOutcome(new ClaimedTrial(ToView(trial), study.Workload), stagesAdded);
        }

        // Keep what waiting studies decided (a proposed next stage).
        await tx.CommitAsync(ct);
        return new ClaimOutcome(null, stagesAdded);
    }

    /// <summary>Ask: a new running trial from the study's sampler for an external loop; null when the budget is spent or the next stage waits.</summary>
    public async Task<TrialView?> AskTrialAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var study = await db.Studies.FirstAsync(s => s.Id == studyId, ct);
        if (study.SampledCount >= study.BudgetTrials)
        {
            return null;
        }

        var trial = await SampleTrialAsync(db, study, ct);
        if (trial is null)
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return null;
        }

        trial.State = TrialState.Running;
        trial.Attempt = 1;
        trial.StartedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return ToView(trial);
    }

    /// <summary>Tell: ends a running trial with its objective value (completed) or as failed.</summary>
    public async Task<TrialView?> TellAsync(long trialId, double? value, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId && t.State == TrialState.Running, ct);
        if (trial is null)
        {
            return null;
        }

        trial.State = value is null ? TrialState.Failed : TrialState.Completed;
        trial.Reason = value is null ? "told failed" : null;
        if (value is { } v)
        {
            trial.LastValue = v;
            trial.BestValue = v;
        }

        trial.EndedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>
    /// A new trial from the study's sampler and its current stage's space, given every ended trial so far (the caller
    /// saves it); null when the stage is spent (the next one is then proposed once its trials have ended) or waits.
    /// </summary>
    private async Task<TrialRow?> SampleTrialAsync(HyperTuneDbContext db, StudyRow study, CancellationToken ct)
    {
        var stage = await db.Stages.Where(s => s.StudyId == study.Id).OrderByDescending(s => s.Index).FirstAsync(ct);
        if (stage.State == StageState.Proposed)
        {
            return null;
        }

        var definition = Definition(study);
        var stageDefinition = definition.WithSpace(ParseSpec(stage.SpecJson, $"stage {stage.Index} of study {study.Id}").Space);
        var ended = await db.Trials.AsNoTracking()
            .Where(t => t.StudyId == study.Id && t.ClonedFromTrialId == null
                && (t.State == TrialState.Completed || t.State == TrialState.Stopped || t.State == TrialState.Pruned || t.State == TrialState.Failed))
            .OrderBy(t => t.Number)
            .Select(t => new { t.ParamsJson, t.BestValue, t.State })
            .ToListAsync(ct);
        var history = ended
            .Select(t => new TrialResult(stageDefinition.Space.Completed(ParseParams(t.ParamsJson)), t.State == TrialState.Failed ? null : t.BestValue))
            .ToList();

        var sampledInStage = await db.Trials.CountAsync(t => t.StudyId == study.Id && t.StageIndex == stage.Index && t.ClonedFromTrialId == null, ct);
        if (sampledInStage >= stage.Trials)
        {
            var next = await ProposeNextStageAsync(db, study, stage, stageDefinition, history, ct);
            if (next?.State != StageState.Running)
            {
                return null;
            }

            // An automatic stage starts at once.
            await db.SaveChangesAsync(ct);
            return await SampleTrialAsync(db, study, ct);
        }

        var proposal = Algorithms.CreateSampler(definition.Sampler)
            .Propose(new SamplerContext(stageDefinition.Space, study.SampledCount, history, definition.Objective.Direction));
        study.SampledCount++;
        var trial = NewTrial(study.Id, await NextNumberAsync(db, study.Id, ct), Merge(definition.Fixed, stageDefinition.Space.Active(proposal)), clonedFrom: null);
        trial.StageIndex = stage.Index;
        db.Trials.Add(trial);
        return trial;
    }

    /// <summary>Once every trial of a spent stage has ended, the next planned coarse-to-fine stage zooms around the best.</summary>
    private async Task<StageRow?> ProposeNextStageAsync(HyperTuneDbContext db, StudyRow study, StageRow stage, StudyDefinition stageDefinition, List<TrialResult> history, CancellationToken ct)
    {
        var plan = stageDefinition.Sampler.Stages;
        var stillRunning = await db.Trials.AnyAsync(t => t.StudyId == study.Id && t.StageIndex == stage.Index
            && (t.State == TrialState.Queued || t.State == TrialState.Running), ct);
        if (plan is null || stage.Index + 1 >= plan.Count || study.SampledCount >= study.BudgetTrials || stillRunning)
        {
            return null;
        }

        var zoomed = CoarseToFine.Zoom(stageDefinition.Space, history, stageDefinition.Objective.Direction);
        var auto = stageDefinition.Sampler.AutoStages;
        var next = new StageRow
        {
            StudyId = study.Id,
            Index = stage.Index + 1,
            SpecJson = stageDefinition.WithSpace(zoomed).ToJson(),
            Trials = plan[stage.Index + 1],
            State = auto ? StageState.Running : StageState.Proposed,
            Origin = $"zoom around the best of stage {stage.Index + 1}",
            CreatedAt = clock.GetUtcNow(),
            StartedAt = auto ? clock.GetUtcNow() : null,
        };
        db.Stages.Add(next);
        return next;
    }

    public async Task<IReadOnlyList<StageView>> ListStagesAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stages = await db.Stages.AsNoTracking().Where(s => s.StudyId == studyId).OrderBy(s => s.Index).ToListAsync(ct);
        var counts = await db.Trials.AsNoTracking().Where(t => t.StudyId == studyId && t.ClonedFromTrialId == null)
            .GroupBy(t => t.StageIndex)
            .Select(g => new { Stage = g.Key, Sampled = g.Count(), Ended = g.Count(t => t.State != TrialState.Queued && t.State != TrialState.Running) })
            .ToListAsync(ct);
        return [.. stages.Select(s =>
        {
            var c = counts.FirstOrDefault(x => x.Stage == s.Index);
            return new StageView(s.Index, s.State, s.Trials, c?.Sampled ?? 0, c?.Ended ?? 0, s.Origin,
                ParseSpec(s.SpecJson, $"stage {s.Index}").Space, s.CreatedAt, s.StartedAt);
        })];
    }

    /// <summary>Starts a proposed stage, with the space a person edited (already validated) or as proposed.</summary>
    public async Task<StageView?> StartStageAsync(long studyId, int index, SearchSpace? edited, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stage = await db.Stages.FirstOrDefaultAsync(s => s.StudyId == studyId && s.Index == index && s.State == StageState.Proposed, ct);
        if (stage is null)
        {
            return null;
        }

        if (edited is not null)
        {
            stage.SpecJson = ParseSpec(stage.SpecJson, $"stage {index}").WithSpace(edited).ToJson();
            stage.Origin += ", edited";
        }

        stage.State = StageState.Running;
        stage.StartedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return (await ListStagesAsync(studyId, ct)).First(s => s.Index == index);
    }

    /// <summary>
    /// "Narrow and relaunch from this trial": the rest of the study's plan is replaced by one proposed stage of
    /// <paramref name="trials"/> trials centred on the trial's values; a person starts it (after editing, if wanted).
    /// </summary>
    public async Task<StageView?> NarrowAroundAsync(long trialId, int trials, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var trial = await db.Trials.AsNoTracking().FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null)
        {
            return null;
        }

        var study = await db.Studies.FirstAsync(s => s.Id == trial.StudyId, ct);
        var stages = await db.Stages.Where(s => s.StudyId == study.Id).OrderBy(s => s.Index).ToListAsync(ct);
        var current = stages[^1];

        // A proposal nobody started yet gives way to this one.
        if (current.State == StageState.Proposed)
        {
            db.Stages.Remove(current);
            current = stages[^2];
        }

        var sampledInCurrent = await db.Trials.CountAsync(t => t.StudyId == study.Id && t.StageIndex == current.Index && t.ClonedFromTrialId == null, ct);
        current.Trials = sampledInCurrent;
        var space = ParseSpec(current.SpecJson, $"stage {current.Index}");
        var narrowed = CoarseToFine.Around(space.Space, ParseParams(trial.ParamsJson));
        var stage = new StageRow
        {
            StudyId = study.Id,
            Index = current.Index + 1,
            SpecJson = space.WithSpace(narrowed).ToJson(),
            Trials = trials,
            State = StageState.Proposed,
            Origin = $"narrowed around trial #{trial.Number}",
            CreatedAt = clock.GetUtcNow(),
        };
        db.Stages.Add(stage);
        study.BudgetTrials = study.SampledCount + trials;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (await ListStagesAsync(study.Id, ct)).First(s => s.Index == stage.Index);
    }

    /// <summary>Stores one epoch report once: a replay of the same (trial, attempt, seq) is a duplicate.</summary>
    public async Task<(IngestOutcome Outcome, TrialView? Trial, EpochPoint? Point)> RecordEpochAsync(
        long trialId, int attempt, long seq, int epoch, IReadOnlyDictionary<string, double> metrics, DateTimeOffset? endedAt, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var trial = await db.Trials.Include(t => t.Study).FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null)
        {
            return (IngestOutcome.UnknownTrial, null, null);
        }

        if (attempt != trial.Attempt)
        {
            return (IngestOutcome.StaleAttempt, ToView(trial), null);
        }

        if (await db.EpochReports.AnyAsync(r => r.TrialId == trialId && r.Attempt == attempt && r.Seq == seq, ct))
        {
            return (IngestOutcome.Duplicate, ToView(trial), null);
        }

        var report = new EpochReportRow
        {
            TrialId = trialId,
            Attempt = attempt,
            Seq = seq,
            Epoch = epoch,
            EndedAt = endedAt,
            ReceivedAt = clock.GetUtcNow(),
        };
        foreach (var (name, value) in metrics)
        {
            var (kind, finite) = MetricValue.Split(value);
            report.Metrics.Add(new EpochMetricRow { Name = name, Kind = kind, Value = finite });
        }

        db.EpochReports.Add(report);
        trial.EpochCount = Math.Max(trial.EpochCount, epoch);
        if (metrics.TryGetValue(trial.Study!.ObjectiveMetric, out var objectiveValue))
        {
            trial.LastValue = double.IsFinite(objectiveValue) ? objectiveValue : null;
            var objective = new Objective(trial.Study.ObjectiveMetric, trial.Study.Maximize ? Direction.Maximize : Direction.Minimize);
            if (double.IsFinite(objectiveValue) && objective.IsBetter(objectiveValue, trial.BestValue))
            {
                trial.BestValue = objectiveValue;
            }
        }

        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is SqliteException { SqliteErrorCode: 19 })
        {
            // Another connection stored the same (trial, attempt, seq) between our check and our insert.
            return (IngestOutcome.Duplicate, ToView(trial), null);
        }

        return (IngestOutcome.Stored, ToView(trial), new EpochPoint(trialId, attempt, epoch, metrics));
    }

    /// <summary>Ends a trial's attempt; a finish for an attempt that is no longer current changes nothing.</summary>
    public async Task<TrialView?> FinishTrialAsync(long trialId, int attempt, TrialState outcome, string? reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || trial.Attempt != attempt || trial.State.IsFinal())
        {
            return trial is null ? null : ToView(trial);
        }

        // A stop the pruner asked for ends the trial as pruned, with the pruner's sentence.
        var pruned = outcome == TrialState.Stopped && trial.PruneReason is not null;
        trial.State = pruned ? TrialState.Pruned : outcome;
        trial.Reason = pruned ? trial.PruneReason : string.IsNullOrWhiteSpace(reason) ? null : reason;
        trial.EndedAt = clock.GetUtcNow();
        trial.Slot = null;
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>Marks trials failed (e.g. their agent vanished), unless they ended meanwhile.</summary>
    public async Task<IReadOnlyList<TrialView>> FailRunningAsync(IReadOnlyCollection<long> trialIds, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.Trials.Where(t => trialIds.Contains(t.Id) && t.State == TrialState.Running).ToListAsync(ct);
        foreach (var trial in rows)
        {
            trial.State = TrialState.Failed;
            trial.Reason = reason;
            trial.EndedAt = clock.GetUtcNow();
            trial.Slot = null;
        }

        await db.SaveChangesAsync(ct);
        return [.. rows.Select(ToView)];
    }

    /// <summary>Stops a trial that has not started yet; returns null when it is not queued.</summary>
    public async Task<TrialView?> StopQueuedAsync(long trialId, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId && t.State == TrialState.Queued, ct);
        if (trial is null)
        {
            return null;
        }

        trial.State = TrialState.Stopped;
        trial.Reason = reason;
        trial.EndedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>Records the pruner's decision; returns false when the trial already ended or was already pruned.</summary>
    public async Task<bool> MarkPruneAsync(long trialId, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var updated = await db.Trials
            .Where(t => t.Id == trialId && t.PruneReason == null && (t.State == TrialState.Running || t.State == TrialState.Queued))
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.PruneReason, reason).SetProperty(t => t.StopRequestedAt, clock.GetUtcNow()), ct);
        return updated == 1;
    }

    /// <summary>Every trial's objective value per epoch (current attempt), for the pruner.</summary>
    public async Task<IReadOnlyList<TrialCurve>> LoadCurvesAsync(long studyId, string metric, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trials = await db.Trials.AsNoTracking().Where(t => t.StudyId == studyId)
            .Select(t => new { t.Id, t.Attempt, t.State }).ToListAsync(ct);
        var points = await db.EpochMetrics.AsNoTracking()
            .Where(m => m.Name == metric)
            .Join(db.EpochReports.Where(r => r.Epoch >= 1 && db.Trials.Any(t => t.Id == r.TrialId && t.StudyId == studyId && t.Attempt == r.Attempt)),
                m => m.ReportId, r => r.Id, (m, r) => new { r.TrialId, r.Epoch, m.Kind, m.Value })
            .ToListAsync(ct);
        var byTrial = points.ToLookup(p => p.TrialId);
        return [.. trials.Select(t =>
        {
            var epochs = byTrial[t.Id].ToList();
            var values = new double[epochs.Count == 0 ? 0 : epochs.Max(e => e.Epoch)];
            Array.Fill(values, double.NaN);
            foreach (var e in epochs)
            {
                values[e.Epoch - 1] = MetricValue.Join(e.Kind, e.Value);
            }

            return new TrialCurve(t.Id, values, t.State.IsFinal());
        })];
    }

    public async Task<TrialView?> MarkStopRequestedAsync(long trialId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null)
        {
            return null;
        }

        trial.StopRequestedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ToView(trial);
    }

    /// <summary>Queues a new trial of the same study with the source's parameters and the given overrides.</summary>
    public async Task<TrialView?> CloneTrialAsync(long sourceTrialId, IReadOnlyDictionary<string, ParamValue> overrides, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var source = await db.Trials.AsNoTracking().FirstOrDefaultAsync(t => t.Id == sourceTrialId, ct);
        if (source is null)
        {
            return null;
        }

        var parameters = new Dictionary<string, ParamValue>(ParseParams(source.ParamsJson));
        foreach (var (name, value) in overrides)
        {
            parameters[name] = value;
        }

        var clone = NewTrial(source.StudyId, await NextNumberAsync(db, source.StudyId, ct), parameters, source.Id);
        clone.StageIndex = source.StageIndex;
        db.Trials.Add(clone);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return ToView(clone);
    }

    public async Task UpsertAgentAsync(AgentRow agent, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.Agents.FirstOrDefaultAsync(a => a.Id == agent.Id, ct);
        if (row is null)
        {
            db.Agents.Add(agent);
        }
        else
        {
            row.HostName = agent.HostName;
            row.Version = agent.Version;
            row.Slots = agent.Slots;
            row.GpusJson = agent.GpusJson;
            row.WorkloadsJson = agent.WorkloadsJson;
            row.LastSeenAt = agent.LastSeenAt;
        }

        await db.SaveChangesAsync(ct);
    }

    public async Task TouchAgentAsync(string agentId, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db.Agents.Where(a => a.Id == agentId).ExecuteUpdateAsync(u => u.SetProperty(a => a.LastSeenAt, at), ct);
    }

    public async Task<IReadOnlyList<AgentRow>> ListAgentRowsAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Agents.AsNoTracking().OrderBy(a => a.Id).ToListAsync(ct);
    }

    public static StudyDefinition Definition(StudyRow study) => ParseSpec(study.SpecJson, $"study {study.Id}");

    private static StudyDefinition ParseSpec(string json, string owner)
    {
        var parsed = StudySpecParser.Parse(json, fallbackSeed: 0);
        return parsed.Definition ?? throw new InvalidOperationException(
            $"{owner} has a stored spec that no longer parses: {string.Join("; ", parsed.Errors.Select(e => $"{e.Path} {e.Message}"))}");
    }

    public static IReadOnlyDictionary<string, ParamValue> ParseParams(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, ParamValue>>(json) ?? [];

    private static Dictionary<string, ParamValue> Merge(IReadOnlyDictionary<string, ParamValue> fixedValues, IReadOnlyDictionary<string, ParamValue> proposal)
    {
        var merged = new Dictionary<string, ParamValue>(proposal);
        foreach (var (key, value) in fixedValues)
        {
            merged[key] = value;
        }

        return merged;
    }

    private TrialRow NewTrial(long studyId, int number, IReadOnlyDictionary<string, ParamValue> parameters, long? clonedFrom) => new()
    {
        StudyId = studyId,
        Number = number,
        State = TrialState.Queued,
        ParamsJson = JsonSerializer.Serialize(parameters),
        ClonedFromTrialId = clonedFrom,
        CreatedAt = clock.GetUtcNow(),
    };

    private static async Task<int> NextNumberAsync(HyperTuneDbContext db, long studyId, CancellationToken ct) =>
        (await db.Trials.Where(t => t.StudyId == studyId).MaxAsync(t => (int?)t.Number, ct) ?? 0) + 1;

    private static StudySummary Summarise(StudyRow s, IEnumerable<TrialStat> trials, bool waitingForPerson)
    {
        var objective = new Objective(s.ObjectiveMetric, s.Maximize ? Direction.Maximize : Direction.Minimize);
        return new StudySummary(s.Id, s.Name, s.Workload, "", objective, s.BudgetTrials, s.Parallel, 0, 0, 0, null, null, s.CreatedAt)
            .Recount([.. trials.Select(t => new TrialTally(t.TrialId, t.State, t.BestValue))], s.SampledCount, waitingForPerson);
    }

    private static TrialView ToView(TrialRow t) => new(
        t.Id, t.StudyId, t.Number, t.State, ParseParams(t.ParamsJson), t.Attempt, t.AgentId, t.ClonedFromTrialId,
        t.Reason, t.EpochCount, t.LastValue, t.BestValue, t.CreatedAt, t.StartedAt, t.EndedAt, t.StageIndex);

    private sealed record TrialStat(long StudyId, long TrialId, TrialState State, double? BestValue);
}
