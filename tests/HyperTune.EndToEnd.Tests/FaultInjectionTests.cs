using System.Net;
using System.Text.RegularExpressions;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Security;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.EndToEnd.Tests;

/// <summary>
/// Faults injected into a real study: the dashboard in-process (real Kestrel on loopback, real SQLite file) or, where it
/// is killed, as a child process; agents as child processes training Fashion-MNIST subsets on the CPU; a TCP proxy
/// between them where the network is cut or the dashboard comes back on another port. Each test ends with the exact set
/// of stored epochs (every epoch of every trial's run once: none lost, none twice) and every trial's final state. The
/// dashboard runs with its default liveness settings.
/// </summary>
public sealed partial class FaultInjectionTests
{
    // Small enough to finish quickly on a busy CPU, long enough for a fault to land mid-trial.
    private const int Epochs = 4;
    private const int LongEpochs = 12;

    // A fault aimed at one trial (SIGKILL, SIGSTOP) must land while it still trains, on any machine: an epoch of 300
    // samples takes a few milliseconds on a fast CPU, so the victim gets enough of them that it cannot finish between
    // the moment the test sees its first epochs (stored, or logged through a pipe) and the signal.
    private const int KillEpochs = 150;
    private const string AgentId = "fault-agent";
    private const string SecondAgentId = "second-agent";

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
        var home = Home(dashboard.DataDir, AgentId);
        await using var agent = AgentProcess.Start(dashboard.GrpcUri, AgentId, home);
        await ExplainedByAsync([Log(agent)], async () =>
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
        var home = Home(dashboard.DataDir, AgentId);
        await using var agent = AgentProcess.Start(proxy.Uri, AgentId, home);
        await ExplainedByAsync([Log(agent)], async () =>
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
        var home = Home(dataDir, AgentId);
        await using var agent = AgentProcess.Start(proxy.Uri, AgentId, home);
        var firstStopped = false;
        await ExplainedByAsync([Log(agent)], async () =>
        {
            var studyId = await first.CreateStudyAsync(Study(Epochs));
            var running = await WaitForRunningTrialWithEpochsAsync(first, studyId);
            firstStopped = true;
            await first.DisposeAsync();
            await using var second = await RunningDashboard.StartAsync(dataDir, Liveness);
            proxy.Target = new IPEndPoint(IPAddress.Loopback, second.GrpcUri.Port);

            await AssertStudyEndsWithItsRunningTrialKeptAsync(second, studyId, running);
        }, cleanUp: async () =>
        {
            if (!firstStopped)
            {
                await first.DisposeAsync();
            }
        });
    }

    [Fact]
    public async Task DashboardKilledMidStudy_RestartedOverTheSameDatabase_AgentReattachesItsTrialAndEveryEpochIsStoredOnce()
    {
        var dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        var apiToken = await DashboardProcess.SeedAsync(dataDir);
        var first = await DashboardProcess.StartAsync(dataDir, apiToken, Liveness);
        DashboardProcess? second = null;
        await using var proxy = TcpProxy.Start(first.GrpcUri);
        var home = Home(dataDir, AgentId);
        await using var agent = AgentProcess.Start(proxy.Uri, AgentId, home);
        await ExplainedByAsync([Log(agent), ("first dashboard", () => first.Output), ("second dashboard", () => second?.Output ?? "")], async () =>
        {
            var studyId = await first.CreateStudyAsync(Study(Epochs));
            var running = await WaitForRunningTrialWithEpochsAsync(first, studyId);
            await first.KillAsync();
            second = await DashboardProcess.StartAsync(dataDir, apiToken, Liveness);
            proxy.Target = new IPEndPoint(IPAddress.Loopback, second.GrpcUri.Port);

            await AssertStudyEndsWithItsRunningTrialKeptAsync(second, studyId, running);
        }, cleanUp: async () =>
        {
            await first.DisposeAsync();
            await (second?.DisposeAsync() ?? ValueTask.CompletedTask);
            await agent.DisposeAsync();
            Directory.Delete(dataDir, recursive: true);
        });
    }

    [Fact]
    public async Task DatabaseLockedByAnotherWriterMidStudy_PastEveryTimeout_StreamEndsClearlyAndNothingIsLostOrStoredTwice()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: Liveness);
        await using var agent = AgentProcess.Start(dashboard.GrpcUri, AgentId, Home(dashboard.DataDir, AgentId));
        await ExplainedByAsync([Log(agent)], async () =>
        {
            var studyId = await dashboard.CreateStudyAsync(Study(LongEpochs));
            var running = await WaitForRunningTrialWithEpochsAsync(dashboard, studyId);
            await using (var holder = new SqliteConnection($"Data Source={dashboard.DatabasePath};Pooling=False"))
            {
                await holder.OpenAsync();
                await using var command = holder.CreateCommand();
                command.CommandText = "BEGIN EXCLUSIVE";
                await command.ExecuteNonQueryAsync();
                var trainedBefore = EpochsTrained(agent);

                // The agent trains on (a few epochs, or to the end of its trial) while the dashboard's writes wait: SQLite's
                // busy_timeout, retried up to the data provider's 30 s command timeout. Past those the write fails, and the
                // dashboard closes the agent's stream saying why.
                var trainedOn = await WaitUntilAsync(() => Task.FromResult(EpochsTrained(agent) >= trainedBefore + 3
                    || agent.Output.Contains($"Trial {running}/1 completed", StringComparison.Ordinal)), StudyTimeout);
                var told = await WaitUntilAsync(() => Task.FromResult(agent.Output.Contains("could not store the agent's messages", StringComparison.Ordinal)),
                    TimeSpan.FromMinutes(2));
                command.CommandText = "ROLLBACK";
                await command.ExecuteNonQueryAsync();
                Assert.True(trainedOn, "the agent trained no further while the database was locked");
                Assert.True(told, "the dashboard did not end the agent's stream, saying why, within 2 minutes of a lock that outlasts its 30 s of retries");
            }

            await WaitForStudyEndAsync(dashboard, studyId);

            var trials = await ReadTrialsAsync(dashboard);
            Assert.All(trials, t => Assert.Equal("Completed 1", $"{t.State} {t.Attempt}"));
            await AssertEveryEpochStoredOnceAsync(dashboard, trials, LongEpochs);
        });
    }

    [Fact]
    public async Task AgentsWithAWrongTokenOrWithoutTheirOwn_BesideALegitimateAgent_AreRefusedStoreNothingAndTheStudyEndsOnTheLegitimateOne()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: Liveness);
        using (UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser)))
        {
            await dashboard.App.Services.GetRequiredService<AgentTokens>().CreateAsync("owned-agent");
        }

        // A made-up per-agent token, and the shared token for an id that has been given a token of its own.
        await using var forger = AgentProcess.Start(dashboard.GrpcUri, "forger", Home(dashboard.DataDir, "forger"),
            new Dictionary<string, string> { ["Agent:Token"] = AgentTokens.Prefix + "made-up-0123456789abcdef0123456789abcdef" });
        await using var borrower = AgentProcess.Start(dashboard.GrpcUri, "owned-agent", Home(dashboard.DataDir, "borrower"));
        await using var agent = AgentProcess.Start(dashboard.GrpcUri, AgentId, Home(dashboard.DataDir, AgentId));
        await ExplainedByAsync([Log(agent), ("forger", () => forger.Output), ("borrower", () => borrower.Output)], async () =>
        {
            var forgerRefused = await forger.WaitForLineAsync("refused the agent token", StudyTimeout);
            var borrowerRefused = await borrower.WaitForLineAsync("refused the agent token", StudyTimeout);
            var studyId = await dashboard.CreateStudyAsync(Study(Epochs));

            await WaitForStudyEndAsync(dashboard, studyId);

            Assert.Contains("the agent token is not valid for this dashboard", forgerRefused, StringComparison.Ordinal);
            Assert.Contains("agent \"owned-agent\" has been given a token of its own", borrowerRefused, StringComparison.Ordinal);
            Assert.False(forger.HasExited || borrower.HasExited, "a refused agent exited instead of waiting for a valid token");
            var agents = (await dashboard.GetJsonAsync("/api/agents")).EnumerateArray().Select(a => a.GetProperty("id").GetString()).ToList();
            Assert.Equal(AgentId, Assert.Single(agents));
            var trials = await ReadTrialsAsync(dashboard);
            Assert.All(trials, t => Assert.Equal($"Completed 1 {AgentId}", $"{t.State} {t.Attempt} {t.AgentId}"));
            await AssertEveryEpochStoredOnceAsync(dashboard, trials, Epochs);
        });
    }

    [Fact]
    public async Task AgentTokenRevokedMidStream_RealProcess_StreamEndsItsTrialCompletesOnAnotherAgentAndNothingItSendsLaterIsStored()
    {
        // Only the revoked agent's grace is shortened: it can never come back, so waiting out the default 30 s proves nothing more.
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?>(Liveness) { ["Dashboard:AgentLostAfterSeconds"] = "3" });
        var admin = await dashboard.PrincipalAsync(RunningDashboard.AdminUser);
        var tokens = dashboard.App.Services.GetRequiredService<AgentTokens>();
        IssuedAgentToken issued;
        using (UserAccess.ActAs(admin))
        {
            issued = await tokens.CreateAsync("revoked-agent");
        }

        await using var doomed = AgentProcess.Start(dashboard.GrpcUri, "revoked-agent", Home(dashboard.DataDir, "revoked-agent"),
            new Dictionary<string, string> { ["Agent:Token"] = issued.Secret });
        // Frozen (SIGSTOP) the moment it says it trained its second epoch: on any machine the first is sent and the trial far from done.
        doomed.FreezeOnLine(" epoch 2:");
        AgentProcess? second = null;
        await ExplainedByAsync([("revoked agent", () => doomed.Output), ("second agent", () => second?.Output ?? "")], async () =>
        {
            var studyId = await dashboard.CreateStudyAsync(Study(KillEpochs));
            await doomed.WaitForLineAsync(" epoch 2:", StudyTimeout);
            var victim = await WaitForRunningTrialWithEpochsAsync(dashboard, studyId);
            using (UserAccess.ActAs(admin))
            {
                await tokens.RevokeAsync(issued.Token.Id);
            }

            var dropped = await WaitUntilAsync(async () => !await IsOnlineAsync(dashboard, "revoked-agent"), TimeSpan.FromSeconds(10));
            Assert.True(dropped, "the revoked agent was still connected 10 s after the revocation");
            var storedAtRevocation = (await ReadEpochsAsync(dashboard)).Where(p => p.Trial == victim).ToList();
            Assert.InRange(storedAtRevocation.Count, 1, KillEpochs - 1);
            doomed.Continue();
            second = AgentProcess.Start(dashboard.GrpcUri, SecondAgentId, Home(dashboard.DataDir, SecondAgentId));
            var refusedAgain = await doomed.WaitForLineAsync("refused the agent token", StudyTimeout);

            await WaitForStudyEndAsync(dashboard, studyId);

            Assert.Contains("was revoked", refusedAgain, StringComparison.Ordinal);
            Assert.Equal(storedAtRevocation, (await ReadEpochsAsync(dashboard)).Where(p => p.Trial == victim && p.Attempt == 1));
            var trials = await ReadTrialsAsync(dashboard);
            var rerun = trials.Single(t => t.Id == victim);
            Assert.Equal($"attempt 2, lost retries 1, on {SecondAgentId}", $"attempt {rerun.Attempt}, lost retries {rerun.LostRetries}, on {rerun.AgentId}");
            Assert.All(trials, t => Assert.Equal("Completed", t.State));
            await AssertEveryEpochStoredOnceAsync(dashboard, trials, KillEpochs);
        }, cleanUp: async () => await (second?.DisposeAsync() ?? ValueTask.CompletedTask));
    }

    [Fact]
    public async Task BrowserNotSignedIn_MidStudy_GetsTheLoginPageCannotStopATrialAndTheStudyEndsUntouched()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: Liveness);
        await using var agent = AgentProcess.Start(dashboard.GrpcUri, AgentId, Home(dashboard.DataDir, AgentId));
        await ExplainedByAsync([Log(agent)], async () =>
        {
            var studyId = await dashboard.CreateStudyAsync(Study(Epochs));
            var running = await WaitForRunningTrialWithEpochsAsync(dashboard, studyId);
            await using var browser = await Browser.LaunchAsync();

            await browser.Page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString());
            using var stop = await dashboard.Anonymous.PostAsync($"/api/trials/{running}/stop", null);

            Assert.True(browser.OnLoginPage, $"a browser that is not signed in was shown {browser.Page.Url}");
            Assert.Equal(0, await browser.Page.Locator("[data-testid=trials-table]").CountAsync());
            Assert.Equal(HttpStatusCode.Unauthorized, stop.StatusCode);
            await WaitForStudyEndAsync(dashboard, studyId);
            var trials = await ReadTrialsAsync(dashboard);
            Assert.All(trials, t => Assert.Equal("Completed 1", $"{t.State} {t.Attempt}"));
            await AssertEveryEpochStoredOnceAsync(dashboard, trials, Epochs);
        });
    }

    /// <summary>An agent's own folder (spool, checkpoints) inside the test's data folder.</summary>
    private static string Home(string dataDir, string agent) => Directory.CreateDirectory(Path.Combine(dataDir, "agent-home", agent)).FullName;

    /// <summary>Epochs the agent process says it finished (its log: "Trial 3/1 epoch 2: …"), of every trial.</summary>
    private static int EpochsTrained(AgentProcess agent) => EpochLine().Count(agent.Output);

    [GeneratedRegex(@"Trial \d+/\d+ epoch \d+:")]
    private static partial Regex EpochLine();

    /// <summary>After a dashboard restart: the study ends, every trial completed, the trial that was running kept its attempt (the agent re-attached it), every epoch stored once.</summary>
    private static async Task AssertStudyEndsWithItsRunningTrialKeptAsync(DashboardUnderTest dashboard, long studyId, long running)
    {
        await WaitForStudyEndAsync(dashboard, studyId);

        var trials = await ReadTrialsAsync(dashboard);
        Assert.All(trials, t => Assert.Equal("Completed", t.State));
        Assert.Equal(1, trials.Single(t => t.Id == running).Attempt);
        await AssertEveryEpochStoredOnceAsync(dashboard, trials, Epochs);
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
    private static async Task<long> WaitForRunningTrialWithEpochsAsync(DashboardUnderTest dashboard, long studyId)
    {
        var trials = await dashboard.WaitForTrialsAsync(studyId,
            t => t.EnumerateArray().Any(x => x.GetProperty("state").GetString() == "running" && x.GetProperty("epochs").GetArrayLength() >= 1),
            StudyTimeout);
        return trials.EnumerateArray().First(x => x.GetProperty("state").GetString() == "running").GetProperty("id").GetInt64();
    }

    private static Task WaitForStudyEndAsync(DashboardUnderTest dashboard, long studyId) =>
        dashboard.WaitForTrialsAsync(studyId,
            t => t.GetArrayLength() == 2 && t.EnumerateArray().All(x => x.GetProperty("state").GetString() is not ("running" or "queued")),
            StudyTimeout);

    private static async Task<bool> IsOnlineAsync(DashboardUnderTest dashboard, string agentId = AgentId) =>
        (await dashboard.GetJsonAsync("/api/agents")).EnumerateArray().Any(a => a.GetProperty("id").GetString() == agentId && a.GetProperty("online").GetBoolean());

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

    private static async Task<IReadOnlyList<StoredTrial>> ReadTrialsAsync(DashboardUnderTest dashboard)
    {
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT Id, State, Attempt, RunFromAttempt, LostRetries, Reason, AgentId FROM trials ORDER BY Id";
        var trials = new List<StoredTrial>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            trials.Add(new StoredTrial(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return trials;
    }

    /// <summary>Each trial's run (its attempts from RunFromAttempt on) holds epochs 1..<paramref name="epochs"/> exactly once, and no attempt stored one epoch twice.</summary>
    private static async Task AssertEveryEpochStoredOnceAsync(DashboardUnderTest dashboard, IReadOnlyList<StoredTrial> trials, int epochs)
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

    private static async Task<List<(long Trial, int Attempt, int Epoch)>> ReadEpochsAsync(DashboardUnderTest dashboard)
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

    /// <summary>Runs <paramref name="test"/>; a failure carries what the processes logged, the story of the fault.</summary>
    private static async Task ExplainedByAsync(IReadOnlyList<(string Name, Func<string> Output)> logs, Func<Task> test, Func<Task>? cleanUp = null)
    {
        try
        {
            await test();
        }
        catch (Exception e)
        {
            throw new ProcessLogException(e, string.Concat(logs.Select(l => $"\n--- {l.Name} output ---\n{l.Output()}")));
        }
        finally
        {
            await (cleanUp?.Invoke() ?? Task.CompletedTask);
        }
    }

    private static (string Name, Func<string> Output) Log(AgentProcess agent) => ("agent", () => agent.Output);

    private sealed record StoredTrial(long Id, string State, int Attempt, int RunFromAttempt, int LostRetries, string? Reason, string? AgentId);

    /// <summary>A failure with the output of the processes involved attached.</summary>
    private sealed class ProcessLogException(Exception inner, string logs) : Exception(inner.Message + logs, inner);
}
