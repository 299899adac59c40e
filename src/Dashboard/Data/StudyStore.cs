using System.Text.Json;
using HyperTune.Shared.LearningRate;
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

    /// <summary>The trial runs on another agent than the one that sent the report.</summary>
    OtherAgent,
}

/// <summary>One epoch report as an agent sent it, for <see cref="StudyStore.RecordEpochsAsync"/>; <paramref name="AgentId"/> is the sender (null: the REST API).</summary>
public sealed record EpochIngest(
    long TrialId, int Attempt, long Seq, int Epoch, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset? EndedAt, IReadOnlyList<int>? CheckpointEpochs,
    string? AgentId = null);

/// <summary>What became of one epoch report: stored (with its point), or why not.</summary>
public sealed record EpochIngestResult(IngestOutcome Outcome, TrialView? Trial, EpochPoint? Point);

/// <summary>A trial the scheduler has just handed to an agent slot; an LR range test trial carries its sweep.</summary>
public sealed record ClaimedTrial(TrialView Trial, string Workload, LrRangeTestSpec? LrRangeTest = null);

/// <summary>A proposal made before a claim's write transaction: trial <paramref name="SampledCount"/> of a study, in stage <paramref name="StageIndex"/>.</summary>
internal sealed record PreparedProposal(long StudyId, int SampledCount, int StageIndex, IReadOnlyDictionary<string, ParamValue> Proposal);

/// <summary>The outcome of a fork request: the queued trial, or why not.</summary>
public sealed record ForkOutcome(TrialView? Trial, string? Problem = null, bool NotFound = false);

/// <summary>What a claim did: the trial handed out, if any, and the studies that got a new stage on the way.</summary>
public sealed record ClaimOutcome(ClaimedTrial? Claimed, IReadOnlyList<long> StagesAdded);

/// <summary>All durable state of studies and trials. One context per operation; hands out snapshots only.</summary>
public sealed partial class StudyStore(IDbContextFactory<HyperTuneDbContext> contexts, TimeProvider clock)
{
    /// <summary>A study with this workload is driven only through the ask/tell API, never sent to an agent.</summary>
    public const string ExternalWorkload = "external";

    public async Task<long> CreateStudyAsync(StudyDefinition definition, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);

