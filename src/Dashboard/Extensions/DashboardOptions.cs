using System.ComponentModel.DataAnnotations;

namespace HyperTune.Dashboard.Extensions;

/// <summary>Configuration section "Dashboard": endpoints, storage and the agent token.</summary>
public sealed class DashboardOptions : IValidatableObject
{
    public const string Section = "Dashboard";

    /// <summary>Browser UI and REST API (HTTP/1.1). Default http://127.0.0.1:5080.</summary>
    [Required]
    public string WebUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Agent gRPC endpoint (HTTP/2 without TLS). Default http://127.0.0.1:5081.</summary>
    [Required]
    public string GrpcUrl { get; set; } = "http://127.0.0.1:5081";

    /// <summary>Folder for the SQLite file and the generated agent token. Default ./data.</summary>
    [Required]
    public string DataDir { get; set; } = "data";

    /// <summary>SQLite connection string; default "Data Source={DataDir}/hypertune.db".</summary>
    public string? Database { get; set; }

    /// <summary>The secret every agent presents; when unset, one is generated into AgentTokenFile.</summary>
    public string? AgentToken { get; set; }

    /// <summary>Where the generated agent token is kept; default {DataDir}/agent-token.</summary>
    public string? AgentTokenFile { get; set; }

    /// <summary>How long a disconnected agent's running trials wait for it before they are marked failed.</summary>
    [Range(1, 86_400)]
    public int AgentLostAfterSeconds { get; set; } = 30;

    public string DatabaseConnectionString =>
        Database ?? $"Data Source={Path.Combine(Path.GetFullPath(DataDir), "hypertune.db")}";

    public string TokenFilePath => AgentTokenFile ?? Path.Combine(Path.GetFullPath(DataDir), "agent-token");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (key, value) in new[] { (nameof(WebUrl), WebUrl), (nameof(GrpcUrl), GrpcUrl) })
        {
            if (!Endpoints.TryParse(value, out _))
            {
                yield return new ValidationResult($"{Section}:{key} must be an http URL with an IP address or localhost and a port, got \"{value}\"", [key]);
            }
        }

        if (AgentToken is { Length: < 16 })
        {
            yield return new ValidationResult($"{Section}:AgentToken must be at least 16 characters, got {AgentToken.Length}", [nameof(AgentToken)]);
        }
    }
}
