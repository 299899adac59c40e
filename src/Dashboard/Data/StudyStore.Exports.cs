using System.Runtime.CompilerServices;
using HyperTune.Shared.Trials;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>One epoch report of a study's trial for an export: trial number, attempt, epoch and every metric it carried.</summary>
public sealed record EpochExportRow(int TrialNumber, int Attempt, int Epoch, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Reads a whole study's epoch reports for exports, one report at a time.</summary>
public sealed partial class StudyStore
{
    /// <summary>Every metric name any epoch report of the study carried, in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> ListEpochMetricNamesAsync(long studyId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var names = await db.EpochMetrics.AsNoTracking()
            .Where(m => db.EpochReports.Any(r => r.Id == m.ReportId && db.Trials.Any(t => t.Id == r.TrialId && t.StudyId == studyId)))
            .Select(m => m.Name).Distinct().ToListAsync(ct);
        return [.. names.Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Every epoch report of every attempt of the study's trials, in trial number, attempt and arrival order, read as a
    /// stream: only one report is held at a time, so half a million of them never sit in memory together.
    /// </summary>
    public async IAsyncEnumerable<EpochExportRow> StreamEpochsAsync(long studyId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);

        // One flat row per metric (a report without metrics gives one row with none), grouped back into reports as they
        // stream past; the order follows the (StudyId, Number) and (TrialId, Attempt, Seq) indexes, so SQLite sorts nothing.
        var rows = from t in db.Trials.AsNoTracking()
                   where t.StudyId == studyId
                   join r in db.EpochReports.AsNoTracking() on t.Id equals r.TrialId
                   from m in db.EpochMetrics.AsNoTracking().Where(m => m.ReportId == r.Id).DefaultIfEmpty()
                   orderby t.Number, r.Attempt, r.Seq
                   select new { t.Number, r.Attempt, r.Epoch, ReportId = r.Id, Name = (string?)m!.Name, Kind = (MetricKind?)m.Kind, m.Value };

        long? current = null;
        EpochExportRow? pending = null;
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(ct))
        {
            if (row.ReportId != current)
            {
                if (pending is not null)
                {
                    yield return pending;
                }

                current = row.ReportId;
                pending = new EpochExportRow(row.Number, row.Attempt, row.Epoch, new Dictionary<string, double>(StringComparer.Ordinal));
            }

            if (row.Name is { } name)
            {
                ((Dictionary<string, double>)pending!.Metrics)[name] = MetricValue.Join(row.Kind ?? MetricKind.Finite, row.Value);
            }
        }

        if (pending is not null)
        {
            yield return pending;
        }
    }
}
