using HyperTune.Dashboard.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Security;

/// <summary>A user as the Users page lists them.</summary>
public sealed record UserSummary(string Id, string Name, string? Role, DateTimeOffset? LockedOutUntil, int ApiTokens);

/// <summary>What admins do on the Users page: add people, change their role, reset a password, unlock, delete. Only admins may.</summary>
public sealed class UserDirectory(IServiceScopeFactory scopes, UserAccess access, TimeProvider clock)
{
    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Admin, "list users", ct);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HyperTuneDbContext>();
        var users = await db.Users.AsNoTracking().OrderBy(u => u.UserName).Select(u => new { u.Id, u.UserName, u.LockoutEnd }).ToListAsync(ct);
        var roles = await db.UserRoles.Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name }).ToListAsync(ct);
        var tokens = await db.ApiTokens.GroupBy(t => t.UserId).Select(g => new { UserId = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.UserId, g => g.Count, ct);
        var now = clock.GetUtcNow();
        return [.. users.Select(u => new UserSummary(u.Id, u.UserName ?? "", Roles.Highest(roles.Where(r => r.UserId == u.Id).Select(r => r.Name)),
            u.LockoutEnd > now ? u.LockoutEnd : null, tokens.GetValueOrDefault(u.Id)))];
    }

    /// <summary>Adds a user with a first password (they should change it) and one role; answers the problems, none when done.</summary>
    public async Task<IReadOnlyList<string>> CreateAsync(string name, string password, string role, CancellationToken ct = default)
    {
        await access.DemandAsync(Roles.Admin, "add users", ct);
        if (!Roles.IsRole(role))
        {
            return [$"role must be one of {string.Join(", ", Roles.All)}, got \"{role}\""];
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        var user = new IdentityUser(name.Trim());
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return Problems(created);
        }

        return Problems(await users.AddToRoleAsync(user, role));
    }

    public async Task<IReadOnlyList<string>> SetRoleAsync(string userId, string role, CancellationToken ct = default)
    {
        if (!Roles.IsRole(role))
        {
            await access.DemandAsync(Roles.Admin, "change roles", ct);
            return [$"role must be one of {string.Join(", ", Roles.All)}, got \"{role}\""];
        }

        return await ChangeAsync(userId, "change roles", async (users, user) =>
        {
            var held = await users.GetRolesAsync(user);
            if (held.Contains(Roles.Admin) && role != Roles.Admin && await IsLastAdminAsync(users, user))
            {
                return [$"{user.UserName} is the only admin: make someone else admin first"];
            }

            var removed = await users.RemoveFromRolesAsync(user, held);
            if (!removed.Succeeded)
            {
                return Problems(removed);
            }

            // The new stamp signs their open pages and cookies out of the old role within a minute.
            return await ThenAsync(await users.AddToRoleAsync(user, role), () => users.UpdateSecurityStampAsync(user));
        }, ct);
    }

    /// <summary>Sets a new password (for someone who forgot theirs) and lifts a lockout; it ends their sessions.</summary>
    public Task<IReadOnlyList<string>> ResetPasswordAsync(string userId, string password, CancellationToken ct = default) =>
        ChangeAsync(userId, "reset passwords", async (users, user) =>
            await ThenAsync(await users.ResetPasswordAsync(user, await users.GeneratePasswordResetTokenAsync(user), password),
                () => users.SetLockoutEndDateAsync(user, null)), ct);

    /// <summary>Ends a lockout after too many failed sign-ins.</summary>
    public Task<IReadOnlyList<string>> UnlockAsync(string userId, CancellationToken ct = default) =>
        ChangeAsync(userId, "unlock users", async (users, user) =>
            await ThenAsync(await users.SetLockoutEndDateAsync(user, null), () => users.ResetAccessFailedCountAsync(user)), ct);

    /// <summary>Deletes a user and their API tokens; never the last admin.</summary>
    public Task<IReadOnlyList<string>> DeleteAsync(string userId, CancellationToken ct = default) =>
        ChangeAsync(userId, "delete users", async (users, user) =>
            await users.IsInRoleAsync(user, Roles.Admin) && await IsLastAdminAsync(users, user)
                ? [$"{user.UserName} is the only admin: make someone else admin first"]
                : Problems(await users.DeleteAsync(user)), ct);

    private static async Task<bool> IsLastAdminAsync(UserManager<IdentityUser> users, IdentityUser user) =>
        (await users.GetUsersInRoleAsync(Roles.Admin)).All(u => u.Id == user.Id);

    // Each change in a scope of its own: a page's long-lived one would hand out rows as they were when it opened.
    private async Task<IReadOnlyList<string>> ChangeAsync(string userId, string action,
        Func<UserManager<IdentityUser>, IdentityUser, Task<IReadOnlyList<string>>> change, CancellationToken ct)
    {
        await access.DemandAsync(Roles.Admin, action, ct);
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        return await users.FindByIdAsync(userId) is { } user ? await change(users, user) : [$"user {userId} does not exist"];
    }

    private static async Task<IReadOnlyList<string>> ThenAsync(IdentityResult first, Func<Task<IdentityResult>> next) =>
        first.Succeeded ? Problems(await next()) : Problems(first);

    private static IReadOnlyList<string> Problems(IdentityResult result) => [.. result.Errors.Select(e => e.Description)];
}
