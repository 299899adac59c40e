namespace HyperTune.Dashboard.Data;

/// <summary>A per-agent token: only the SHA-256 of its secret is kept; the secret itself is shown once, at creation.</summary>
public sealed class AgentTokenRow
{
    public long Id { get; set; }

    /// <summary>The one agent id this token may connect as.</summary>
    public required string AgentId { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole token string.</summary>
    public required string Hash { get; set; }

    /// <summary>The token's first characters, enough to tell two tokens apart on the page without revealing them.</summary>
    public required string Hint { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
