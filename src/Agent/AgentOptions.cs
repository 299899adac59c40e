using System.ComponentModel.DataAnnotations;
using HyperTune.Agent.Hub;
using HyperTune.Agent.Workloads.Command;
using HyperTune.Agent.Workloads.FashionMnist;

namespace HyperTune.Agent;

/// <summary>Configuration section "Agent": who the agent is, where the dashboard is, how it trains.</summary>
public sealed class AgentOptions : IValidatableObject
{
    public const string Section = "Agent";
    public const string DeviceAuto = "auto";
    public const string DeviceCpu = "cpu";
    public const string DeviceCuda = "cuda";

    /// <summary>Name the dashboard knows this agent by. Default: the host name.</summary>
    public string Id { get; set; } = Environment.MachineName;

    /// <summary>The dashboard's gRPC endpoint (HTTP/2). Default http://127.0.0.1:5081.</summary>
    public string DashboardUrl { get; set; } = "http://127.0.0.1:5081";

    /// <summary>The bearer token; when unset, it is read from <see cref="TokenFile"/>.</summary>
    public string? Token { get; set; }

    /// <summary>File the dashboard writes its generated token into. Default data/agent-token (the dashboard's default, relative to the working folder).</summary>
    public string TokenFile { get; set; } = Path.Combine("data", "agent-token");

    /// <summary>PEM file of the certificate authorities that may sign an https dashboard's certificate, instead of the system's trust store. Default none.</summary>
    public string? CaFile { get; set; }

    /// <summary>SHA-256 thumbprint (hex; colons and spaces ignored) the https dashboard's certificate must have; when set it replaces the CA check. Default none.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>Longest wait between two connection attempts, in seconds. Default 30.</summary>
    public int ReconnectMaxSeconds { get; set; } = 30;

    /// <summary>Seconds between two heartbeats. Default 5.</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Trials run at once. Default: one per entry of <see cref="SlotGpus"/>, else one per visible GPU, else 1.</summary>
    public int? Slots { get; set; }

    /// <summary>CUDA_VISIBLE_DEVICES of each slot's commands, e.g. ["0", "1", "2,3"]. Default: slot N gets visible GPU N (modulo their number).</summary>
    public List<string>? SlotGpus { get; set; }

    /// <summary>External training commands by name; a study runs one as workload "command:&lt;name&gt;". Default none.</summary>
    public Dictionary<string, CommandOptions> Commands { get; set; } = new(StringComparer.Ordinal);

    /// <summary>auto (CUDA when available), cpu or cuda. Default auto.</summary>
    public string Device { get; set; } = DeviceAuto;

    /// <summary>Folder with the Fashion-MNIST IDX files. Default /usr/share/datasets/fashion-mnist.</summary>
    public string DataDir { get; set; } = FashionMnistData.DefaultDirectory;

    /// <summary>Folder of the checkpoints (the last and the best epoch of each trial). Default data/checkpoints.</summary>
    public string CheckpointDir { get; set; } = Path.Combine("data", "checkpoints");

    /// <summary>Folder of the spool: epoch reports and trial finishes kept on disk until the dashboard acknowledges them. Default data/spool.</summary>
    public string SpoolDir { get; set; } = Path.Combine("data", "spool");

    /// <summary>
    /// How long a shutdown waits for running trials to stop: long enough for a command to get SIGINT, then SIGTERM,
    /// then be killed (two of its grace periods), and at least 5 s for a built-in workload to end its batch.
    /// </summary>
    public TimeSpan ShutdownWait => TimeSpan.FromSeconds(Commands.Values.Select(c => 2 * c.StopGraceSeconds).DefaultIfEmpty(0).Max() + 5);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Id))
        {
            yield return Error(nameof(Id), $"must not be empty, got \"{Id}\"");
        }

        if (!Uri.TryCreate(DashboardUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            yield return Error(nameof(DashboardUrl), $"must be an absolute http or https URL, got \"{DashboardUrl}\"");
        }

        if (string.IsNullOrWhiteSpace(Token) && string.IsNullOrWhiteSpace(TokenFile))
        {
            yield return Error(nameof(Token), "or Agent:TokenFile must be set (the dashboard writes its token into {its DataDir}/agent-token)");
        }

        var https = url?.Scheme == Uri.UriSchemeHttps;
        if (CaFile is not null && !https || CertificateThumbprint is not null && !https)
        {
            yield return Error(CaFile is not null ? nameof(CaFile) : nameof(CertificateThumbprint), $"applies to an https Agent:DashboardUrl only, got \"{DashboardUrl}\"");
        }

        if (CaFile is not null && !File.Exists(CaFile))
        {
            yield return Error(nameof(CaFile), $"names a file that does not exist: \"{Path.GetFullPath(CaFile)}\"");
        }

        if (CertificateThumbprint is not null && DashboardCertificateCheck.NormalizeThumbprint(CertificateThumbprint) is null)
        {
            yield return Error(nameof(CertificateThumbprint), $"must be a SHA-256 thumbprint of 64 hex digits (colons and spaces allowed), got \"{CertificateThumbprint}\"");
        }

        if (ReconnectMaxSeconds is < 1 or > 3600)
        {
            yield return Error(nameof(ReconnectMaxSeconds), $"must be between 1 and 3600, got {ReconnectMaxSeconds}");
        }

        if (HeartbeatSeconds is < 1 or > 3600)
        {
            yield return Error(nameof(HeartbeatSeconds), $"must be between 1 and 3600, got {HeartbeatSeconds}");
        }

        if (Slots is < 1 or > 256)
        {
            yield return Error(nameof(Slots), $"must be between 1 and 256, got {Slots}");
        }

        if (SlotGpus is { } slotGpus)
        {
            for (var i = 0; i < slotGpus.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(slotGpus[i]) || slotGpus[i].Contains('=', StringComparison.Ordinal))
                {
                    yield return Error($"{nameof(SlotGpus)}:{i}", $"must be a GPU list such as \"0\" or \"2,3\", got \"{slotGpus[i]}\"");
                }
            }

            if (Slots is { } slots && slots != slotGpus.Count)
            {
                yield return Error(nameof(SlotGpus), $"must have one entry per slot (Agent:Slots is {slots}), got {slotGpus.Count}");
            }
        }

        foreach (var (name, command) in Commands)
        {
            foreach (var problem in command.Problems(name))
            {
                yield return new ValidationResult(problem, [$"{nameof(Commands)}:{name}"]);
            }
        }

        if (Device is not (DeviceAuto or DeviceCpu or DeviceCuda))
        {
            yield return Error(nameof(Device), $"must be one of {DeviceAuto}, {DeviceCpu}, {DeviceCuda}, got \"{Device}\"");
        }

        if (string.IsNullOrWhiteSpace(DataDir))
        {
            yield return Error(nameof(DataDir), $"must not be empty, got \"{DataDir}\"");
        }

        if (string.IsNullOrWhiteSpace(CheckpointDir))
        {
            yield return Error(nameof(CheckpointDir), $"must not be empty, got \"{CheckpointDir}\"");
        }

        if (string.IsNullOrWhiteSpace(SpoolDir))
        {
            yield return Error(nameof(SpoolDir), $"must not be empty, got \"{SpoolDir}\"");
        }
    }

    private static ValidationResult Error(string key, string message) => new($"{Section}:{key} {message}", [key]);
}
