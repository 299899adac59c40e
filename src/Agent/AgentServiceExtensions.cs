using HyperTune.Agent.Checkpoints;
using HyperTune.Agent.Hub;
using HyperTune.Agent.Slots;
using HyperTune.Agent.Telemetry;
using HyperTune.Agent.Terminal;
using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.Command;
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
        builder.Services.AddSingleton(new NvidiaSmi());
        builder.Services.AddSingleton<GpuProbe>();
        foreach (var (name, model) in new[]
        {
            (WorkloadCatalog.FashionMnistCnn, FashionMnistModel.Cnn),
            (WorkloadCatalog.FashionMnistMlp, FashionMnistModel.Mlp),
            (WorkloadCatalog.FashionMnistResNet, FashionMnistModel.ResNet),
        })
        {
            builder.Services.AddSingleton<ITrialWorkload>(sp => new FashionMnistWorkload(name, model,
                sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetRequiredService<TorchDevices>()));
        }
        return builder;
    }

    /// <summary>The commands Agent:Commands declares, and the registry of every workload by name.</summary>
    public static IHostApplicationBuilder AddCommandWorkloads(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IReadOnlyList<CommandWorkload>>(sp =>
        {
            var slots = sp.GetRequiredService<SlotLayout>();
            return [.. sp.GetRequiredService<IOptions<AgentOptions>>().Value.Commands.Select(c => new CommandWorkload(c.Key, c.Value, slots))];
        });
        builder.Services.AddSingleton(sp => new WorkloadRegistry(sp.GetServices<ITrialWorkload>(), sp.GetRequiredService<IReadOnlyList<CommandWorkload>>()));
        return builder;
    }

    /// <summary>The slots trials run in (and the GPUs and threads of each), the outbox that keeps their reports until acknowledged, and their logs.</summary>
    public static IHostApplicationBuilder AddTrialSlots(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => SlotLayout.FromOptions(sp.GetRequiredService<IOptions<AgentOptions>>()));
        builder.Services.AddSingleton(sp => new Outbox(Spool.Open(
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.SpoolDir, sp.GetRequiredService<ILoggerFactory>().CreateLogger<Spool>())));
        builder.Services.AddSingleton<TrialLogBuffer>();
        builder.Services.AddSingleton(sp => new CheckpointStore(sp.GetRequiredService<IOptions<AgentOptions>>().Value.CheckpointDir));
        builder.Services.AddSingleton<CheckpointClient>();
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
        builder.Services.AddSingleton<TelemetrySampler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TelemetrySampler>());
        builder.Services.AddSingleton<HubConnection>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HubConnection>());
        return builder;
    }

    /// <summary>What the agent shows: on a terminal a live status block under the log, else a plain progress line per trial every 30 s.</summary>
    public static IHostApplicationBuilder AddTrialConsole(this IHostApplicationBuilder builder)
    {
        if (!Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb")
        {
            // Before the console logger exists, which keeps the Console.Out of its creation: its lines then scroll above the block.
            var terminal = new StatusBlockWriter(Console.Out);
            Console.SetOut(terminal);
            builder.Services.AddSingleton(terminal);
        }

        builder.Services.AddHostedService<TrialConsole>();
        return builder;
    }
}
