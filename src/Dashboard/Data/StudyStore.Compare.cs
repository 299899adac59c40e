using HyperTune.Shared.Trials;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

public sealed partial class StudyStore
{
    /// <summary>Every stored epoch of the given trials of a study (ids of other studies are ignored), in trial then epoch order.</summary>
    public async Task<IReadOnlyList<EpochPoint>> ListEpochsAsync(long studyId, IReadOnlyCollection<long> trialIds, CancellationToken ct = default)
    {
        if (trialIds.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var ids = trialIds.Distinct().ToList();
        return await ReadEpochsAsync(
            db.EpochReports.Where(r => ids.Contains(r.TrialId) && db.Trials.Any(t => t.Id == r.TrialId && t.StudyId == studyId && r.Attempt >= t.RunFromAttempt)), ct);
    }

    private static async Task<IReadOnlyList<EpochPoint>> ReadEpochsAsync(IQueryable<EpochReportRow> reports, CancellationToken ct)
    {
        var rows = await reports.AsNoTracking()
            .OrderBy(r => r.TrialId).ThenBy(r => r.Attempt).ThenBy(r => r.Epoch).ThenBy(r => r.Seq)
            .Select(r => new { r.TrialId, r.Attempt, r.Epoch, Metrics = r.Metrics.Select(m => new { m.Name, m.Kind, m.Value }).ToList() })
            .ToListAsync(ct);
        // A resumed run repeats no epoch, but should two attempts of one run report the same epoch, the later one wins.
        return [.. rows.GroupBy(r => (r.TrialId, r.Epoch)).Select(g => g.Last()).OrderBy(r => r.TrialId).ThenBy(r => r.Epoch)
            .Select(r => new EpochPoint(r.TrialId, r.Attempt, r.Epoch, r.Metrics.ToDictionary(m => m.Name, m => MetricValue.Join(m.Kind, m.Value))))];
    }
}
