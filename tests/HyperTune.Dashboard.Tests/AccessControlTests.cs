using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Security;
using HyperTune.Dashboard.Trials;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

/// <summary>Who may do what: REST credentials and roles, the services' own checks, setup, API tokens, sign-in and lockout.</summary>
public sealed partial class AccessControlTests
{
    [Fact]
    public async Task GetStudies_NoCredentials_Answers401SayingHowToAuthenticate()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        using var response = await dashboard.Anonymous.GetAsync("/api/studies");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("Authorization: Bearer", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("viewer", body.GetProperty("requiredRole").GetString());
    }

    [Fact]
    public async Task GetStudies_AgentTokenAsBearer_Answers401()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/studies");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RunningDashboard.Token);

        using var response = await dashboard.Anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task StopTrial_ViewerToken_Answers403NamingTheOperatorRoleAndLeavesTheTrialRunning()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await RunningExternalTrialAsync(dashboard);
        using var viewer = await dashboard.CreateUserAsync("vera", Roles.Viewer);

        using var read = await viewer.GetAsync($"/api/studies/{studyId}/trials");
        using var stop = await viewer.PostAsync($"/api/trials/{trialId}/stop", null);
        var body = JsonDocument.Parse(await stop.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, stop.StatusCode);
        Assert.Equal("operator", body.GetProperty("requiredRole").GetString());
        Assert.Contains("vera has viewer", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("running", await TrialStateAsync(dashboard, studyId));
    }

    [Fact]
    public async Task TrialControlStop_ActingAsViewer_RefusesAndLeavesTheTrialRunning()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await RunningExternalTrialAsync(dashboard);
        (await dashboard.CreateUserAsync("vera", Roles.Viewer)).Dispose();
        var control = dashboard.App.Services.GetRequiredService<TrialControl>();

        AccessDeniedException refused;
        using (UserAccess.ActAs(await dashboard.PrincipalAsync("vera")))
        {
            refused = await Assert.ThrowsAsync<AccessDeniedException>(() => control.StopAsync(trialId));
        }

        var nobody = await Assert.ThrowsAsync<AccessDeniedException>(() => control.StopAsync(trialId));

