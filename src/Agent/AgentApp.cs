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
        builder.AddTorchWorkloads();
        builder.AddTrialSlots();
        builder.AddHubConnection();
        return builder.Build();
    }
}
