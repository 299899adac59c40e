using Microsoft.AspNetCore.Identity;

namespace HyperTune.Dashboard.Data;

/// <summary>A personal API token: only the SHA-256 of its secret is kept, so a stolen database lets no one in.</summary>
public sealed class ApiTokenRow
{
    public long Id { get; set; }

    public required string UserId { get; set; }

    public IdentityUser? User { get; set; }

    /// <summary>What the owner called it ("ci", "notebook"), to know which one to revoke.</summary>
    public required string Name { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole token string.</summary>
    public required string Hash { get; set; }

    /// <summary>The token's first characters, shown in lists so its owner recognises it.</summary>
    public required string Prefix { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }
}
