using System.Globalization;
using System.Text.Json;
using HyperTune.TestSupport;

namespace HyperTune.Agent.Tests;

/// <summary>The real dashboard and the real agent running a declared command: /usr/bin/python3 on a script, over REST and gRPC.</summary>
public sealed class CommandEndToEndTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string Scripts = Path.Combine(AppContext.BaseDirectory, "Commands");

    [Fact]
    public async Task CommandStudy_ExampleScript_CompletesWithEveryEpochAndItsLog()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await RunningAgent.StartAsync(dashboard, extra: Command("example", "train_command.py"));

        var studyId = await dashboard.CreateStudyAsync(Study("command:example", """{ "epochs": 3 }""", trials: 2));
        var trials = await WaitForEndAsync(dashboard, studyId, 2);

        foreach (var trial in trials.EnumerateArray())
        {
            Assert.Equal("completed", trial.GetProperty("state").GetString());
            var lr = trial.GetProperty("params").GetProperty("lr").GetDouble();
            var epochs = trial.GetProperty("epochs").EnumerateArray().ToList();
            Assert.Equal([1, 2, 3], epochs.Select(e => e.GetProperty("epoch").GetInt32()));
            Assert.All(epochs, e => Assert.Equal(
                Math.Pow(Math.Log10(lr) + 2, 2) + (1.0 / e.GetProperty("epoch").GetInt32()),
                e.GetProperty("metrics").GetProperty("val_loss").GetDouble(), 12));
            var log = await LogLinesAsync(dashboard, trial, "training epoch 3");
            Assert.Contains("training epoch 1", log);
            Assert.Contains(log, l => l.StartsWith("{\"epoch\": 3, \"val_loss\":", StringComparison.Ordinal));
            Assert.Equal("[hypertune] exited with code 0", log[^1]);
        }
    }

    [Fact]
    public async Task CommandStudy_FakeScript_GetsParamsAsArgumentsAndEnvironmentAndReportsEpochs()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var config = Command("fake", "fake_train.py");
        config["Agent:Commands:fake:Arguments:1"] = "--declared";
        config["Agent:Commands:fake:Environment:EXTRA"] = "from the agent";
        await using var agent = await RunningAgent.StartAsync(dashboard, extra: config);

        var studyId = await dashboard.CreateStudyAsync(Study("command:fake", """{ "epochs": 2, "mode": "ok", "use_amp": true }"""));
        var trial = (await WaitForEndAsync(dashboard, studyId, 1))[0];

        Assert.Equal("completed", trial.GetProperty("state").GetString());
        var lr = trial.GetProperty("params").GetProperty("lr").GetDouble();
        var log = await LogLinesAsync(dashboard, trial, "[hypertune] exited with code 0");
        var argv = JsonSerializer.Deserialize<string[]>(log.Single(l => l.StartsWith("argv ", StringComparison.Ordinal))[5..])!;
        Assert.Equal(["--declared", "--epochs", "2", "--lr", lr.ToString("R", CultureInfo.InvariantCulture), "--mode", "ok", "--use_amp", "true"], argv);
        var env = JsonDocument.Parse(log.Single(l => l.StartsWith("env ", StringComparison.Ordinal))[4..]).RootElement;
        Assert.Equal(trial.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture), env.GetProperty("HYPERTUNE_TRIAL_ID").GetString());
        Assert.Equal("1", env.GetProperty("HYPERTUNE_ATTEMPT").GetString());
        Assert.Equal("", env.GetProperty("CUDA_VISIBLE_DEVICES").GetString());
        Assert.Equal(Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), env.GetProperty("OMP_NUM_THREADS").GetString());
        Assert.Equal("from the agent", env.GetProperty("EXTRA").GetString());

        // The script echoes lr from HYPERTUNE_PARAMS as a metric: the JSON variable carries the same value as the argument.
        var epochs = trial.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal([1, 2], epochs.Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.All(epochs, e => Assert.Equal(lr, e.GetProperty("metrics").GetProperty("lr").GetDouble()));
        Assert.Equal(0.5, epochs[1].GetProperty("metrics").GetProperty("val_loss").GetDouble());
        Assert.False(epochs[0].GetProperty("metrics").TryGetProperty("note", out _));

        Assert.Contains("a line on stderr", log);
        Assert.Contains("{this is not json", log);
        Assert.Contains(log, l => l.StartsWith("[hypertune] not an epoch report: the line starts with '{' but is not valid JSON", StringComparison.Ordinal));
        Assert.Contains("[hypertune] not an epoch report: a JSON line needs \"epoch\", an integer >= 1, got none", log);
        Assert.Contains("[hypertune] epoch 1: ignored fields that are not numbers: note=\"text\"", log);
    }

    [Fact]
    public async Task CommandStudy_ScriptExitsNonZero_FailsWithExitCodeAndLastStderrLine()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await RunningAgent.StartAsync(dashboard, extra: Command("fake", "fake_train.py"));

        var studyId = await dashboard.CreateStudyAsync(Study("command:fake", """{ "epochs": 1, "mode": "fail" }"""));
        var trial = (await WaitForEndAsync(dashboard, studyId, 1))[0];

        Assert.Equal("failed", trial.GetProperty("state").GetString());
        Assert.Equal("exited with code 7: CUDA out of memory (pretend)", trial.GetProperty("reason").GetString());
        Assert.Single(trial.GetProperty("epochs").EnumerateArray());
    }

    [Fact]
    public async Task CommandStudy_StopWhileRunning_SigintReachesScriptAndTrialEndsStopped()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await RunningAgent.StartAsync(dashboard, extra: Command("fake", "fake_train.py"));
        var studyId = await dashboard.CreateStudyAsync(Study("command:fake", """{ "epochs": 1, "mode": "hang" }"""));
        var running = (await dashboard.WaitForTrialsAsync(studyId, t => t.GetArrayLength() == 1 && t[0].GetProperty("state").GetString() == "running", Patience))[0];
        await LogLinesAsync(dashboard, running, "waiting for a stop");

        var (status, _) = await dashboard.PostAsync($"/api/trials/{running.GetProperty("id").GetInt64()}/stop", "");

        Assert.Equal(System.Net.HttpStatusCode.Accepted, status);
        var trial = (await WaitForEndAsync(dashboard, studyId, 1))[0];
        Assert.Equal("stopped", trial.GetProperty("state").GetString());
        var log = await LogLinesAsync(dashboard, trial, "got SIGINT, saving and exiting");
        Assert.Contains("[hypertune] stopping: sent SIGINT", log);
        Assert.DoesNotContain(log, l => l.Contains("SIGTERM", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CommandStudy_KillWhileRunning_KillsTheProcessTreeWithoutSigintAndTrialEndsStopped()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var config = Command("fake", "fake_train.py");

        // A grace long enough that a SIGINT, had one been sent, would be seen handled before any kill.
        config["Agent:Commands:fake:StopGraceSeconds"] = "60";
        await using var agent = await RunningAgent.StartAsync(dashboard, extra: config);
        var studyId = await dashboard.CreateStudyAsync(Study("command:fake", """{ "epochs": 1, "mode": "hang" }"""));
        var running = (await dashboard.WaitForTrialsAsync(studyId, t => t.GetArrayLength() == 1 && t[0].GetProperty("state").GetString() == "running", Patience))[0];
        await LogLinesAsync(dashboard, running, "waiting for a stop");

        var (status, requested) = await dashboard.PostAsync($"/api/trials/{running.GetProperty("id").GetInt64()}/kill", "");

        Assert.Equal(System.Net.HttpStatusCode.Accepted, status);
        Assert.Equal("kill", requested.GetProperty("command").GetProperty("command").GetString());
        var trial = (await WaitForEndAsync(dashboard, studyId, 1))[0];
        Assert.Equal(("stopped", "killed by admin"), (trial.GetProperty("state").GetString(), trial.GetProperty("reason").GetString()));
        Assert.Equal(("done", "killed"), (trial.GetProperty("command").GetProperty("delivery").GetString(), trial.GetProperty("command").GetProperty("label").GetString()));
        var log = await LogLinesAsync(dashboard, trial, "[hypertune] killed: killing the process tree");
        Assert.DoesNotContain(log, l => l.Contains("SIGINT", StringComparison.Ordinal) || l.Contains("SIGTERM", StringComparison.Ordinal));
    }

    private static Dictionary<string, string?> Command(string name, string script) => new()
    {
        [$"Agent:Commands:{name}:Executable"] = Python,
        [$"Agent:Commands:{name}:Arguments:0"] = Path.Combine(Scripts, script),
        [$"Agent:Commands:{name}:WorkingDirectory"] = Scripts,
        [$"Agent:Commands:{name}:StopGraceSeconds"] = "5",
    };

    private static string Study(string workload, string fixedJson, int trials = 1) => $$"""
        { "name": "command study", "workload": "{{workload}}",
          "objective": { "metric": "val_loss", "direction": "minimize" },
          "sampler": { "type": "random", "seed": 5 },
          "budget": { "trials": {{trials}}, "parallel": 1 },
          "fixed": {{fixedJson}},
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 0.1, "scale": "log" } } }
        """;

    private static Task<JsonElement> WaitForEndAsync(RunningDashboard dashboard, long studyId, int trials) =>
        dashboard.WaitForTrialsAsync(studyId, t => t.GetArrayLength() == trials
            && t.EnumerateArray().All(x => x.GetProperty("state").GetString() is "completed" or "failed" or "stopped"), Patience);

    /// <summary>The trial's log from GET /api/trials/{id}/log, once it holds <paramref name="awaited"/> (lines arrive in batches).</summary>
    private static async Task<List<string>> LogLinesAsync(RunningDashboard dashboard, JsonElement trial, string awaited)
    {
        var deadline = DateTime.UtcNow + Patience;
        List<string> lines;
        do
        {
            var log = await dashboard.GetJsonAsync($"/api/trials/{trial.GetProperty("id").GetInt64()}/log");
            lines = [.. log.GetProperty("lines").EnumerateArray().Select(l => l.GetString()!)];
            if (lines.Contains(awaited))
            {
                return lines;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"the log never showed \"{awaited}\"; last: {string.Join(" | ", lines)}");
    }
}
