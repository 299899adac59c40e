using HyperTune.Shared.Trials;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>Learning curves of chosen trials, one metric at a time: what the study page draws without loading every epoch.</summary>
public sealed partial class StudyStore
{
    /// <summary>
    /// The current run's epochs of <paramref name="trialIds"/> that reported <paramref name="metric"/>, in trial then
    /// epoch order, each point carrying just that metric.
    /// </summary>
    public async Task<IReadOnlyList<EpochPoint>> ListCurvesAsync(long studyId, string metric, IReadOnlyCollection<long> trialIds, CancellationToken ct = default)
    {
        if (trialIds.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var ids = trialIds.ToList();
        var rows = await (
            from t in db.Trials.AsNoTracking()
            where t.StudyId == studyId && ids.Contains(t.Id)
            join r in db.EpochReports.AsNoTracking() on t.Id equals r.TrialId
            where r.Attempt >= t.RunFromAttempt
            join m in db.EpochMetrics.AsNoTracking() on r.Id equals m.ReportId
            where m.Name == metric
            orderby r.TrialId, r.Epoch, r.Attempt, r.Seq
            select new { r.TrialId, r.Attempt, r.Epoch, m.Kind, m.Value }).ToListAsync(ct);

        // The current run only (a re-run starts a new one; a resume continues it); the later attempt wins an epoch.
        return [.. rows.GroupBy(r => (r.TrialId, r.Epoch)).Select(g => g.Last())
            .Select(r => new EpochPoint(r.TrialId, r.Attempt, r.Epoch, new Dictionary<string, double> { [metric] = MetricValue.Join(r.Kind, r.Value) }))];
    }

    /// <summary>The names of the metrics a study's trials reported, read from its 20 newest trials that reported any.</summary>
    public async Task<IReadOnlyList<string>> ListMetricNamesAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var newest = db.Trials.AsNoTracking().Where(t => t.StudyId == studyId && t.EpochCount > 0)
            .OrderByDescending(t => t.Id).Take(20).Select(t => t.Id);
        var reports = db.EpochReports.AsNoTracking().Where(r => newest.Contains(r.TrialId)).Select(r => r.Id);
        return await db.EpochMetrics.AsNoTracking().Where(m => reports.Contains(m.ReportId))
            .Select(m => m.Name).Distinct().OrderBy(n => n).ToListAsync(ct);
    }
}
