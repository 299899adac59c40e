using System.Diagnostics;
using System.Globalization;

namespace HyperTune.TestSupport;

/// <summary>
/// The real agent as a child process (dotnet HyperTune.Agent.dll from its build folder), configured through
/// environment variables, so a test can kill it with SIGKILL and start it again over the same spool and checkpoints.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly ProcessStartInfo _start;
    private readonly List<string> _output = [];
    private Process _process = null!;

    private AgentProcess(ProcessStartInfo start)
    {
        _start = start;
        Launch();
    }

    /// <summary>What the agent printed so far (stdout and stderr), for a failing test's message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The agent's build output next to this test's (same configuration and target framework).</summary>
    public static string AgentDll
    {
        get
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var (framework, configuration) = (output.Name, output.Parent!.Name);
            var root = output;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Directory.Build.props")))
            {
                root = root.Parent;
            }

            var dll = Path.Combine(root?.FullName ?? throw new DirectoryNotFoundException($"no Directory.Build.props above {output}"),
                "src", "Agent", "bin", configuration, framework, "HyperTune.Agent.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the agent first: {dll} does not exist", dll);
        }
    }

    /// <summary>
    /// Starts agent <paramref name="agentId"/> against <paramref name="dashboardGrpc"/> with one CPU slot, its spool and
    /// checkpoints under <paramref name="home"/>; <paramref name="extra"/> adds or overrides Agent:* keys.
    /// </summary>
    public static AgentProcess Start(Uri dashboardGrpc, string agentId, string home, IDictionary<string, string>? extra = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = home };
        start.ArgumentList.Add(AgentDll);
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

        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return new AgentProcess(start);
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the agent again with the same configuration (after <see cref="KillAsync"/>).</summary>
    public void Restart()
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException("the agent is still running: kill it first");
        }

        _process.Dispose();
        Keep("--- restarted ---");
        Launch();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Launch()
    {
        _process = Process.Start(_start) ?? throw new InvalidOperationException($"dotnet {AgentDll} did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} {line}"));
        }
    }
}
