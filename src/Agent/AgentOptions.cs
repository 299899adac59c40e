using System.ComponentModel.DataAnnotations;
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

    /// <summary>Longest wait between two connection attempts, in seconds. Default 30.</summary>
    public int ReconnectMaxSeconds { get; set; } = 30;

    /// <summary>Seconds between two heartbeats. Default 5.</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Trials run at once. Default: one per CUDA device, else 1.</summary>
    public int? Slots { get; set; }

    /// <summary>auto (CUDA when available), cpu or cuda. Default auto.</summary>
    public string Device { get; set; } = DeviceAuto;

    /// <summary>Folder with the Fashion-MNIST IDX files. Default /usr/share/datasets/fashion-mnist.</summary>
    public string DataDir { get; set; } = FashionMnistData.DefaultDirectory;

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

        if (Device is not (DeviceAuto or DeviceCpu or DeviceCuda))
        {
            yield return Error(nameof(Device), $"must be one of {DeviceAuto}, {DeviceCpu}, {DeviceCuda}, got \"{Device}\"");
        }

        if (string.IsNullOrWhiteSpace(DataDir))
        {
            yield return Error(nameof(DataDir), $"must not be empty, got \"{DataDir}\"");
        }
    }

    private static ValidationResult Error(string key, string message) => new($"{Section}:{key} {message}", [key]);
}
