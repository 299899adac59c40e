using HyperTune.Agent.Hub;
using HyperTune.Agent.Slots;
using HyperTune.Agent.Telemetry;
using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.Workloads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent;

/// <summary>The agent's parts, one registration method each; <see cref="AgentApp.Build"/> lists them.</summary>
public static class AgentServiceExtensions
{
    /// <summary>Binds section "Agent" and refuses to start on a bad value, naming the key and the value.</summary>
    public static IHostApplicationBuilder AddAgentOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>()
            .Bind(builder.Configuration.GetSection(AgentOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        return builder;
    }

    /// <summary>libtorch devices and threads, and the built-in Fashion-MNIST workloads.</summary>
    public static IHostApplicationBuilder AddTorchWorkloads(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TorchDevices>();
        builder.Services.AddSingleton<GpuProbe>();
        builder.Services.AddSingleton<ITrialWorkload>(sp => new FashionMnistWorkload(WorkloadCatalog.FashionMnistCnn, FashionMnistModel.Cnn,
            sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetRequiredService<TorchDevices>()));
        builder.Services.AddSingleton<ITrialWorkload>(sp => new FashionMnistWorkload(WorkloadCatalog.FashionMnistMlp, FashionMnistModel.Mlp,
            sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetRequiredService<TorchDevices>()));
        builder.Services.AddSingleton<WorkloadRegistry>();
        return builder;
    }

    /// <summary>The slots trials run in, and the outbox that keeps their reports until acknowledged.</summary>
    public static IHostApplicationBuilder AddTrialSlots(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Outbox>();
        builder.Services.AddSingleton(sp =>
        {
            sp.GetRequiredService<TorchDevices>().Configure();
            return ActivatorUtilities.CreateInstance<TrialSlots>(sp);
        });
        return builder;
    }

    /// <summary>The stream to the dashboard: dial out, Hello, heartbeats, commands, acks.</summary>
    public static IHostApplicationBuilder AddHubConnection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AgentTokenSource>();
        builder.Services.AddSingleton<HubConnection>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HubConnection>());
        return builder;
    }
}
