using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Data;

/// <summary>A per-agent token as the fleet's token page shows it (never its secret, which is not stored).</summary>
public sealed record AgentTokenView(long Id, string AgentId, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public bool Revoked => RevokedAt is not null;
}

/// <summary>Per-agent tokens: stored as hashes, found by hash, revoked by id.</summary>
public sealed partial class StudyStore
{
    public async Task<AgentTokenView> AddAgentTokenAsync(string agentId, string hash, string hint, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = new AgentTokenRow { AgentId = agentId, Hash = hash, Hint = hint, CreatedAt = clock.GetUtcNow() };
        db.AgentTokens.Add(row);
        await db.SaveChangesAsync(ct);
        return ToView(row);
    }

    /// <summary>Newest first, revoked ones included (they show when and that they were revoked).</summary>
    public async Task<IReadOnlyList<AgentTokenView>> ListAgentTokensAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.AgentTokens.AsNoTracking().OrderByDescending(t => t.Id).ToListAsync(ct);
        return [.. rows.Select(ToView)];
    }

    public async Task<AgentTokenView?> FindAgentTokenByHashAsync(string hash, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.AgentTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash, ct);
        return row is null ? null : ToView(row);
    }

    /// <summary>True when the agent id has ever been given a token of its own (revoked or not).</summary>
    public async Task<bool> AgentHasOwnTokenAsync(string agentId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.AgentTokens.AnyAsync(t => t.AgentId == agentId, ct);
    }

    /// <summary>Marks the token revoked now; null when there is no such token, the unchanged view when it already was.</summary>
    public async Task<AgentTokenView?> RevokeAgentTokenAsync(long id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.AgentTokens.FirstOrDefaultAsync(t => t.Id == id, ct);
        if (row is null)
        {
            return null;
        }

        row.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return ToView(row);
    }

    public async Task TouchAgentTokenAsync(long id, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db.AgentTokens.Where(t => t.Id == id).ExecuteUpdateAsync(u => u.SetProperty(t => t.LastUsedAt, at), ct);
    }

    private static AgentTokenView ToView(AgentTokenRow row) => new(row.Id, row.AgentId, row.Hint, row.CreatedAt, row.LastUsedAt, row.RevokedAt);
}
