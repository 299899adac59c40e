using HyperTune.Dashboard.Data;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HyperTune.Dashboard.Security;

/// <summary>Sign-in for people: Identity users in the dashboard's database, a cookie for the browser, API tokens for REST.</summary>
public static class SecurityExtensions
{
    /// <summary>Chooses per request: a bearer token means the API token scheme, otherwise the sign-in cookie.</summary>
    public const string Scheme = "HyperTune";

    public const int MinPasswordLength = 12;
    public const int MaxFailedSignIns = 5;
    public static readonly TimeSpan LockoutTime = TimeSpan.FromMinutes(15);

    public static void AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = Scheme;
                o.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            .AddPolicyScheme(Scheme, "Cookie or API token", o => o.ForwardDefaultSelector = http =>
                ApiTokenAuthentication.HasBearer(http.Request) ? ApiTokenAuthentication.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.SchemeName, null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.AccessDeniedPath = "/login";
            o.Cookie.Name = "hypertune.auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.ExpireTimeSpan = TimeSpan.FromHours(12);
            o.SlidingExpiration = true;
        });

        // A role taken away or a password changed reaches open cookies within a minute (the security stamp).
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddIdentityCore<IdentityUser>(o =>
            {
                // Length over composition rules (NIST SP 800-63B): a long passphrase is allowed, "Password1!" is not.
                o.Password.RequiredLength = MinPasswordLength;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 5;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = MaxFailedSignIns;
                o.Lockout.DefaultLockoutTimeSpan = LockoutTime;
                o.User.RequireUniqueEmail = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<HyperTuneDbContext>()
            .AddSignInManager()
            .AddPasswordValidator<PasswordNotUserName>();

        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.Viewer, p => p.RequireRole(Roles.AtLeast(Roles.Viewer)))
            .AddPolicy(Roles.Operator, p => p.RequireRole(Roles.AtLeast(Roles.Operator)))
            .AddPolicy(Roles.Admin, p => p.RequireRole(Roles.AtLeast(Roles.Admin)))
            .AddPolicy(ApiRoleRequirement.Policy, p => p.RequireAuthenticatedUser().AddRequirements(new ApiRoleRequirement()));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResults>();

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, UserRevalidation>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<CircuitHandler, CircuitUser>());
        services.AddSingleton<UserAccess>();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<FirstAdminSetup>();
        services.AddSingleton<UserDirectory>();
    }

    /// <summary>Creates the roles a new or older database lacks, and the setup token while no user exists.</summary>
    public static void InitializeSecurity(this WebApplication app)
    {
        using (var scope = app.Services.CreateScope())
        {
            var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
            foreach (var role in Roles.All.Where(r => !roles.RoleExistsAsync(r).GetAwaiter().GetResult()))
            {
                roles.CreateAsync(new IdentityRole(role)).GetAwaiter().GetResult();
            }
        }

        app.Services.GetRequiredService<FirstAdminSetup>().InitializeAsync().GetAwaiter().GetResult();
    }

    /// <summary>Authentication, authorization, and the acting user for <see cref="UserAccess"/>; before antiforgery and the endpoints.</summary>
    public static void UseSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(async (context, next) =>
        {
            using (UserAccess.ActAs(context.User))
            {
                await next(context);
            }
        });
    }

    /// <summary>POST /logout (a form with an antiforgery token) signs out and goes back to the login page.</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", async (HttpContext context, IAntiforgery antiforgery, SignInManager<IdentityUser> signIn) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return Results.BadRequest(new AccessProblemDto("signing out needs the form's antiforgery token", null));
            }

            await signIn.SignOutAsync();
            return Results.LocalRedirect("/login");
        }).DisableAntiforgery();
    }

    /// <summary>A service failing with <see cref="AccessDeniedException"/> under /api becomes 403 with the role needed, like the policy's refusal.</summary>
    public static RouteGroupBuilder AnswerAccessDenied(this RouteGroupBuilder api) => api.AddEndpointFilter(async (context, next) =>
    {
        try
        {
            return await next(context);
        }
        catch (AccessDeniedException ex)
        {
            return Results.Json(new AccessProblemDto(ex.Message, ex.RequiredRole), statusCode: StatusCodes.Status403Forbidden);
        }
    });

    /// <summary>Refuses a password that contains the user name.</summary>
    private sealed class PasswordNotUserName : IPasswordValidator<IdentityUser>
    {
        public Task<IdentityResult> ValidateAsync(UserManager<IdentityUser> manager, IdentityUser user, string? password) =>
            Task.FromResult(password is not null && user.UserName is { Length: > 0 } name && password.Contains(name, StringComparison.OrdinalIgnoreCase)
                ? IdentityResult.Failed(new IdentityError { Code = "PasswordContainsUserName", Description = "The password must not contain the user name." })
                : IdentityResult.Success);
    }
}
