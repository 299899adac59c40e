using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HyperTune.Dashboard.Security;

/// <summary>Authenticates "Authorization: Bearer htk_…" as the token's owner, with the owner's role as stored now.</summary>
public sealed class ApiTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    /// <summary>Claim holding the id of the token a request came with.</summary>
    public const string TokenIdClaim = "hypertune:api_token";

    /// <summary>Whether the request carries a bearer token (then this scheme, not the cookie, decides who it is).</summary>
    public static bool HasBearer(HttpRequest request) => BearerOf(request) is not null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // Agents' gRPC calls carry the agent token as a bearer too: not ours to judge (nor to log).
        if (BearerOf(Request) is not { } presented || !presented.StartsWith(ApiTokens.Prefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }

        var (owner, problem) = await tokens.AuthenticateAsync(presented, Context.RequestAborted);
        if (owner is null)
        {
            return AuthenticateResult.Fail(problem!);
        }

        var identity = new ClaimsIdentity(SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, owner.UserId));
        identity.AddClaim(new Claim(ClaimTypes.Name, owner.UserName));
        identity.AddClaim(new Claim(TokenIdClaim, owner.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (owner.Role is { } role)
        {
            identity.AddClaim(new Claim(ClaimTypes.Role, role));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private static string? BearerOf(HttpRequest request)
    {
        const string prefix = "Bearer ";
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? header[prefix.Length..].Trim() : null;
    }
}
