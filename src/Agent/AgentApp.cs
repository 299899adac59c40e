using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace HyperTune.Agent;

/// <summary>The agent host; tests and the bench build it in-process with configuration overrides.</summary>
public static class AgentApp
{
    public static IHost Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddAgentOptions();

        // The host must outwait the trials' own stop (HubConnection.StopAsync), or it cuts a command's SIGTERM short.
        // Read from configuration, not the validated options, so a bad option still fails where it is validated.
        var commands = new AgentOptions();
        try
        {
            builder.Configuration.GetSection(AgentOptions.Section).Bind(commands);
        }
        catch (InvalidOperationException)
        {
            // A value that does not bind is reported, naming its key, when the options are validated at start.
        }

        var wait = commands.ShutdownWait + TimeSpan.FromSeconds(5);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = wait > host.ShutdownTimeout ? wait : host.ShutdownTimeout);
        builder.AddTorchWorkloads();
        builder.AddCommandWorkloads();
        builder.AddTrialSlots();
        builder.AddHubConnection();
        builder.AddTrialConsole();
        return builder.Build();
    }
}
