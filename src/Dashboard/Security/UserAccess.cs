using System.Security.Claims;
using HyperTune.Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Security;

/// <summary>Thrown when the person acting lacks the role an action needs; the REST API answers it with 403.</summary>
public sealed class AccessDeniedException(string requiredRole, string message) : Exception(message)
{
    /// <summary>The least role that would have been allowed.</summary>
    public string RequiredRole { get; } = requiredRole;
}

/// <summary>
/// Who is acting, and whether they may: the services that change studies and trials ask it before they do.
/// A REST request acts as its authenticated user (set by <see cref="SecurityExtensions"/>), a Blazor circuit's event as
/// the circuit's user (set by <see cref="CircuitUser"/>). The role is read from the database at each check, so a role
/// an admin just took away stops working at once, even in a page opened before.
/// </summary>
public sealed class UserAccess(IDbContextFactory<HyperTuneDbContext> dbs, TimeProvider clock)
{
    private static readonly AsyncLocal<ClaimsPrincipal?> Acting = new();

    /// <summary>The person the current request or circuit event acts for; null outside of one (a background job).</summary>
    public static ClaimsPrincipal? Current => Acting.Value;

    /// <summary>Acts as <paramref name="user"/> until the returned scope is disposed (within this async flow only).</summary>
    public static IDisposable ActAs(ClaimsPrincipal? user)
    {
        var previous = Acting.Value;
        Acting.Value = user;
        return new Restore(previous);
    }

    /// <summary>Throws <see cref="AccessDeniedException"/> unless the acting user holds <paramref name="role"/> or a higher one.</summary>
    /// <param name="action">What they try, for the message: "stop trials".</param>
    public async Task DemandAsync(string role, string action, CancellationToken ct = default)
    {
        var user = Acting.Value;
        var id = user?.Identity?.IsAuthenticated == true ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;
        if (id is null)
        {
            throw new AccessDeniedException(role, $"signing in is needed to {action}");
        }

        var held = await RoleOfAsync(id, ct);
        if (!Roles.Allows(held, role))
        {
            throw new AccessDeniedException(role, $"{action} needs the {role} role; {user!.Identity!.Name} has {held ?? "no role (or is locked out)"}");
        }
    }

    /// <summary>The user's role as stored now; null when the user is gone or locked out.</summary>
    public async Task<string?> RoleOfAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.LockoutEnd }).SingleOrDefaultAsync(ct);
        if (user is null || user.LockoutEnd > clock.GetUtcNow())
        {
            return null;
        }

        var names = await db.UserRoles.Where(ur => ur.UserId == userId).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).ToListAsync(ct);
        return Roles.Highest(names);
    }

    private sealed class Restore(ClaimsPrincipal? previous) : IDisposable
    {
        public void Dispose() => Acting.Value = previous;
    }
}
