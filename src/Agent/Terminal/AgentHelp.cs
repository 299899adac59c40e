using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;

namespace HyperTune.Agent.Terminal;

/// <summary>
/// The agent's command line: every Agent:* configuration key is also an option (--Agent:Slots 2), read by .NET
/// configuration; System.CommandLine only answers --help and --version, so the agent exits before it connects.
/// </summary>
public static class AgentHelp
{
    private const string About = """
        HyperTune agent: trains the trials a HyperTune dashboard hands it and streams every epoch back over gRPC.

        Every option below is a configuration key. Set it on the command line (--Agent:Slots 2 or --Agent:Slots=2),
        in the environment (Agent__Slots=2) or in appsettings.json beside the program; the command line wins.
        Logging:LogLevel:Default (Debug, Information, Warning) sets how much the agent logs.
        """;

    /// <summary>What --help says of each key of <see cref="AgentOptions"/>; the default is the property's initial value unless given.</summary>
    public static IReadOnlyList<OptionHelp> Options { get; } =
    [
        new(nameof(AgentOptions.Id), "name", "Name the dashboard shows; a reconnecting agent with the same id takes over its running trials.", "the host name"),
        new(nameof(AgentOptions.DashboardUrl), "url", "The dashboard's gRPC endpoint (its Dashboard:GrpcUrl)."),
        new(nameof(AgentOptions.Token), "token", "This agent's token (the dashboard's Agent tokens page creates one per agent id), or the shared token; when unset it is read from Agent:TokenFile.", "none"),
        new(nameof(AgentOptions.TokenFile), "path", "File holding the token (the dashboard writes its shared token into its data folder); the agent waits until it exists."),
        new(nameof(AgentOptions.CaFile), "path", "PEM file of the CAs an https dashboard's certificate must chain to, instead of the system trust store.", "none"),
        new(nameof(AgentOptions.CertificateThumbprint), "sha256", "SHA-256 thumbprint (hex) the https dashboard's certificate must have; replaces the CA check (pins a self-signed certificate).", "none"),
        new(nameof(AgentOptions.Slots), "n", "Trials run at once; on a CPU machine the cores are split between slots.", "one per entry of SlotGpus, else one per visible GPU, else 1"),
        new(nameof(AgentOptions.SlotGpus), "list", "CUDA_VISIBLE_DEVICES of each slot's commands, one entry per slot (--Agent:SlotGpus:0 0 --Agent:SlotGpus:1 2,3).", "slot N gets visible GPU N"),
        new(nameof(AgentOptions.Commands), "name:key", "Training commands the dashboard may choose by name: --Agent:Commands:train:Executable /usr/bin/python3, with Arguments, WorkingDirectory, Environment, StopGraceSeconds (see the README).", "none"),
        new(nameof(AgentOptions.Device), "auto|cpu|cuda", "Where trials train: auto picks CUDA when TorchSharp sees a GPU; slot N uses cuda:N."),
        new(nameof(AgentOptions.DataDir), "path", "Folder with the Fashion-MNIST IDX files (apt-get install dataset-fashion-mnist)."),
        new(nameof(AgentOptions.CheckpointDir), "path", "Where built-in workloads keep each trial's last and best checkpoint, and where forks and resumes find them."),
        new(nameof(AgentOptions.SpoolDir), "path", "Where epoch reports and trial finishes wait (fsynced) until the dashboard acknowledges them; a restarted agent sends them first. One agent per folder."),
        new(nameof(AgentOptions.HeartbeatSeconds), "seconds", "Interval of the heartbeat, which carries the CPU, RAM and GPU telemetry the fleet page shows."),
        new(nameof(AgentOptions.ReconnectMaxSeconds), "seconds", "Longest wait between two attempts to reach the dashboard (exponential back-off with jitter)."),
    ];

    /// <summary>The command line as System.CommandLine sees it: an option per key, unknown tokens left to .NET configuration.</summary>
    public static RootCommand Command()
    {
        var root = new RootCommand(About) { TreatUnmatchedTokensAsErrors = false };
        var defaults = new AgentOptions();
        foreach (var option in Options)
        {
            root.Options.Add(new Option<string>($"--{AgentOptions.Section}:{option.Key}")
            {
                Description = $"{option.Meaning} Default: {option.Default ?? DefaultOf(defaults, option.Key)}.",
                HelpName = option.Value,
            });
        }

        return root;
    }

    /// <summary>Writes the help (or the version) and returns the exit code when <paramref name="args"/> ask for it; null when the agent should run.</summary>
    public static int? TryAnswer(string[] args, TextWriter output)
    {
        var parsed = Command().Parse(args);
        return parsed.Action is null or ParseErrorAction ? null : parsed.Invoke(new InvocationConfiguration { Output = output });
    }

    private static string DefaultOf(AgentOptions defaults, string key) =>
        Convert.ToString(typeof(AgentOptions).GetProperty(key)!.GetValue(defaults), CultureInfo.InvariantCulture) ?? "none";
}

/// <summary>One configuration key as --help shows it: its value's name, what it does, and its default when that is not the property's initial value.</summary>
public sealed record OptionHelp(string Key, string Value, string Meaning, string? Default = null);
