using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
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
public sealed class RunningDashboard : IAsyncDisposable
{
    public const string Token = "test-agent-token-0123456789abcdef";

    public const string SetupToken = "test-setup-token-0123456789abcdef";

    public const string AdminUser = "admin";

    /// <summary>The password of <see cref="AdminUser"/> and of every user made by <see cref="CreateUserAsync"/>.</summary>
    public const string Password = "correct horse battery staple";

    private RunningDashboard(WebApplication app, string dataDir)
    {
        App = app;
        DataDir = dataDir;
        var endpoints = app.Services.GetRequiredService<Endpoints>();
        WebUri = endpoints.WebUri;
        GrpcUri = endpoints.GrpcUri;
        Http = new HttpClient { BaseAddress = WebUri, Timeout = TimeSpan.FromSeconds(30) };
        Anonymous = new HttpClient { BaseAddress = WebUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    /// <summary>False keeps the data folder after disposal (a bench reusing a seeded database).</summary>
    public bool DeleteDataOnDispose { get; set; } = true;

    public string DatabasePath => Path.Combine(DataDir, "hypertune.db");

    public Uri WebUri { get; }

    public Uri GrpcUri { get; }

    /// <summary>The REST API as the admin (an API token); <see cref="Anonymous"/> for none.</summary>
    public HttpClient Http { get; }

    /// <summary>The REST API with no credentials.</summary>
    public HttpClient Anonymous { get; }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <param name="seedAdmin">False leaves the dashboard without a user, as at a first start (its setup token is <see cref="SetupToken"/>).</param>
    public static async Task<RunningDashboard> StartAsync(string? dataDir = null, IDictionary<string, string?>? extra = null, bool seedAdmin = true)
    {
        dataDir ??= Directory.CreateTempSubdirectory("hypertune-test-").FullName;
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

        var app = DashboardApp.Build([], settings);
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

            dashboard.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await dashboard.CreateApiTokenAsync(AdminUser));
        }

        return dashboard;
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

    /// <summary>Creates a study through the REST API and returns its id.</summary>
    public async Task<long> CreateStudyAsync(string specJson)
    {
        using var response = await Http.PostAsync("/api/studies", new StringContent(specJson, System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/studies answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    /// <summary>POSTs a JSON body (may be empty) and returns the status and the parsed answer (default when empty).</summary>
    public Task<(System.Net.HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body) => SendAsync(HttpMethod.Post, path, body);

    /// <summary>PUTs a JSON body and returns the status and the parsed answer (default when empty).</summary>
    public Task<(System.Net.HttpStatusCode Status, JsonElement Body)> PutAsync(string path, string body) => SendAsync(HttpMethod.Put, path, body);

    private async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>The first column of the first row of <paramref name="sql"/>, read from the dashboard's SQLite file on a read-only connection of its own.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<JsonElement> GetJsonAsync(string path) =>
        await Http.GetFromJsonAsync<JsonElement>(path, Json);

    /// <summary>Polls the REST API until <paramref name="condition"/> holds on the study's trials (tests only; the UI never polls).</summary>
    public async Task<JsonElement> WaitForTrialsAsync(long studyId, Func<JsonElement, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement trials;
        do
        {
            trials = await GetJsonAsync($"/api/studies/{studyId}/trials");
            if (condition(trials))
            {
                return trials;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"study {studyId} trials never met the condition within {timeout}; last: {trials}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Anonymous.Dispose();
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
