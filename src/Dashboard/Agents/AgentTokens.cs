using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Live;

using HyperTune.Dashboard.Security;

namespace HyperTune.Dashboard.Agents;

/// <summary>Who called a gRPC method: an agent with its own token, or one presenting the shared token (<see cref="Token"/> null).</summary>
public sealed record AgentCaller(AgentTokenView? Token, CancellationToken Revoked)
{
    /// <summary>The key of the caller in <see cref="ServerCallContext.UserState"/>, where the token interceptor leaves it.</summary>
    public static readonly object Key = typeof(AgentCaller);

    public static AgentCaller Of(ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var caller) && caller is AgentCaller known
            ? known
            : throw new InvalidOperationException($"{context.Method} ran without the agent token interceptor");
}

/// <summary>A token just created: <see cref="Secret"/> exists only in this object and on the page that shows it once.</summary>
public sealed record IssuedAgentToken(AgentTokenView Token, string Secret);

/// <summary>
/// Per-agent tokens: created and revoked from the UI (every change goes through this class), checked on every gRPC call.
/// A token names the one agent id it may connect as; revoking it ends that agent's open stream at once. The shared token
/// (<see cref="AgentToken"/>: the generated file the local agent reads, or Dashboard:AgentToken) stays valid for agent ids
/// that have never been given a token of their own, unless Dashboard:AcceptSharedAgentToken is false.
/// </summary>
public sealed class AgentTokens(StudyStore store, AgentToken shared, DashboardOptions options, StudyEvents events, TimeProvider clock, UserAccess access, ILogger<AgentTokens> logger)
{
    /// <summary>Every per-agent token starts with this, so a leaked one is recognisable (and tellable from the shared token).</summary>
    public const string Prefix = "hta_";

    /// <summary>Characters of the secret after the prefix that the page shows to tell tokens apart.</summary>
    public const int HintLength = 6;

    public const int MaxAgentIdLength = 200;

    private readonly ConcurrentDictionary<long, CancellationTokenSource> revocations = new();

    /// <summary>Whether agents without a token of their own may connect with the shared token.</summary>
    public bool AcceptsSharedToken => options.AcceptSharedAgentToken;

    /// <summary>Where the shared token lives, for the page: the generated file, or null when it came from configuration.</summary>
    public string? SharedTokenFile => shared.FilePath;

    /// <summary>Creates a token for <paramref name="agentId"/>: 32 random bytes, of which only the SHA-256 is stored.</summary>
    public async Task<IssuedAgentToken> CreateAsync(string agentId, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Admin, "create agent tokens", ct);
        agentId = agentId.Trim();
        if (agentId.Length is 0 or > MaxAgentIdLength)
        {
            throw new ArgumentException($"agent id must be 1 to {MaxAgentIdLength} characters, got \"{agentId}\"", nameof(agentId));
        }

        var secret = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var token = await store.AddAgentTokenAsync(agentId, Hash(secret), secret[..(Prefix.Length + HintLength)], ct);
        logger.LogInformation("Created agent token {Hint}… (#{Id}) for agent {AgentId}", token.Hint, token.Id, agentId);
        events.Publish(new AgentsChanged());
        return new IssuedAgentToken(token, secret);
    }

    /// <summary>Revokes the token and ends every call made with it (the agent's stream at once); null when there is no such token.</summary>
    public async Task<AgentTokenView?> RevokeAsync(long id, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Admin, "revoke agent tokens", ct);
        var token = await store.RevokeAgentTokenAsync(id, ct);
        if (token is null)
        {
            return null;
        }

        logger.LogWarning("Revoked agent token {Hint}… (#{Id}) of agent {AgentId}: its open calls end now and it can no longer connect",
            token.Hint, token.Id, token.AgentId);
        await RevocationOf(id).CancelAsync();
        events.Publish(new AgentsChanged());
        return token;
    }

    public Task<IReadOnlyList<AgentTokenView>> ListAsync(CancellationToken ct = default) => store.ListAgentTokensAsync(ct);

    /// <summary>The caller the bearer token stands for, or null with the reason it is refused.</summary>
    public async Task<(AgentCaller? Caller, string? Refusal)> AuthenticateAsync(string? presented, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return (null, "missing bearer token: send 'authorization: Bearer <agent token>'");
        }

        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(shared.Value)))
        {
            return options.AcceptSharedAgentToken
                ? (new AgentCaller(null, CancellationToken.None), null)
                : (null, $"the shared agent token is switched off (Dashboard:{nameof(DashboardOptions.AcceptSharedAgentToken)} is false): create a token for this agent on the dashboard's Agents › Tokens page");
        }

        var token = presented.StartsWith(Prefix, StringComparison.Ordinal) ? await store.FindAgentTokenByHashAsync(Hash(presented), ct) : null;
        if (token is null)
        {
            return (null, "the agent token is not valid for this dashboard");
        }

        if (token.Revoked)
        {
            return (null, RevokedMessage(token));
        }

        var now = clock.GetUtcNow();
        await store.TouchAgentTokenAsync(token.Id, now, ct);
        return (new AgentCaller(token with { LastUsedAt = now }, RevocationOf(token.Id).Token), null);
    }

    /// <summary>Why <paramref name="caller"/> may not connect as <paramref name="agentId"/>; null when it may.</summary>
    public async Task<string?> RefusalAsync(AgentCaller caller, string agentId, CancellationToken ct)
    {
        if (caller.Token is { } token)
        {
            return token.AgentId == agentId
                ? null
                : $"agent token {token.Hint}… belongs to agent \"{token.AgentId}\"; it cannot connect as agent \"{agentId}\"";
        }

        return await store.AgentHasOwnTokenAsync(agentId, ct)
            ? $"agent \"{agentId}\" has been given a token of its own; the shared agent token cannot connect as it"
            : null;
    }

    /// <summary>Why the stream of a caller whose token was just revoked ended.</summary>
    public static string RevokedMessage(AgentTokenView token) =>
        $"agent token {token.Hint}… of agent \"{token.AgentId}\" was revoked{(token.RevokedAt is { } at ? " at " + at.ToString("u", CultureInfo.InvariantCulture) : "")}; create a new token for it on the dashboard's Agents › Tokens page";

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private CancellationTokenSource RevocationOf(long id) => revocations.GetOrAdd(id, _ => new CancellationTokenSource());
}
