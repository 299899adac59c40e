using System.Security.Claims;

namespace HyperTune.Dashboard.Security;

/// <summary>The three roles; each allows all that the one before it allows. A user holds exactly one.</summary>
public static class Roles
{
    /// <summary>Sees everything; changes nothing.</summary>
    public const string Viewer = "viewer";

    /// <summary>Also creates studies and stops, kills, pauses, resumes, re-runs, clones, narrows and annotates trials.</summary>
    public const string Operator = "operator";

    /// <summary>Also manages users and their roles.</summary>
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [Viewer, Operator, Admin];

    public static bool IsRole(string? role) => role is not null && All.Contains(role);

    /// <summary>Whether <paramref name="held"/> (null: none) allows what <paramref name="needed"/> allows.</summary>
    public static bool Allows(string? held, string needed) => Rank(held) >= Rank(needed);

    /// <summary>The roles that allow <paramref name="needed"/>, for a policy's RequireRole.</summary>
    public static string[] AtLeast(string needed) => [.. All.Where(r => Allows(r, needed))];

    /// <summary>The highest of the roles given (a user should hold one), or null when none is a role.</summary>
    public static string? Highest(IEnumerable<string?> roles) => roles.Where(IsRole).MaxBy(Rank);

    /// <summary>The role the principal's claims give, or null when signed out or without a role.</summary>
    public static string? Of(ClaimsPrincipal? user) =>
        user?.Identity?.IsAuthenticated == true ? Highest(user.FindAll(ClaimTypes.Role).Select(c => c.Value)) : null;

    private static int Rank(string? role) => role switch
    {
        Viewer => 1,
        Operator => 2,
        Admin => 3,
        _ => 0,
    };
}
