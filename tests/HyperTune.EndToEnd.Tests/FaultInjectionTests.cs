using System.Net;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;

namespace HyperTune.EndToEnd.Tests;

/// <summary>
/// Faults injected into a real study: the dashboard in-process (real Kestrel on loopback, real SQLite file), the agent
/// as a child process training Fashion-MNIST subsets on the CPU, and where the network is cut a TCP proxy between them.
/// Each test ends with the exact set of stored epochs (every epoch of every trial's run once: none lost, none twice)
/// and every trial's final state. The dashboard runs with its default liveness settings.
/// </summary>
public sealed class FaultInjectionTests
{
    // Small enough to finish quickly on a busy CPU, long enough for a fault to land mid-trial.
    private const int Epochs = 4;
    private const int LongEpochs = 12;

    // The kill must land while the trial still trains, on any machine: an epoch of 300 samples takes milliseconds on a
    // fast CPU, so the victim gets enough of them that it cannot finish between its first stored epoch and the SIGKILL.
    private const int KillEpochs = 150;
    private const string AgentId = "fault-agent";

    private static readonly TimeSpan StudyTimeout = TimeSpan.FromMinutes(6);

    // The defaults, said out loud: RunningDashboard relaxes the silence window for ScriptedAgent's sake.
    private static readonly Dictionary<string, string?> Liveness = new()
    {
        ["Dashboard:AgentSilentAfterSeconds"] = "15",
        ["Dashboard:AgentLostAfterSeconds"] = "30",
    };

