using HyperTune.Agent;
using Microsoft.Extensions.Hosting;

namespace HyperTune.TestSupport;

/// <summary>The real agent, in-process, training real TorchSharp trials against a running dashboard.</summary>
public sealed class RunningAgent : IAsyncDisposable
{
    private readonly IHost host;

    private RunningAgent(IHost host) => this.host = host;

    public static async Task<RunningAgent> StartAsync(RunningDashboard dashboard, string agentId = "local-agent", int slots = 1)
    {
        var host = AgentApp.Build([], new Dictionary<string, string?>
        {
            ["Agent:Id"] = agentId,
            ["Agent:DashboardUrl"] = dashboard.GrpcUri.ToString(),
            ["Agent:Token"] = RunningDashboard.Token,
            ["Agent:Slots"] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent:Device"] = "cpu",
            ["Agent:ReconnectMaxSeconds"] = "2",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await host.StartAsync();
        return new RunningAgent(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();
    }
}
