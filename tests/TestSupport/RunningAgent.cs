using HyperTune.Agent;
using Microsoft.Extensions.Hosting;

namespace HyperTune.TestSupport;

/// <summary>The real agent, in-process, training real TorchSharp trials against a running dashboard.</summary>
public sealed class RunningAgent : IAsyncDisposable
{
    private readonly IHost host;

    private RunningAgent(IHost host) => this.host = host;

    /// <summary>Starts the agent; <paramref name="extra"/> adds or overrides configuration keys (e.g. Agent:Commands:…).</summary>
    public static async Task<RunningAgent> StartAsync(RunningDashboard dashboard, string agentId = "local-agent", int slots = 1, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Agent:Id"] = agentId,
            ["Agent:DashboardUrl"] = dashboard.GrpcUri.ToString(),
            ["Agent:Token"] = RunningDashboard.Token,
            ["Agent:Slots"] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent:Device"] = "cpu",
            ["Agent:ReconnectMaxSeconds"] = "2",
            ["Agent:CheckpointDir"] = Path.Combine(dashboard.DataDir, "agent-checkpoints", agentId),
            ["Agent:SpoolDir"] = Path.Combine(dashboard.DataDir, "agent-spool", agentId),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = AgentApp.Build([], settings);
        await host.StartAsync();
        return new RunningAgent(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();
    }
}