    [Fact]
    public async Task AgentKilledMidEpoch_RestartedOverItsSpool_TrialResumesFromItsCheckpointAndEveryEpochIsStoredOnce()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: Liveness);
        var home = Directory.CreateDirectory(Path.Combine(dashboard.DataDir, "agent-home")).FullName;
        await using var agent = AgentProcess.Start(dashboard.GrpcUri, AgentId, home);
        await ExplainedByAgentAsync(agent, async () =>
        {
            var studyId = await dashboard.CreateStudyAsync(Study(KillEpochs));
            // Its first epoch is stored: the agent is training the second.
            var victim = await WaitForRunningTrialWithEpochsAsync(dashboard, studyId);
            await agent.KillAsync();
            var storedBeforeKill = (await ReadEpochsAsync(dashboard)).Count(p => p.Trial == victim);
            Assert.True(storedBeforeKill < KillEpochs, $"trial {victim} had stored all {KillEpochs} epochs before the SIGKILL: the fault landed too late");
            agent.Restart();

            await WaitForStudyEndAsync(dashboard, studyId);

            var trials = await ReadTrialsAsync(dashboard);
            Assert.All(trials, t => Assert.Equal("Completed", t.State));
            Assert.Equal(2, trials.Single(t => t.Id == victim).Attempt);
            Assert.Equal(1, trials.Single(t => t.Id == victim).LostRetries);
            await AssertEveryEpochStoredOnceAsync(dashboard, trials, KillEpochs);
        });
    }

    [Fact]
    public async Task NetworkCutFor30Seconds_MidStudy_DashboardSeesTheAgentGoAndEveryEpochArrivesOnceAfterwards()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: Liveness);
        await using var proxy = TcpProxy.Start(dashboard.GrpcUri);
        var home = Directory.CreateDirectory(Path.Combine(dashboard.DataDir, "agent-home")).FullName;
        await using var agent = AgentProcess.Start(proxy.Uri, AgentId, home);
        await ExplainedByAgentAsync(agent, async () =>
        {
            var studyId = await dashboard.CreateStudyAsync(Study(LongEpochs));
            var running = await WaitForRunningTrialWithEpochsAsync(dashboard, studyId);
            var cut = TimeSpan.FromSeconds(30);
            var cutAt = DateTime.UtcNow;
            proxy.Cut();

            // No FIN, no RST: only the heartbeat window and keepalive pings can tell the dashboard.
            var seenGone = await WaitUntilAsync(async () => !await IsOnlineAsync(dashboard), cut);
            var rest = cut - (DateTime.UtcNow - cutAt);
            await Task.Delay(rest > TimeSpan.Zero ? rest : TimeSpan.Zero);
            proxy.Restore();
            await WaitForStudyEndAsync(dashboard, studyId);

            Assert.True(seenGone, "the dashboard still showed the agent online when the 30 s cut ended");
            var trials = await ReadTrialsAsync(dashboard);
            Assert.All(trials, t => Assert.Equal("Completed", t.State));
            Assert.Equal(1, trials.Single(t => t.Id == running).Attempt);
            await AssertEveryEpochStoredOnceAsync(dashboard, trials, LongEpochs);
        });
    }

    [Fact]
    public async Task DashboardRestartedMidStudy_OverTheSameDatabase_AgentReattachesItsTrialAndEveryEpochIsStoredOnce()
    {
        var dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        var first = await RunningDashboard.StartAsync(dataDir, Liveness);
        first.DeleteDataOnDispose = false;
        await using var proxy = TcpProxy.Start(first.GrpcUri);
        var home = Directory.CreateDirectory(Path.Combine(dataDir, "agent-home")).FullName;
        await using var agent = AgentProcess.Start(proxy.Uri, AgentId, home);
        var firstStopped = false;
        await ExplainedByAgentAsync(agent, async () =>
        {
            var studyId = await first.CreateStudyAsync(Study(Epochs));
            var running = await WaitForRunningTrialWithEpochsAsync(first, studyId);
            firstStopped = true;
            await first.DisposeAsync();
            await using var second = await RunningDashboard.StartAsync(dataDir, Liveness);
            proxy.Target = new IPEndPoint(IPAddress.Loopback, second.GrpcUri.Port);

            await WaitForStudyEndAsync(second, studyId);

            var trials = await ReadTrialsAsync(second);
            Assert.All(trials, t => Assert.Equal("Completed", t.State));
            Assert.Equal(1, trials.Single(t => t.Id == running).Attempt);
            await AssertEveryEpochStoredOnceAsync(second, trials, Epochs);
        }, cleanUp: async () =>
        {
            if (!firstStopped)
            {
                await first.DisposeAsync();
            }
        });
    }

    private static string Study(int epochs) => $$"""
        { "name": "faults", "workload": "fashion-mnist-mlp",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 5 },
          "budget": { "trials": 2, "parallel": 1, "max_retries": 2 },
          "fixed": { "epochs": {{epochs}}, "train_samples": 300, "val_samples": 100 },
          "space": { "lr": { "type": "float", "low": 0.01, "high": 0.1, "scale": "log" },
                     "batch_size": { "type": "categorical", "choices": [32, 64] } } }
        """;

    /// <summary>The id of a running trial with at least one stored epoch: a fault now lands mid-study and mid-trial.</summary>
    private static async Task<long> WaitForRunningTrialWithEpochsAsync(RunningDashboard dashboard, long studyId)
    {
        var trials = await dashboard.WaitForTrialsAsync(studyId,
            t => t.EnumerateArray().Any(x => x.GetProperty("state").GetString() == "running" && x.GetProperty("epochs").GetArrayLength() >= 1),
            StudyTimeout);
        return trials.EnumerateArray().First(x => x.GetProperty("state").GetString() == "running").GetProperty("id").GetInt64();
    }

    private static Task WaitForStudyEndAsync(RunningDashboard dashboard, long studyId) =>
        dashboard.WaitForTrialsAsync(studyId,
            t => t.GetArrayLength() == 2 && t.EnumerateArray().All(x => x.GetProperty("state").GetString() is not ("running" or "queued")),
            StudyTimeout);

    private static async Task<bool> IsOnlineAsync(RunningDashboard dashboard) =>
        (await dashboard.GetJsonAsync("/api/agents")).EnumerateArray().Any(a => a.GetProperty("id").GetString() == AgentId && a.GetProperty("online").GetBoolean());

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }

    private static async Task<IReadOnlyList<StoredTrial>> ReadTrialsAsync(RunningDashboard dashboard)
    {
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT Id, State, Attempt, RunFromAttempt, LostRetries, Reason FROM trials ORDER BY Id";
        var trials = new List<StoredTrial>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            trials.Add(new StoredTrial(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return trials;
    }

    /// <summary>Each trial's run (its attempts from RunFromAttempt on) holds epochs 1..<paramref name="epochs"/> exactly once, and no attempt stored one epoch twice.</summary>
    private static async Task AssertEveryEpochStoredOnceAsync(RunningDashboard dashboard, IReadOnlyList<StoredTrial> trials, int epochs)
    {
        var points = await ReadEpochsAsync(dashboard);
        Assert.Equal(points.Count, points.Distinct().Count());
        foreach (var trial in trials)
        {
            var run = points.Where(p => p.Trial == trial.Id && p.Attempt >= trial.RunFromAttempt).Select(p => p.Epoch).Order().ToList();
            Assert.True(Enumerable.Range(1, epochs).SequenceEqual(run),
                $"trial {trial.Id} (attempt {trial.Attempt}, run from {trial.RunFromAttempt}) stored epochs [{string.Join(", ", run)}]; all stored (attempt, epoch): " +
                string.Join(" ", points.Where(p => p.Trial == trial.Id).Select(p => $"({p.Attempt},{p.Epoch})")));
        }
    }

    private static async Task<List<(long Trial, int Attempt, int Epoch)>> ReadEpochsAsync(RunningDashboard dashboard)
    {
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT TrialId, Attempt, Epoch FROM epoch_reports ORDER BY TrialId, Attempt, Seq";
        var points = new List<(long Trial, int Attempt, int Epoch)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            points.Add((reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2)));
        }

        return points;
    }

    /// <summary>Runs <paramref name="test"/>; a failure carries what the agent process logged, the story of the fault.</summary>
    private static async Task ExplainedByAgentAsync(AgentProcess agent, Func<Task> test, Func<Task>? cleanUp = null)
    {
        try
        {
            await test();
        }
        catch (Exception e)
        {
            throw new AgentLogException(e, agent);
        }
        finally
        {
            await (cleanUp?.Invoke() ?? Task.CompletedTask);
        }
    }

    private sealed record StoredTrial(long Id, string State, int Attempt, int RunFromAttempt, int LostRetries, string? Reason);

    /// <summary>A failure with the agent process's output attached.</summary>
    private sealed class AgentLogException(Exception inner, AgentProcess agent)
        : Exception($"{inner.Message}\n--- agent output ---\n{agent.Output}", inner);
}
