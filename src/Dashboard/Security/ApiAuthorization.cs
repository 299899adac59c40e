using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace HyperTune.Dashboard.Security;

/// <summary>The REST API's rule: reading (GET, HEAD) needs the viewer role, anything else the operator role.</summary>
public sealed class ApiRoleRequirement : AuthorizationHandler<ApiRoleRequirement>, IAuthorizationRequirement
{
    public const string Policy = "api";

    /// <summary>The least role a request with this HTTP method needs.</summary>
    public static string Needed(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? Roles.Viewer : Roles.Operator;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiRoleRequirement requirement)
    {
        if (context.Resource is HttpContext http && context.User.Identity?.IsAuthenticated == true)
        {
            var needed = Needed(http.Request.Method);
            var held = Roles.Of(context.User);
            if (Roles.Allows(held, needed))
            {
                context.Succeed(requirement);
            }
            else
            {
                context.Fail(new AuthorizationFailureReason(this,
                    $"{http.Request.Method} {http.Request.Path} needs the {needed} role; {context.User.Identity.Name} has {held ?? "no role"}"));
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>A refusal of the REST API as JSON: who may, and how to authenticate.</summary>
public sealed record AccessProblemDto(string Detail, string? RequiredRole);

/// <summary>
/// Answers refused REST requests with 401 (not authenticated) or 403 (role too low) and a JSON body that says why, where
/// the default would redirect to the login page; pages keep the redirect.
/// </summary>
public sealed class ApiAuthorizationResults : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler fallback = new();

    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!IsApi(context.Request) || authorizeResult.Succeeded)
        {
            await fallback.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var needed = ApiRoleRequirement.Needed(context.Request.Method);
        if (authorizeResult.Challenged)
        {
            // The handler caches its result per request: this asks again for why, not the database.
            var failure = (await context.AuthenticateAsync()).Failure?.Message;
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsJsonAsync(new AccessProblemDto(
                failure ?? "authentication is required: send \"Authorization: Bearer <API token>\" (create one on the dashboard's API tokens page)", needed));
            return;
        }

        var reason = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? $"this needs the {needed} role";
        await WriteForbiddenAsync(context.Response, reason, needed);
    }

    public static Task WriteForbiddenAsync(HttpResponse response, string detail, string requiredRole)
    {
        response.StatusCode = StatusCodes.Status403Forbidden;
        return response.WriteAsJsonAsync(new AccessProblemDto(detail, requiredRole));
    }
}