        // The study and its first stage commit together: the scheduler must never see a study without a stage.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
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
        var test = definition.LrRangeTest;
        db.Stages.Add(new StageRow
        {
            StudyId = row.Id,
            Index = 0,
            Kind = test is null ? StageKind.Search : StageKind.LrRangeTest,
            SpecJson = row.SpecJson,
            Trials = test is null ? definition.Sampler.Stages?[0] ?? definition.Budget.Trials : 1,
            State = StageState.Running,
            Origin = test is null ? "spec" : FormattableString.Invariant($"lr range test, lr {test.MinLr:G3} to {test.MaxLr:G3} over {test.Steps} steps"),
            CreatedAt = row.CreatedAt,
            StartedAt = row.CreatedAt,
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
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

    /// <summary>A study's definition alone (no counting of its trials): what a per-report decision needs.</summary>
    public async Task<StudyDefinition?> GetDefinitionAsync(long id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var study = await db.Studies.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return study is null ? null : Definition(study);
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

    /// <summary>
    /// Every stored epoch of the current run of a study's trials (a resume continues a run, a re-run starts a new one), in
    /// trial then epoch order; an epoch reported by two attempts of the run shows the later one.
    /// </summary>
    public async Task<IReadOnlyList<EpochPoint>> ListEpochsAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await ReadEpochsAsync(db.EpochReports.Where(r => db.Trials.Any(t => t.Id == r.TrialId && t.StudyId == studyId && r.Attempt >= t.RunFromAttempt)), ct);
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
    /// <paramref name="canHandOver"/> says whether another agent could get a checkpoint now: a re-queued lost attempt
    /// whose checkpoint nobody can hand over starts over (see <see cref="StartOverWithoutCheckpoint"/>).
    /// </summary>
    public async Task<ClaimOutcome> ClaimNextTrialAsync(IReadOnlyCollection<string> workloads, string agentId, int slot,
        Func<CheckpointPointer, bool> canHandOver, CancellationToken ct = default)
    {
        // A model-based proposal (a GP refit: tens to hundreds of ms) is made before the write transaction, so SQLite's
        // write lock is not held meanwhile; inside, it is used only if the study has not moved on.
        var prepared = await PrepareProposalAsync(workloads, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var stagesAdded = new List<long>();
        var candidates = await CandidateStudies(db, workloads).ToListAsync(ct);
        foreach (var study in candidates)
        {
            var trial = await db.Trials.Where(t => t.StudyId == study.Id && t.State == TrialState.Queued)
                .OrderBy(t => t.Number).FirstOrDefaultAsync(ct);
            trial ??= await SampleTrialAsync(db, study, ct, prepared);
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

            var startedOver = StartOverWithoutCheckpoint(trial, agentId, canHandOver);
            trial.State = TrialState.Running;
            trial.Attempt++;
            trial.AgentId = agentId;
            trial.Slot = slot;
            trial.StartedAt = clock.GetUtcNow();
            trial.Reason = startedOver;
            Claimed(trial, agentId, trial.StartedAt.Value);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            var sweep = trial.Kind == TrialKind.LrRangeTest ? Definition(study).LrRangeTest : null;
            return new ClaimOutcome(new ClaimedTrial(ToView(trial), study.Workload, sweep), stagesAdded);
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
    private async Task<TrialRow?> SampleTrialAsync(HyperTuneDbContext db, StudyRow study, CancellationToken ct, PreparedProposal? prepared = null)
    {
        var stage = await db.Stages.Where(s => s.StudyId == study.Id).OrderByDescending(s => s.Index).FirstAsync(ct);
        if (stage.State == StageState.Proposed)
        {
            return null;
        }

        var definition = Definition(study);
        var stageDefinition = definition.WithSpace(ParseSpec(stage.SpecJson, $"stage {stage.Index} of study {study.Id}").Space);
        if (stage.Kind == StageKind.LrRangeTest)
        {
            return await RangeTestStageAsync(db, study, stage, stageDefinition, ct);
        }

        var sampledInStage = await db.Trials.CountAsync(t => t.StudyId == study.Id && t.StageIndex == stage.Index && t.ClonedFromTrialId == null, ct);
        if (sampledInStage >= stage.Trials)
        {
            var next = await ProposeNextStageAsync(db, study, stage, stageDefinition, await HistoryAsync(db, study.Id, stageDefinition, ct), ct);
            if (next?.State != StageState.Running)
            {
                return null;
            }

            // An automatic stage starts at once.
            await db.SaveChangesAsync(ct);
            return await SampleTrialAsync(db, study, ct);
        }

        var proposal = prepared is { } p && p.StudyId == study.Id && p.SampledCount == study.SampledCount && p.StageIndex == stage.Index
            ? p.Proposal
            : Propose(stageDefinition, study.SampledCount, await SamplerHistoryAsync(db, study.Id, stageDefinition, ct));
        study.SampledCount++;
        var trial = NewTrial(study.Id, await NextNumberAsync(db, study.Id, ct), Merge(definition.Fixed, stageDefinition.Space.Active(proposal)), clonedFrom: null);
        trial.StageIndex = stage.Index;
        db.Trials.Add(trial);
        return trial;
    }

    /// <summary>
    /// The next trial's proposal for the study a claim would sample from, made with its own reads and no transaction;
    /// null when that study has a queued trial, waits, or is at the end of a stage (those paths run inside the claim).
    /// </summary>
    private async Task<PreparedProposal?> PrepareProposalAsync(IReadOnlyCollection<string> workloads, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var study = await CandidateStudies(db, workloads).AsNoTracking().FirstOrDefaultAsync(ct);
        if (study is null || await db.Trials.AnyAsync(t => t.StudyId == study.Id && t.State == TrialState.Queued, ct))
        {
            return null;
        }

        var stage = await db.Stages.AsNoTracking().Where(s => s.StudyId == study.Id).OrderByDescending(s => s.Index).FirstAsync(ct);
        var sampledInStage = await db.Trials.CountAsync(t => t.StudyId == study.Id && t.StageIndex == stage.Index && t.ClonedFromTrialId == null, ct);
        if (stage.State == StageState.Proposed || stage.Kind == StageKind.LrRangeTest || sampledInStage >= stage.Trials)
        {
            return null;
        }

        var stageDefinition = Definition(study).WithSpace(ParseSpec(stage.SpecJson, $"stage {stage.Index} of study {study.Id}").Space);
        var history = await SamplerHistoryAsync(db, study.Id, stageDefinition, ct);
        return new PreparedProposal(study.Id, study.SampledCount, stage.Index, Propose(stageDefinition, study.SampledCount, history));
    }

    /// <summary>Studies with budget left or queued trials whose workload the agent runs, below their parallel limit, oldest first.</summary>
    private static IQueryable<StudyRow> CandidateStudies(HyperTuneDbContext db, IReadOnlyCollection<string> workloads) => db.Studies
        .Where(s => workloads.Contains(s.Workload) && s.Workload != ExternalWorkload)
        .Where(s => s.SampledCount < s.BudgetTrials || s.Trials.Any(t => t.State == TrialState.Queued))
        .Where(s => s.Trials.Count(t => t.State == TrialState.Running) < s.Parallel)
        .OrderBy(s => s.Id);

    /// <summary>Every ended sampled training trial of the study, in the stage's space; failed and diverged ones have no value.</summary>
    /// <summary>The history the stage's sampler looks at: none for samplers that ignore it (a 10,000-trial random study claims in constant time).</summary>
    private static async Task<List<TrialResult>> SamplerHistoryAsync(HyperTuneDbContext db, long studyId, StudyDefinition stageDefinition, CancellationToken ct) =>
        Algorithms.CreateSampler(stageDefinition.Sampler).UsesHistory ? await HistoryAsync(db, studyId, stageDefinition, ct) : [];

    private static async Task<List<TrialResult>> HistoryAsync(HyperTuneDbContext db, long studyId, StudyDefinition stageDefinition, CancellationToken ct)
    {
        var ended = await db.Trials.AsNoTracking()
            .Where(t => t.StudyId == studyId && t.ClonedFromTrialId == null && t.Kind == TrialKind.Training
                && (t.State == TrialState.Completed || t.State == TrialState.Stopped || t.State == TrialState.Pruned || t.State == TrialState.Failed || t.State == TrialState.Diverged))
            .OrderBy(t => t.Number)
            .Select(t => new { t.ParamsJson, t.BestValue, t.State })
            .ToListAsync(ct);
        return [.. ended.Select(t => new TrialResult(stageDefinition.Space.Completed(ParseParams(t.ParamsJson)), t.State is TrialState.Failed or TrialState.Diverged ? null : t.BestValue))];
    }

    private static IReadOnlyDictionary<string, ParamValue> Propose(StudyDefinition stageDefinition, int index, List<TrialResult> history) =>
        Algorithms.CreateSampler(stageDefinition.Sampler).Propose(new SamplerContext(stageDefinition.Space, index, history, stageDefinition.Objective.Direction));

    /// <summary>
    /// The LR range test stage: its one trial first (the searched parameters other than lr at the centre of their
    /// range, in their scale); once it has ended, the next stage with the lr bounds its curve proposes.
    /// </summary>
    private async Task<TrialRow?> RangeTestStageAsync(HyperTuneDbContext db, StudyRow study, StageRow stage, StudyDefinition definition, CancellationToken ct)
    {
        var tests = await db.Trials.AsNoTracking().Where(t => t.StudyId == study.Id && t.StageIndex == stage.Index).ToListAsync(ct);
        if (tests.Count == 0)
        {
            var centre = definition.Space.Parameters.ToDictionary(p => p.Name, p => p.FromUnit(0.5));
            var parameters = Merge(definition.Fixed, definition.Space.Active(centre));
            parameters.Remove(LrRangeTestSpec.LrParameter);
            var trial = NewTrial(study.Id, await NextNumberAsync(db, study.Id, ct), parameters, clonedFrom: null);
            trial.Kind = TrialKind.LrRangeTest;
            trial.StageIndex = stage.Index;
            db.Trials.Add(trial);
            return trial;
        }

        if (tests.Any(t => !t.State.IsFinal()))
        {
            return null;
        }

        var last = tests.OrderBy(t => t.EndedAt).Last();
        var points = await LoadLrRangePointsAsync(db, last, ct);
        var test = definition.LrRangeTest!;
        var analysis = LrRangeCurve.Analyze(points);
        var space = definition.Space;
        string origin;
        if (last.State == TrialState.Completed && analysis.Proposal is { } proposal)
        {
            var lr = (FloatParameter)space.Find(LrRangeTestSpec.LrParameter)!;
            var low = Math.Clamp(proposal.Low, test.MinLr, test.MaxLr);
            var high = Math.Clamp(proposal.High, test.MinLr, test.MaxLr);
            space = new SearchSpace([.. space.Parameters.Select(p => p.Name == lr.Name ? lr with { Low = Math.Min(low, high / 10), High = high, Scale = Scale.Log } : p)]);
            origin = proposal.Sentence;
        }
        else
        {
            var why = last.State == TrialState.Completed ? analysis.Sentence : $"the lr range test {last.State.ToString().ToLowerInvariant()}{(last.Reason is null ? "" : ": " + last.Reason)}";
            origin = $"{why}; the spec's lr range is kept";
        }

        var planned = definition.Sampler.Stages;
        var next = new StageRow
        {
            StudyId = study.Id,
            Index = stage.Index + 1,
            Kind = StageKind.Search,
            SpecJson = definition.WithSpace(space).ToJson(),
            Trials = planned?[0] ?? study.BudgetTrials,
            State = test.Auto ? StageState.Running : StageState.Proposed,
            Origin = origin,
            CreatedAt = clock.GetUtcNow(),
            StartedAt = test.Auto ? clock.GetUtcNow() : null,
        };
        db.Stages.Add(next);
        if (!test.Auto)
        {
            return null;
        }

        await db.SaveChangesAsync(ct);
        return await SampleTrialAsync(db, study, ct);
    }

    /// <summary>The study's latest LR range test: its trial, its (lr, loss) steps and what they propose; null when the study has none.</summary>
    public async Task<LrRangeTestView?> LoadLrRangeTestAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.AsNoTracking().Where(t => t.StudyId == studyId && t.Kind == TrialKind.LrRangeTest)
            .OrderByDescending(t => t.Number).FirstOrDefaultAsync(ct);
        if (trial is null)
        {
            return null;
        }

        var points = await LoadLrRangePointsAsync(db, trial, ct);
        return new LrRangeTestView(ToView(trial), points, LrRangeCurve.Analyze(points));
    }

    private static async Task<IReadOnlyList<LrLossPoint>> LoadLrRangePointsAsync(HyperTuneDbContext db, TrialRow trial, CancellationToken ct)
    {
        var steps = await db.EpochReports.AsNoTracking()
            .Where(r => r.TrialId == trial.Id && r.Attempt == trial.Attempt)
            .OrderBy(r => r.Epoch)
            .Select(r => new { r.Epoch, Metrics = r.Metrics.Where(m => m.Name == "lr" || m.Name == "loss").Select(m => new { m.Name, m.Kind, m.Value }).ToList() })
            .ToListAsync(ct);
        return [.. steps
            .Select(s => s.Metrics.ToDictionary(m => m.Name, m => MetricValue.Join(m.Kind, m.Value)))
            .Where(m => m.ContainsKey("lr") && m.ContainsKey("loss"))
            .Select(m => new LrLossPoint(m["lr"], m["loss"]))];
    }

    /// <summary>Once every trial of a spent stage has ended, the next planned coarse-to-fine stage zooms around the best.</summary>
    private async Task<StageRow?> ProposeNextStageAsync(HyperTuneDbContext db, StudyRow study, StageRow stage, StudyDefinition stageDefinition, List<TrialResult> history, CancellationToken ct)
    {
        var plan = stageDefinition.Sampler.Stages;
        // A study that began with an LR range test has its planned stages one index later.
        var planIndex = stage.Index - (stageDefinition.LrRangeTest is null ? 0 : 1);
        var stillRunning = await db.Trials.AnyAsync(t => t.StudyId == study.Id && t.StageIndex == stage.Index
            && (t.State == TrialState.Queued || t.State == TrialState.Running || t.State == TrialState.Paused), ct);
        if (plan is null || planIndex + 1 >= plan.Count || study.SampledCount >= study.BudgetTrials || stillRunning)
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
            Trials = plan[planIndex + 1],
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
            .Select(g => new { Stage = g.Key, Sampled = g.Count(), Ended = g.Count(t => t.State != TrialState.Queued && t.State != TrialState.Running && t.State != TrialState.Paused) })
            .ToListAsync(ct);
        return [.. stages.Select(s =>
        {
            var c = counts.FirstOrDefault(x => x.Stage == s.Index);
            return new StageView(s.Index, s.Kind, s.State, s.Trials, c?.Sampled ?? 0, c?.Ended ?? 0, s.Origin,
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
        long trialId, int attempt, long seq, int epoch, IReadOnlyDictionary<string, double> metrics, DateTimeOffset? endedAt,
        IReadOnlyList<int>? checkpointEpochs = null, CancellationToken ct = default)
    {
        var result = (await RecordEpochsAsync([new EpochIngest(trialId, attempt, seq, epoch, metrics, endedAt, checkpointEpochs)], ct))[0];
        return (result.Outcome, result.Trial, result.Point);
    }

    /// <summary>
    /// Stores a burst of epoch reports in one transaction (one fsync for all: what lets a busy agent's backlog drain),
    /// each at most once. Results come in the order of <paramref name="reports"/>; a trial's view is as of the commit.
    /// </summary>
    public async Task<IReadOnlyList<EpochIngestResult>> RecordEpochsAsync(IReadOnlyList<EpochIngest> reports, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var trials = new Dictionary<long, TrialRow?>();
        var seen = new HashSet<(long, int, long)>();
        var outcomes = new List<(IngestOutcome Outcome, TrialRow? Trial, EpochPoint? Point)>(reports.Count);
        foreach (var r in reports)
        {
            if (!trials.TryGetValue(r.TrialId, out var trial))
            {
                trial = await db.Trials.Include(t => t.Study).FirstOrDefaultAsync(t => t.Id == r.TrialId, ct);
                trials[r.TrialId] = trial;
            }

            outcomes.Add(trial switch
            {
                null => (IngestOutcome.UnknownTrial, null, null),
                _ when IsFenced(trial, r.Attempt) => (IngestOutcome.StaleAttempt, trial, null),
                _ when r.AgentId is not null && r.AgentId != trial.AgentId => (IngestOutcome.OtherAgent, trial, null),
                _ when !seen.Add((r.TrialId, r.Attempt, r.Seq))
                    || await db.EpochReports.AnyAsync(e => e.TrialId == r.TrialId && e.Attempt == r.Attempt && e.Seq == r.Seq, ct)
                    => (IngestOutcome.Duplicate, trial, null),
                _ => (IngestOutcome.Stored, trial, Apply(db, trial, r)),
            });
        }

        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is SqliteException { SqliteErrorCode: 19 })
        {
            // Another connection stored one of these (trial, attempt, seq) between our check and our insert: one at a time,
            // each then sees what is stored.
            if (reports.Count == 1)
            {
                return [new EpochIngestResult(IngestOutcome.Duplicate, outcomes[0].Trial is { } t ? ToView(t) : null, null)];
            }

            var single = new List<EpochIngestResult>(reports.Count);
            foreach (var r in reports)
            {
                single.AddRange(await RecordEpochsAsync([r], ct));
            }

            return single;
        }

        return [.. outcomes.Select(o => new EpochIngestResult(o.Outcome, o.Trial is null ? null : ToView(o.Trial), o.Point))];
    }

    private EpochPoint Apply(HyperTuneDbContext db, TrialRow trial, EpochIngest r)
    {
        var report = new EpochReportRow
        {
            TrialId = r.TrialId,
            Attempt = r.Attempt,
            Seq = r.Seq,
            Epoch = r.Epoch,
            EndedAt = r.EndedAt,
            ReceivedAt = clock.GetUtcNow(),
        };
        foreach (var (name, value) in r.Metrics)
        {
            var (kind, finite) = MetricValue.Split(value);
            report.Metrics.Add(new EpochMetricRow { Name = name, Kind = kind, Value = finite });
        }

        db.EpochReports.Add(report);
        trial.EpochCount = Math.Max(trial.EpochCount, r.Epoch);
        trial.LastMetricsJson = MetricsJson(r.Metrics);
        EpochStored(trial, r.Epoch, report.ReceivedAt);
        if (r.CheckpointEpochs is { Count: > 0 })
        {
            trial.CheckpointAgentId = trial.AgentId;
            trial.CheckpointAttempt = r.Attempt;
            trial.CheckpointEpochsJson = JsonSerializer.Serialize(r.CheckpointEpochs);
        }

        if (r.Metrics.TryGetValue(trial.Study!.ObjectiveMetric, out var objectiveValue))
        {
            trial.LastValue = double.IsFinite(objectiveValue) ? objectiveValue : null;
            var objective = new Objective(trial.Study.ObjectiveMetric, trial.Study.Maximize ? Direction.Maximize : Direction.Minimize);
            if (double.IsFinite(objectiveValue) && objective.IsBetter(objectiveValue, trial.BestValue))
            {
                trial.BestValue = objectiveValue;
            }
        }

        return new EpochPoint(r.TrialId, r.Attempt, r.Epoch, r.Metrics);
    }

    /// <summary>Ends a trial's attempt; a finish for an attempt that is no longer current changes nothing.</summary>
    public async Task<TrialView?> FinishTrialAsync(long trialId, int attempt, TrialState outcome, string? reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.FirstOrDefaultAsync(t => t.Id == trialId, ct);
        if (trial is null || IsFenced(trial, attempt) || trial.State.IsFinal() || trial.State == TrialState.Paused)
        {
            return trial is null ? null : ToView(trial);
        }

        End(trial, outcome, reason, clock.GetUtcNow());
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

    /// <summary>Every trial's objective value per epoch (current run, the later attempt where two reported an epoch), for the pruner.</summary>
    public async Task<IReadOnlyList<TrialCurve>> LoadCurvesAsync(long studyId, string metric, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trials = await db.Trials.AsNoTracking().Where(t => t.StudyId == studyId && t.Kind == TrialKind.Training)
            .Select(t => new { t.Id, t.State }).ToListAsync(ct);
        var points = await db.EpochMetrics.AsNoTracking()
            .Where(m => m.Name == metric)
            .Join(db.EpochReports.Where(r => r.Epoch >= 1 && db.Trials.Any(t => t.Id == r.TrialId && t.StudyId == studyId && r.Attempt >= t.RunFromAttempt)),
                m => m.ReportId, r => r.Id, (m, r) => new { r.TrialId, r.Attempt, r.Epoch, m.Kind, m.Value })
            .OrderBy(p => p.Attempt)
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

        var clone = await CopyTrialAsync(db, source, overrides, ct);
        clone.Kind = source.Kind;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return ToView(clone);
    }

    /// <summary>
    /// Adds lines to the trial's log and keeps its last <see cref="TrialLogRow.KeptLines"/>; returns the trial's study,
    /// or null (nothing kept) when the trial is unknown or <paramref name="attempt"/> is not its current attempt.
    /// </summary>
    public async Task<long?> AppendTrialLogAsync(long trialId, int attempt, IReadOnlyList<string> lines, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.AsNoTracking().Where(t => t.Id == trialId).Select(t => new { t.StudyId, t.Attempt }).FirstOrDefaultAsync(ct);
        if (trial is null || trial.Attempt != attempt)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        db.TrialLogs.AddRange(lines.Select(line => new TrialLogRow { TrialId = trialId, Attempt = attempt, Line = line, ReceivedAt = now }));
        await db.SaveChangesAsync(ct);
        var oldestKept = await db.TrialLogs.Where(l => l.TrialId == trialId).OrderByDescending(l => l.Id)
            .Skip(TrialLogRow.KeptLines - 1).Select(l => (long?)l.Id).FirstOrDefaultAsync(ct);
        if (oldestKept is { } id)
        {
            await db.TrialLogs.Where(l => l.TrialId == trialId && l.Id < id).ExecuteDeleteAsync(ct);
        }

        return trial.StudyId;
    }

    /// <summary>The kept tail of the trial's log for its current attempt, oldest line first; null when the trial does not exist.</summary>
    public async Task<TrialLogView?> GetTrialLogAsync(long trialId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.AsNoTracking().Where(t => t.Id == trialId).Select(t => new { t.Number, t.Attempt }).FirstOrDefaultAsync(ct);
        if (trial is null)
        {
            return null;
        }

        var lines = await db.TrialLogs.AsNoTracking().Where(l => l.TrialId == trialId && l.Attempt == trial.Attempt)
            .OrderBy(l => l.Id).Select(l => l.Line).ToListAsync(ct);
        return new TrialLogView(trialId, trial.Number, trial.Attempt, lines);
    }

    /// <summary>
    /// "Fork from epoch k": queues a new trial of the same study with the source's parameters and the overrides, which
    /// continues from the source's checkpoint after epoch <paramref name="epoch"/> (one its agent still holds).
    /// </summary>
    public async Task<ForkOutcome> ForkTrialAsync(long sourceTrialId, int epoch, IReadOnlyDictionary<string, ParamValue> overrides, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var source = await db.Trials.AsNoTracking().FirstOrDefaultAsync(t => t.Id == sourceTrialId, ct);
        if (source is null)
        {
            return new ForkOutcome(null, $"trial {sourceTrialId} does not exist", NotFound: true);
        }

        var epochs = CheckpointEpochs(source);
        if (!epochs.Contains(epoch))
        {
            return new ForkOutcome(null, epochs.Count == 0
                ? $"trial #{source.Number} has no checkpoint (only built-in workloads save them, after each epoch)"
                : $"trial #{source.Number} has checkpoints after epoch {string.Join(" and ", epochs)}, not after epoch {epoch}");
        }

        var fork = await CopyTrialAsync(db, source, overrides, ct);
        fork.ResumeTrialId = source.Id;
        fork.ResumeAttempt = source.CheckpointAttempt;
        fork.ResumeEpoch = epoch;
        fork.ResumeAgentId = source.CheckpointAgentId;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new ForkOutcome(ToView(fork));
    }

    /// <summary>The agent that holds trial <paramref name="trialId"/>'s checkpoint of <paramref name="attempt"/> after <paramref name="epoch"/>, as its last report said; null when none does.</summary>
    public async Task<string?> GetCheckpointHolderAsync(long trialId, int attempt, int epoch, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var trial = await db.Trials.AsNoTracking().FirstOrDefaultAsync(t => t.Id == trialId && t.CheckpointAttempt == attempt, ct);
        return trial is not null && CheckpointEpochs(trial).Contains(epoch) ? trial.CheckpointAgentId : null;
    }

    /// <summary>Whether <paramref name="agentId"/> runs a trial whose attempt starts from this checkpoint (a fork, or a resume on another agent).</summary>
    public async Task<bool> RunsTrialFromCheckpointAsync(string agentId, long trialId, int attempt, int epoch, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Trials.AnyAsync(t => t.State == TrialState.Running && t.AgentId == agentId
            && t.ResumeTrialId == trialId && t.ResumeAttempt == attempt && t.ResumeEpoch == epoch, ct);
    }

    private static IReadOnlyList<int> CheckpointEpochs(TrialRow trial) =>
        trial.CheckpointEpochsJson is null ? [] : JsonSerializer.Deserialize<int[]>(trial.CheckpointEpochsJson) ?? [];

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

    /// <summary>Trials waiting for an agent slot: queued ones (clones, retries) and the budget not yet sampled; ask/tell studies excluded.</summary>
    public async Task<QueueDepth> CountWaitingTrialsAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var queued = await db.Trials.CountAsync(t => t.State == TrialState.Queued && db.Studies.Any(s => s.Id == t.StudyId && s.Workload != ExternalWorkload), ct);
        var unsampled = await db.Studies.Where(s => s.Workload != ExternalWorkload && s.SampledCount < s.BudgetTrials)
            .SumAsync(s => s.BudgetTrials - s.SampledCount, ct);
        return new QueueDepth(queued, unsampled);
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

    /// <summary>A new queued trial of the source's study and stage with its parameters and the overrides (a clone or a fork); the caller saves it.</summary>
    private async Task<TrialRow> CopyTrialAsync(HyperTuneDbContext db, TrialRow source, IReadOnlyDictionary<string, ParamValue> overrides, CancellationToken ct)
    {
        var parameters = new Dictionary<string, ParamValue>(ParseParams(source.ParamsJson));
        foreach (var (name, value) in overrides)
        {
            parameters[name] = value;
        }

        var copy = NewTrial(source.StudyId, await NextNumberAsync(db, source.StudyId, ct), parameters, source.Id);
        copy.StageIndex = source.StageIndex;
        db.Trials.Add(copy);
        return copy;
    }

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
        t.Reason, t.EpochCount, t.LastValue, t.BestValue, t.CreatedAt, t.StartedAt, t.EndedAt, t.StageIndex, t.Kind)
    {
        CheckpointEpochs = t.CheckpointAttempt == t.Attempt ? CheckpointEpochs(t) : [],
        Resume = t.ResumeTrialId is { } from ? new CheckpointPointer(from, t.ResumeAttempt ?? 0, t.ResumeEpoch ?? 0, t.ResumeAgentId) : null,
        LastMetrics = ParseMetrics(t.LastMetricsJson),
        Tags = ParseTags(t.TagsJson),
        Notes = t.Notes,
        Command = t.Command is { } command ? new ControlCommandView(command, t.CommandState ?? CommandDelivery.Requested, t.CommandAt ?? t.CreatedAt, t.CommandMessage, t.CommandBy) : null,
        RunFromAttempt = t.RunFromAttempt,
    };

    private sealed record TrialStat(long StudyId, long TrialId, TrialState State, double? BestValue);
}
