using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using HyperTune.Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Security;

/// <summary>A token as its owner sees it in the list (never its secret).</summary>
public sealed record ApiTokenView(long Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt);

/// <summary>A token just created: <see cref="Secret"/> is shown this once and never stored.</summary>
public sealed record CreatedApiToken(ApiTokenView Token, string Secret);

/// <summary>The user a valid token stands for, with their role as stored now.</summary>
public sealed record ApiTokenOwner(long TokenId, string UserId, string UserName, string? Role);

/// <summary>
/// Personal API tokens for the REST API: "htk_" and 32 random bytes (base64url), kept as their SHA-256 only. A request
/// presenting one acts as its owner, with the owner's role; revoking deletes it, and the next request gets 401.
/// </summary>
public sealed class ApiTokens(IDbContextFactory<HyperTuneDbContext> dbs, UserAccess access, TimeProvider clock)
{
    public const string Prefix = "htk_";
    public const int MaxNameLength = 80;

    // Writing "last used" on every request would make each API read a database write.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Creates a token for the acting user, valid for <paramref name="validFor"/> (null: until revoked).</summary>
    public async Task<CreatedApiToken> CreateAsync(string name, TimeSpan? validFor, CancellationToken ct = default)
    {
        var userId = await ActingUserIdAsync("create API tokens", ct);
        name = name.Trim();
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new ArgumentException($"name must be 1 to {MaxNameLength} characters, got {name.Length}", nameof(name));
        }

        var secret = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var row = new ApiTokenRow
        {
            UserId = userId,
            Name = name,
            Hash = Hash(secret),
            Prefix = secret[..(Prefix.Length + 6)],
            CreatedAt = now,
            ExpiresAt = validFor is { } v ? now + v : null,
        };
        await using var db = await dbs.CreateDbContextAsync(ct);
        db.ApiTokens.Add(row);
        await db.SaveChangesAsync(ct);
        return new CreatedApiToken(View(row), secret);
    }

    /// <summary>The acting user's tokens, newest first.</summary>
    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(CancellationToken ct = default)
    {
        var userId = await ActingUserIdAsync("list API tokens", ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var rows = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.Id).ToListAsync(ct);
        return [.. rows.Select(View)];
    }

    /// <summary>Revokes one of the acting user's tokens; false when they have no token of that id.</summary>
    public async Task<bool> RevokeAsync(long tokenId, CancellationToken ct = default)
    {
        var userId = await ActingUserIdAsync("revoke API tokens", ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.ApiTokens.Where(t => t.Id == tokenId && t.UserId == userId).ExecuteDeleteAsync(ct) == 1;
    }

    /// <summary>The owner of a presented token, or why it is refused (unknown, revoked or expired).</summary>
    public async Task<(ApiTokenOwner? Owner, string? Problem)> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return (null, $"the bearer token is not a HyperTune API token (they start with {Prefix}; create one on the API tokens page)");
        }

        var hash = Hash(presented);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var found = await db.ApiTokens.Where(t => t.Hash == hash).Select(t => new { t.Id, t.UserId, t.User!.UserName, t.ExpiresAt, t.LastUsedAt }).SingleOrDefaultAsync(ct);
        var now = clock.GetUtcNow();
        if (found is null)
        {
            return (null, "the API token is not valid: it was revoked, or never existed");
        }

        if (found.ExpiresAt <= now)
        {
            return (null, $"the API token expired at {found.ExpiresAt:u}");
        }

        if (found.LastUsedAt is not { } last || now - last >= LastUsedResolution)
        {
            await db.ApiTokens.Where(t => t.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, (DateTimeOffset?)now), ct);
        }

        return (new ApiTokenOwner(found.Id, found.UserId, found.UserName ?? "", await access.RoleOfAsync(found.UserId, ct)), null);
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static ApiTokenView View(ApiTokenRow row) => new(row.Id, row.Name, row.Prefix, row.CreatedAt, row.ExpiresAt, row.LastUsedAt);

    // Any signed-in user manages their own tokens; a viewer's tokens read, an operator's change.
    private async Task<string> ActingUserIdAsync(string action, CancellationToken ct)
    {
        await access.DemandAsync(Roles.Viewer, action, ct);
        return UserAccess.Current!.FindFirstValue(ClaimTypes.NameIdentifier)!;
    }
}
