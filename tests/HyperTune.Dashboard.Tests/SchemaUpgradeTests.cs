using HyperTune.Dashboard.Data;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

public sealed class SchemaUpgradeTests
{
    [Fact]
    public async Task Start_DatabaseMadeBeforeNewColumns_AddsThemAndKeepsTheRows()
    {
        var dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        var options = new DbContextOptionsBuilder<HyperTuneDbContext>().UseSqlite($"Data Source={Path.Combine(dataDir, "hypertune.db")}").Options;
        await using (var old = new HyperTuneDbContext(options))
        {
            await old.Database.EnsureCreatedAsync();
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN Kind");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN CheckpointAttempt");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN ResumeEpoch");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE stages DROP COLUMN Kind");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN LastMetricsJson");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN TagsJson");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN Notes");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE studies DROP COLUMN Notes");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN RunFromAttempt");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN Command");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN CommandState");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN CommandAt");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN CommandMessage");
            await old.Database.ExecuteSqlRawAsync("ALTER TABLE trials DROP COLUMN LostRetries");

            await old.Database.ExecuteSqlRawAsync("""
                INSERT INTO studies (Name, Workload, SpecJson, ObjectiveMetric, Maximize, BudgetTrials, Parallel, SampledCount, CreatedAt)
                VALUES ('old', 'external', '{{}}', 'loss', 0, 1, 1, 1, 0)
                """);
            await old.Database.ExecuteSqlRawAsync("""
                INSERT INTO trials (StudyId, Number, State, ParamsJson, Attempt, StageIndex, EpochCount, CreatedAt)
                VALUES (1, 1, 'Completed', '{{}}', 1, 0, 0, 0)
                """);
        }

        SqliteConnection.ClearAllPools();
        await using var dashboard = await RunningDashboard.StartAsync(dataDir);
        await using var db = new HyperTuneDbContext(options);

        var trial = await db.Trials.AsNoTracking().SingleAsync();
        Assert.Equal(Shared.Trials.TrialKind.Training, trial.Kind);
        Assert.Equal(Shared.Trials.TrialState.Completed, trial.State);
        Assert.Equal(0, trial.CheckpointAttempt);
        Assert.Null(trial.ResumeEpoch);
        Assert.Null(trial.TagsJson);
        var view = Assert.Single(await dashboard.App.Services.GetRequiredService<StudyStore>().ListTrialsAsync(1));
        Assert.Empty(view.Tags);
        Assert.Empty(view.LastMetrics);
        Assert.Null(view.Notes);
        Assert.Equal("", await dashboard.App.Services.GetRequiredService<StudyStore>().GetStudyNotesAsync(1));
        Assert.Equal((0, null, null, 0), (trial.RunFromAttempt, trial.Command, trial.CommandState, trial.LostRetries));
    }
}
