using System.Net.Http.Headers;
using System.Security.Claims;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.TestSupport;

/// <summary>
/// The real dashboard on 127.0.0.1 port 0 (web and gRPC) with its own SQLite file in a temporary folder. Unless told
/// not to, it creates the admin <see cref="AdminUser"/> through the real setup path (with the configured
/// <see cref="SetupToken"/>), and <see cref="Http"/> calls the REST API with that admin's API token.
/// </summary>
public sealed class RunningDashboard : DashboardUnderTest
{
    public const string Token = "test-agent-token-0123456789abcdef";

    public const string SetupToken = "test-setup-token-0123456789abcdef";

    public const string AdminUser = "admin";

    /// <summary>The password of <see cref="AdminUser"/> and of every user made by <see cref="CreateUserAsync"/>.</summary>
    public const string Password = "correct horse battery staple";

    private RunningDashboard(WebApplication app, string dataDir)
        : base(app.Services.GetRequiredService<Endpoints>().WebUri, app.Services.GetRequiredService<Endpoints>().GrpcUri, dataDir)
    {
        App = app;
    }

    public WebApplication App { get; }

    /// <summary>False keeps the data folder after disposal (a bench reusing a seeded database, a dashboard started again over it).</summary>
    public bool DeleteDataOnDispose { get; set; } = true;

    /// <summary>The admin's API token that <see cref="DashboardUnderTest.Http"/> sends; null without a seeded admin.</summary>
    public string? ApiToken { get; private set; }

    /// <param name="seedAdmin">False leaves the dashboard without a user, as at a first start (its setup token is <see cref="SetupToken"/>).</param>
    public static async Task<RunningDashboard> StartAsync(string? dataDir = null, IDictionary<string, string?>? extra = null, bool seedAdmin = true)
    {
        dataDir ??= Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        var app = DashboardApp.Build([], Settings(dataDir, extra));
        await app.StartAsync();
        var dashboard = new RunningDashboard(app, dataDir);
        if (seedAdmin)
        {
            // A dashboard restarted on the same folder already has its admin.
            var setup = app.Services.GetRequiredService<FirstAdminSetup>();
            if (setup.Pending && await setup.CreateAdminAsync(SetupToken, AdminUser, Password) is { Count: > 0 } problems)
            {
                throw new InvalidOperationException($"setup refused the test admin: {string.Join("; ", problems)}");
            }

            dashboard.ApiToken = await dashboard.CreateApiTokenAsync(AdminUser);
            dashboard.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", dashboard.ApiToken);
        }

        return dashboard;
    }

    /// <summary>
    /// The configuration of a test dashboard over <paramref name="dataDir"/>: loopback port 0 for web and gRPC, the
    /// agent token <see cref="Token"/>, the setup token <see cref="SetupToken"/>; <paramref name="extra"/> adds or overrides keys.
    /// </summary>
    public static Dictionary<string, string?> Settings(string dataDir, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dashboard:WebUrl"] = "http://127.0.0.1:0",
            ["Dashboard:GrpcUrl"] = "http://127.0.0.1:0",
            ["Dashboard:DataDir"] = dataDir,
            ["Dashboard:AgentToken"] = Token,
            // ScriptedAgent sends heartbeats only when a test asks; the fault-injection tests set the real window.
            ["Dashboard:AgentSilentAfterSeconds"] = "600",
            ["Dashboard:SetupToken"] = SetupToken,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:HyperTune"] = "Information",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Adds a user with <paramref name="role"/> and <see cref="Password"/> (as the admin, on the Users page's path) and returns a REST client with their API token.</summary>
    public async Task<HttpClient> CreateUserAsync(string name, string role)
    {
        using (UserAccess.ActAs(await PrincipalAsync(AdminUser)))
        {
            if (await App.Services.GetRequiredService<UserDirectory>().CreateAsync(name, Password, role) is { Count: > 0 } problems)
            {
                throw new InvalidOperationException($"could not add {name}: {string.Join("; ", problems)}");
            }
        }

        var client = new HttpClient { BaseAddress = WebUri, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await CreateApiTokenAsync(name));
        return client;
    }

    /// <summary>Creates an API token for the user, as that user would on the API tokens page, and returns its secret.</summary>
    public async Task<string> CreateApiTokenAsync(string userName, string tokenName = "tests")
    {
        using (UserAccess.ActAs(await PrincipalAsync(userName)))
        {
            return (await App.Services.GetRequiredService<ApiTokens>().CreateAsync(tokenName, validFor: null)).Secret;
        }
    }

    /// <summary>The signed-in principal of a user, as their cookie would carry it (roles included), to act as them in-process.</summary>
    public async Task<ClaimsPrincipal> PrincipalAsync(string userName)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        var user = await users.FindByNameAsync(userName) ?? throw new InvalidOperationException($"user {userName} does not exist");
        return await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<IdentityUser>>().CreateAsync(user);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!DeleteDataOnDispose)
        {
            return;
        }

        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying stream; the temp folder is cleaned by the OS.
        }
    }
}