        Assert.Equal(Roles.Operator, refused.RequiredRole);
        Assert.Equal("stop trials needs the operator role; vera has viewer", refused.Message);
        Assert.Equal("signing in is needed to stop trials", nobody.Message);
        Assert.Equal("running", await TrialStateAsync(dashboard, studyId));
    }

    [Fact]
    public async Task StopTrial_OperatorDemotedToViewer_IsRefusedAtOnce()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await RunningExternalTrialAsync(dashboard);
        using var olga = await dashboard.CreateUserAsync("olga", Roles.Operator);
        var olgaId = (await dashboard.PrincipalAsync("olga")).FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;

        using (UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser)))
        {
            Assert.Empty(await dashboard.App.Services.GetRequiredService<UserDirectory>().SetRoleAsync(olgaId, Roles.Viewer));
        }

        using var stop = await olga.PostAsync($"/api/trials/{trialId}/stop", null);

        Assert.Equal(HttpStatusCode.Forbidden, stop.StatusCode);
        Assert.Equal("running", await TrialStateAsync(dashboard, studyId));
    }

    [Fact]
    public async Task SetupPage_RightToken_CreatesTheAdminOnceThenTheTokenStopsWorking()
    {
        await using var dashboard = await RunningDashboard.StartAsync(seedAdmin: false);
        using var first = new FormVisitor(dashboard.WebUri);
        using var second = new FormVisitor(dashboard.WebUri);

        var openedMeanwhile = await second.OpenFormAsync("/setup");
        using var wrong = await first.SubmitAsync("/setup", SetupFields("not-the-setup-token-at-all", "root"));
        var wrongPage = await wrong.Content.ReadAsStringAsync();
        using var right = await first.SubmitAsync("/setup", SetupFields(RunningDashboard.SetupToken, "root"));
        using var again = await second.PostAsync("/setup", openedMeanwhile, SetupFields(RunningDashboard.SetupToken, "intruder"));
        var againPage = await again.Content.ReadAsStringAsync();

        Assert.Contains("The setup token is wrong", wrongPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/", right.Headers.Location?.AbsolutePath);
        Assert.Contains("Setup is done", againPage, StringComparison.Ordinal);
        var users = dashboard.App.Services.GetRequiredService<IDbContextFactory<HyperTuneDbContext>>();
        await using var db = await users.CreateDbContextAsync();
        Assert.Equal(["root"], await db.Users.Select(u => u.UserName!).ToListAsync());
        Assert.False(dashboard.App.Services.GetRequiredService<FirstAdminSetup>().Pending);
    }

    [Fact]
    public async Task Start_NoUserAndNoConfiguredToken_WritesAOneTimeTokenFileThatSetupDeletes()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:SetupToken"] = null }, seedAdmin: false);
        var file = Path.Combine(dashboard.DataDir, "setup-token");
        var token = (await File.ReadAllTextAsync(file)).Trim();
        var setup = dashboard.App.Services.GetRequiredService<FirstAdminSetup>();

        var problems = await setup.CreateAdminAsync(token, "root", RunningDashboard.Password);

        Assert.Equal(32, token.Length);
        Assert.Empty(problems);
        Assert.False(File.Exists(file));
        Assert.Equal(["Setup is done: the first admin exists. Sign in instead."], await setup.CreateAdminAsync(token, "other", RunningDashboard.Password));
    }

    [Fact]
    public async Task ApiToken_Revoked_Answers401SayingSo()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var olga = await dashboard.CreateUserAsync("olga", Roles.Operator);
        var tokens = dashboard.App.Services.GetRequiredService<ApiTokens>();

        using var before = await olga.GetAsync("/api/studies");
        using (UserAccess.ActAs(await dashboard.PrincipalAsync("olga")))
        {
            var token = Assert.Single(await tokens.ListAsync());
            Assert.True(await tokens.RevokeAsync(token.Id));
        }

        using var after = await olga.GetAsync("/api/studies");
        var body = JsonDocument.Parse(await after.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("the API token is not valid: it was revoked, or never existed", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ApiTokens_StoredOnlyAsTheirHash()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var secret = await dashboard.CreateApiTokenAsync(RunningDashboard.AdminUser, "ci");

        await using var db = await dashboard.App.Services.GetRequiredService<IDbContextFactory<HyperTuneDbContext>>().CreateDbContextAsync();
        var row = await db.ApiTokens.SingleAsync(t => t.Name == "ci");

        Assert.StartsWith(ApiTokens.Prefix, secret, StringComparison.Ordinal);
        Assert.Equal(ApiTokens.Hash(secret), row.Hash);
        Assert.DoesNotContain(secret[ApiTokens.Prefix.Length..], row.Hash + row.Prefix + row.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginPage_FiveWrongPasswords_LocksTheUserOutUntilAnAdminUnlocks()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        (await dashboard.CreateUserAsync("olga", Roles.Operator)).Dispose();
        using var visitor = new FormVisitor(dashboard.WebUri);

        var wrong = new List<string>();
        for (var i = 0; i < SecurityExtensions.MaxFailedSignIns; i++)
        {
            using var attempt = await visitor.SubmitAsync("/login", LoginFields("olga", "not her password at all"));
            wrong.Add(await attempt.Content.ReadAsStringAsync());
        }

        using var locked = await visitor.SubmitAsync("/login", LoginFields("olga", RunningDashboard.Password));
        var lockedPage = await locked.Content.ReadAsStringAsync();
        using (UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser)))
        {
            var olga = (await dashboard.App.Services.GetRequiredService<UserDirectory>().ListAsync()).Single(u => u.Name == "olga");
            Assert.NotNull(olga.LockedOutUntil);
            Assert.Empty(await dashboard.App.Services.GetRequiredService<UserDirectory>().UnlockAsync(olga.Id));
        }

        using var unlocked = await visitor.SubmitAsync("/login", LoginFields("olga", RunningDashboard.Password));

        // The fifth failure is the one that locks.
        Assert.All(wrong[..^1], page => Assert.Contains("Wrong user name or password.", page, StringComparison.Ordinal));
        Assert.Contains("locked out after 5 failed sign-ins", wrong[^1], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        Assert.Contains("locked out after 5 failed sign-ins", lockedPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, unlocked.StatusCode);
    }

    [Fact]
    public async Task LoginPage_PostWithoutAntiforgeryToken_IsRefused()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        using var response = await dashboard.Anonymous.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>(LoginFields(RunningDashboard.AdminUser, RunningDashboard.Password))
        {
            ["_handler"] = "login",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task StudyPage_NotSignedIn_RedirectsToTheLoginPage()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var visitor = new FormVisitor(dashboard.WebUri);

        using var response = await visitor.GetAsync("/studies/1");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Headers.Location?.AbsolutePath);
        Assert.Contains("ReturnUrl=%2Fstudies%2F1", response.Headers.Location?.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DatabaseMadeBeforeSignIn_GetsTheUserTablesAndKeepsItsStudies()
    {
        var dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        await using (var before = await RunningDashboard.StartAsync(dataDir, seedAdmin: false))
        {
            before.DeleteDataOnDispose = false;
        }

        SqliteConnection.ClearAllPools();
        await using (var old = new SqliteConnection($"Data Source={Path.Combine(dataDir, "hypertune.db")}"))
        {
            await old.OpenAsync();
            foreach (var table in new[] { "api_tokens", "user_tokens", "user_logins", "user_claims", "role_claims", "user_roles", "users", "roles" })
            {
                await using var drop = old.CreateCommand();
                drop.CommandText = $"DROP TABLE \"{table}\"";
                await drop.ExecuteNonQueryAsync();
            }

            await using var insert = old.CreateCommand();
            insert.CommandText = """
                INSERT INTO studies (Name, Workload, SpecJson, ObjectiveMetric, Maximize, BudgetTrials, Parallel, SampledCount, CreatedAt)
                VALUES ('old', 'external', '{}', 'loss', 0, 1, 1, 1, 0)
                """;
            await insert.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        await using var dashboard = await RunningDashboard.StartAsync(dataDir);

        var studies = await dashboard.GetJsonAsync("/api/studies");

        Assert.Equal("old", Assert.Single(studies.EnumerateArray()).GetProperty("name").GetString());
    }

    /// <summary>An ask/tell study whose first trial is running (asked for, no agent needed).</summary>
    private static async Task<(long StudyId, long TrialId)> RunningExternalTrialAsync(RunningDashboard dashboard)
    {
        var studyId = await dashboard.CreateStudyAsync(AskTellApiTests.ExternalSpec);
        var asked = await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");
        Assert.Equal(HttpStatusCode.OK, asked.Status);
        return (studyId, asked.Body.GetProperty("trialId").GetInt64());
    }

    private static async Task<string?> TrialStateAsync(RunningDashboard dashboard, long studyId) =>
        (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0].GetProperty("state").GetString();

    private static Dictionary<string, string> SetupFields(string token, string user) => new()
    {
        ["Input.Token"] = token,
        ["Input.UserName"] = user,
        ["Input.Password"] = RunningDashboard.Password,
        ["Input.Confirm"] = RunningDashboard.Password,
    };

    private static Dictionary<string, string> LoginFields(string user, string password) => new()
    {
        ["Input.UserName"] = user,
        ["Input.Password"] = password,
    };

    /// <summary>A browser-less visitor of the server-rendered forms: keeps its cookies and sends each form's hidden fields (its antiforgery token).</summary>
    private sealed partial class FormVisitor(Uri webUri) : IDisposable
    {
        private readonly HttpClient http = new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = webUri };

        public Task<HttpResponseMessage> GetAsync(string path) => http.GetAsync(path);

        /// <summary>Loads the form at <paramref name="path"/>, fills <paramref name="fields"/> and posts it back.</summary>
        public async Task<HttpResponseMessage> SubmitAsync(string path, IReadOnlyDictionary<string, string> fields) =>
            await PostAsync(path, await OpenFormAsync(path), fields);

        /// <summary>The hidden fields of the form at <paramref name="path"/>: its name and antiforgery token.</summary>
        public async Task<IReadOnlyDictionary<string, string>> OpenFormAsync(string path)
        {
            var page = await http.GetStringAsync(path);
            return HiddenInput().Matches(page).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        }

        public Task<HttpResponseMessage> PostAsync(string path, IReadOnlyDictionary<string, string> hidden, IReadOnlyDictionary<string, string> fields) =>
            http.PostAsync(path, new FormUrlEncodedContent(hidden.Concat(fields)));

        public void Dispose() => http.Dispose();

        [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\"")]
        private static partial Regex HiddenInput();
    }
}
