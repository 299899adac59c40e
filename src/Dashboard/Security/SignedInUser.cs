using System.Security.Claims;

namespace HyperTune.Dashboard.Security;

/// <summary>
/// The signed-in person as the pages see them: controls that the server would refuse for their role are disabled, with
/// <see cref="WhyNot"/> as the tooltip. The layout cascades one to every component.
/// </summary>
public sealed record SignedInUser(string? Id, string Name, string? Role)
{
    /// <summary>Nobody signed in (or a component rendered outside the layout): every control that changes something is off.</summary>
    public static SignedInUser Nobody { get; } = new(null, "", null);

    public bool IsAdmin => Roles.Allows(Role, Roles.Admin);

    public static SignedInUser From(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true
        ? new SignedInUser(user.FindFirstValue(ClaimTypes.NameIdentifier), user.Identity.Name ?? "", Roles.Of(user))
        : Nobody;

    /// <summary>Why this person cannot <paramref name="action"/> ("stop trials"), or null when their role allows it.</summary>
    public string? WhyNot(string action, string needed = Roles.Operator) => Roles.Allows(Role, needed)
        ? null
        : Id is null
            ? $"Sign in to {action}"
            : $"Only {string.Join(" or ", Roles.AtLeast(needed))} users can {action}; you are {Role ?? "without a role"}. An admin can change your role on the Users page.";
}
