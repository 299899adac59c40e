using System.ComponentModel.DataAnnotations;

namespace HyperTune.Dashboard.Extensions;

/// <summary>Configuration section "Dashboard": endpoints, TLS, storage and the shared agent token.</summary>
public sealed class DashboardOptions : IValidatableObject
{
    public const string Section = "Dashboard";

    /// <summary>Browser UI and REST API (HTTP/1.1; https needs <see cref="CertificateFile"/>). Default http://127.0.0.1:5080.</summary>
    [Required]
    public string WebUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Agent gRPC endpoint (HTTP/2; https needs <see cref="CertificateFile"/>; with https it may equal <see cref="WebUrl"/>). Default http://127.0.0.1:5081.</summary>
    [Required]
    public string GrpcUrl { get; set; } = "http://127.0.0.1:5081";

    /// <summary>Folder for the SQLite file and the generated agent token. Default ./data.</summary>
    [Required]
    public string DataDir { get; set; } = "data";

    /// <summary>SQLite connection string; default "Data Source={DataDir}/hypertune.db".</summary>
    public string? Database { get; set; }

    /// <summary>The shared agent token; when unset, one is generated into AgentTokenFile.</summary>
    public string? AgentToken { get; set; }

    /// <summary>Where the generated agent token is kept; default {DataDir}/agent-token.</summary>
    public string? AgentTokenFile { get; set; }

    /// <summary>The one-time token that creates the first admin on /setup while no user exists; when unset, one is generated into SetupTokenFile and logged.</summary>
    public string? SetupToken { get; set; }

    /// <summary>Where a generated setup token is kept until the first admin exists; default {DataDir}/setup-token.</summary>
    public string? SetupTokenFile { get; set; }

    /// <summary>
    /// Whether an agent id that has never been given a token of its own may connect with the shared token (the local
    /// agent of start.sh does). Default true; false leaves per-agent tokens only.
    /// </summary>
    public bool AcceptSharedAgentToken { get; set; } = true;

    /// <summary>TLS certificate for the https endpoints: a PKCS#12 file (.pfx, .p12) or a PEM certificate. Default none.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>Password of the PKCS#12 file or of an encrypted PEM key. Default none.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM private key of a PEM <see cref="CertificateFile"/>; default: the key is in the certificate file itself.</summary>
    public string? CertificateKeyFile { get; set; }

    /// <summary>
    /// How long a disconnected agent's running trials wait for it to reconnect before they are re-queued (within the
    /// study's budget.max_retries) or fail. Default 30.
    /// </summary>
    [Range(1, 86_400)]
    public int AgentLostAfterSeconds { get; set; } = 30;

    /// <summary>
    /// An agent that sends nothing (heartbeats count) for this long is dead: its stream is closed. Default 15, three of
    /// the agent's 5-second heartbeats. The gRPC endpoint's HTTP/2 keepalive pings every third of it.
    /// </summary>
    [Range(2, 3_600)]
    public int AgentSilentAfterSeconds { get; set; } = 15;

    public string DatabaseConnectionString =>
        Database ?? $"Data Source={Path.Combine(Path.GetFullPath(DataDir), "hypertune.db")}";

    /// <summary>True when web and gRPC are configured on the same https address: one port serves both.</summary>
    public bool SharesOnePort => SameUrl && Endpoints.TryParse(WebUrl, out _, out var tls) && tls;

    private bool SameUrl => string.Equals(WebUrl.TrimEnd('/'), GrpcUrl.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    public string SetupTokenFilePath => SetupTokenFile ?? Path.Combine(Path.GetFullPath(DataDir), "setup-token");

    public string TokenFilePath => AgentTokenFile ?? Path.Combine(Path.GetFullPath(DataDir), "agent-token");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (key, value) in new[] { (nameof(WebUrl), WebUrl), (nameof(GrpcUrl), GrpcUrl) })
        {
            if (!Endpoints.TryParse(value, out _, out var tls))
            {
                yield return new ValidationResult($"{Section}:{key} must be an http or https URL with an IP address or localhost and a port, got \"{value}\"", [key]);
            }
            else if (tls && string.IsNullOrWhiteSpace(CertificateFile))
            {
                yield return new ValidationResult($"{Section}:{key} is https (\"{value}\"), which needs {Section}:{nameof(CertificateFile)}", [key]);
            }
        }

        if (SameUrl && !SharesOnePort && Endpoints.TryParse(WebUrl, out var shared, out _) && shared.Port != 0)
        {
            yield return new ValidationResult($"{Section}:{nameof(GrpcUrl)} may equal {Section}:{nameof(WebUrl)} only with https (plain HTTP cannot offer HTTP/1.1 and HTTP/2 on one port), got \"{GrpcUrl}\" for both", [nameof(GrpcUrl)]);
        }

        foreach (var (key, value) in new[] { (nameof(CertificateFile), CertificateFile), (nameof(CertificateKeyFile), CertificateKeyFile) })
        {
            if (value is not null && !File.Exists(value))
            {
                yield return new ValidationResult($"{Section}:{key} names a file that does not exist: \"{Path.GetFullPath(value)}\"", [key]);
            }
        }

        if (AgentToken is { Length: < 16 })
        {
            yield return new ValidationResult($"{Section}:AgentToken must be at least 16 characters, got {AgentToken.Length}", [nameof(AgentToken)]);
        }

        if (SetupToken is { Length: < 16 })
        {
            yield return new ValidationResult($"{Section}:SetupToken must be at least 16 characters, got {SetupToken.Length}", [nameof(SetupToken)]);
        }
    }
}
