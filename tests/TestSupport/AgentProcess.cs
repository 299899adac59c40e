namespace HyperTune.TestSupport;

/// <summary>
/// The real agent as a child process (dotnet HyperTune.Agent.dll from its build folder), configured through
/// environment variables, so a test can kill it with SIGKILL and start it again over the same spool and checkpoints.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private AgentProcess(ChildProcess process) => _process = process;

    /// <summary>What the agent printed so far (stdout and stderr), for a failing test's message.</summary>
    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    /// <summary>The agent's build output next to this test's (same configuration and target framework).</summary>
    public static string AgentDll => ChildProcess.BuiltDll("Agent", "HyperTune.Agent.dll");

    /// <summary>
    /// Starts agent <paramref name="agentId"/> against <paramref name="dashboardGrpc"/> with one CPU slot, its spool and
    /// checkpoints under <paramref name="home"/>; <paramref name="extra"/> adds or overrides Agent:* keys.
    /// </summary>
    public static AgentProcess Start(Uri dashboardGrpc, string agentId, string home, IDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Agent:Id"] = agentId,
            ["Agent:DashboardUrl"] = dashboardGrpc.ToString(),
            ["Agent:Token"] = RunningDashboard.Token,
            ["Agent:Slots"] = "1",
            ["Agent:Device"] = "cpu",
            ["Agent:ReconnectMaxSeconds"] = "2",
            ["Agent:CheckpointDir"] = Path.Combine(home, "checkpoints"),
            ["Agent:SpoolDir"] = Path.Combine(home, "spool"),
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:HyperTune"] = "Information",
            ["Logging:Console:FormatterName"] = "simple",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var environment = settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        return new AgentProcess(ChildProcess.Start(AgentDll, home, environment: environment));
    }

    /// <summary>The first line the agent prints (from now on, or already) that contains <paramref name="text"/>.</summary>
    public Task<string> WaitForLineAsync(string text, TimeSpan timeout) =>
        _process.WaitForLineAsync(line => line.Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>Freezes the agent (SIGSTOP) the moment it prints a line containing <paramref name="text"/>; <see cref="Continue"/> lets it carry on.</summary>
    public void FreezeOnLine(string text) => _process.OnFirstLine(line => line.Contains(text, StringComparison.Ordinal), _process.Freeze);

    /// <summary>SIGCONT after <see cref="FreezeOnLine"/>.</summary>
    public void Continue() => _process.Continue();

    /// <summary>SIGKILL, as a crash or the OOM killer would: no shutdown code runs.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Starts the agent again with the same configuration (after <see cref="KillAsync"/>).</summary>
    public void Restart() => _process.Restart();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
