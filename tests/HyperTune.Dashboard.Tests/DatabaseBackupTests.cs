using HyperTune.Dashboard.Terminal;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;

namespace HyperTune.Dashboard.Tests;

public sealed class DatabaseBackupTests
{
    private const string Spec = """
        { "name": "backup", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "budget": { "trials": 1 }, "fixed": { "epochs": 1000 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task Backup_WhileAnAgentReports_CopyPassesIntegrityCheckAndHoldsEveryEpochCommittedBefore()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "backup-agent");
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var acknowledged = 0L;
        using var stop = new CancellationTokenSource();

        // The agent reports epoch after epoch, each acknowledged (committed) before the next, until the test has its copy.
        var reporting = Task.Run(async () =>
        {
            for (var seq = 1L; !stop.IsCancellationRequested && seq <= 1000; seq++)
            {
                await agent.ReportAsync(start.TrialId, start.Attempt, seq, (int)seq, new Dictionary<string, double> { ["val_accuracy"] = seq / 1e6, ["val_loss"] = 1.0 / seq });
                Interlocked.Exchange(ref acknowledged, (await agent.NextAsync(HubMessage.KindOneofCase.Ack)).Ack.Seq);
            }
        });
        while (Interlocked.Read(ref acknowledged) < 20)
        {
            await Task.Delay(20);
        }

        var committedBefore = Interlocked.Read(ref acknowledged);
        var copy = Path.Combine(dashboard.DataDir, "backups", "copy.db");
        var output = new StringWriter();
        var exitCode = await DashboardCommands.TryRunAsync(["backup", "--to", copy, "--Dashboard:DataDir", dashboard.DataDir], output, new StringWriter());
        var committedAfterCopy = Interlocked.Read(ref acknowledged);
        await stop.CancelAsync();
        await reporting;

        Assert.Equal(0, exitCode);
        Assert.Contains("integrity_check: ok", output.ToString(), StringComparison.Ordinal);
        await using var db = new SqliteConnection($"Data Source={copy};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        Assert.Equal("ok", await ScalarAsync<string>(db, "PRAGMA integrity_check"));
        Assert.Equal(studyId, await ScalarAsync<long>(db, "SELECT id FROM studies"));
        Assert.Equal(start.TrialId, await ScalarAsync<long>(db, "SELECT id FROM trials"));

        // A snapshot: every report acknowledged before the backup, as one unbroken run of seqs, each with both metrics.
        var (count, lowest, highest) = (await ScalarAsync<long>(db, "SELECT COUNT(*) FROM epoch_reports"),
            await ScalarAsync<long>(db, "SELECT MIN(seq) FROM epoch_reports"), await ScalarAsync<long>(db, "SELECT MAX(seq) FROM epoch_reports"));
        Assert.Equal((1L, count), (lowest, highest));
        Assert.InRange(count, committedBefore, committedAfterCopy + 1);
        Assert.Equal(2 * count, await ScalarAsync<long>(db, "SELECT COUNT(*) FROM epoch_metrics"));
        Assert.Equal(count, await ScalarAsync<long>(db, "SELECT EpochCount FROM trials"));
    }

    [Fact]
    public async Task Backup_ToAnExistingFile_RefusesNamingThePathAndLeavesTheFileAlone()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var existing = Path.Combine(dashboard.DataDir, "precious.db");
        await File.WriteAllTextAsync(existing, "not a database, and not to be lost");
        var error = new StringWriter();

        var exitCode = await DashboardCommands.TryRunAsync(["backup", "--to", existing, "--Dashboard:DataDir", dashboard.DataDir], new StringWriter(), error);

        Assert.Equal(1, exitCode);
        Assert.Contains($"{existing} already exists", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("not a database, and not to be lost", await File.ReadAllTextAsync(existing));
    }

    [Fact]
    public async Task Backup_WhereNoDatabaseIs_RefusesNamingWhereItLookedAndWritesNothing()
    {
        var empty = Directory.CreateTempSubdirectory("hypertune-no-db-").FullName;
        var copy = Path.Combine(empty, "copy.db");
        var error = new StringWriter();

        var exitCode = await DashboardCommands.TryRunAsync(["backup", "--to", copy, "--Dashboard:DataDir", empty], new StringWriter(), error);

        Assert.Equal(1, exitCode);
        Assert.Contains($"no dashboard database at {Path.Combine(empty, "hypertune.db")}", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(copy));
        Assert.False(File.Exists(Path.Combine(empty, "hypertune.db")));
        Directory.Delete(empty, recursive: true);
    }

    [Fact]
    public async Task TryRun_WithoutAVerb_LeavesTheDashboardToRun()
    {
        Assert.Null(await DashboardCommands.TryRunAsync(["--Dashboard:DataDir", "data"], new StringWriter(), new StringWriter()));
    }

    private static async Task<T> ScalarAsync<T>(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
