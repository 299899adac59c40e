using HyperTune.Dashboard.Security;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>Sign-in, first setup, roles on the study page, and the Users and API tokens pages, in real Chromium.</summary>
public sealed class SignInPageTests
{
    [Fact]
    public async Task StudyPage_NotSignedIn_GoesToLoginThenBackToTheStudyUntilSignedOut()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(TestSpecs.AskTell);
        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;

        await page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString());
        Assert.True(browser.OnLoginPage);
        await page.FillAsync("[data-testid=login-user]", RunningDashboard.AdminUser);
        await page.FillAsync("[data-testid=login-password]", "a wrong password here");
        await page.ClickAsync("[data-testid=login-submit]");
        await Assertions.Expect(page.Locator("[data-testid=login-error]")).ToHaveTextAsync("Wrong user name or password.");
        await browser.ScreenshotAsync("login-wrong-password");
        await page.FillAsync("[data-testid=login-user]", RunningDashboard.AdminUser);
        await page.FillAsync("[data-testid=login-password]", RunningDashboard.Password);
        await page.ClickAsync("[data-testid=login-submit]");

        await Assertions.Expect(page.Locator("[data-testid=trials-table]")).ToBeVisibleAsync();
        Assert.EndsWith($"/studies/{studyId}", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("admin · admin");

        // Signing out (a form with its antiforgery token) ends the session: the study page sends to login again.
        await page.Locator("[data-testid=sign-out]").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/login");
        await page.GotoAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString());
        Assert.True(browser.OnLoginPage);
    }

    [Fact]
    public async Task ChangePasswordPage_FromTheAppBar_ChangesItKeepsTheSessionAndOnlyTheNewOneSignsIn()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await dashboard.CreateUserAsync("vera", Roles.Viewer);
        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        await browser.LoginAsync(dashboard.WebUri, "vera");
        await page.GotoAsync(dashboard.WebUri.ToString());
        await page.Locator("[data-testid=signed-in-user]").ClickAsync();
        await page.Locator("[data-testid=password-current]").WaitForAsync();

        // A wrong current password is refused and changes nothing; two different new ones are caught before that.
        await page.FillAsync("[data-testid=password-current]", "not the password at all");
        await page.FillAsync("[data-testid=password-new]", "a brand new passphrase");
        await page.FillAsync("[data-testid=password-confirm]", "a brand new passphrase");
        await page.ClickAsync("[data-testid=password-submit]");
        await Assertions.Expect(page.Locator("[data-testid=password-error]")).ToHaveTextAsync("The current password is wrong.");
        await page.FillAsync("[data-testid=password-current]", RunningDashboard.Password);
        await page.FillAsync("[data-testid=password-new]", "a brand new passphrase");
        await page.FillAsync("[data-testid=password-confirm]", "another passphrase");
        await page.ClickAsync("[data-testid=password-submit]");
        await Assertions.Expect(page.Locator(".ht-account-error").First).ToHaveTextAsync("The two new passwords differ");
        await page.FillAsync("[data-testid=password-current]", RunningDashboard.Password);
        await page.FillAsync("[data-testid=password-new]", "a brand new passphrase");
        await page.FillAsync("[data-testid=password-confirm]", "a brand new passphrase");
        await page.ClickAsync("[data-testid=password-submit]");
        await Assertions.Expect(page.Locator("[data-testid=password-changed]")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("password-changed");

        // This browser stays signed in; after signing out, only the new password works.
        await page.GotoAsync(dashboard.WebUri.ToString());
        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("vera · viewer");
        await page.Locator("[data-testid=sign-out]").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/login");
        var old = await Assert.ThrowsAsync<InvalidOperationException>(() => browser.LoginAsync(dashboard.WebUri, "vera"));
        Assert.Contains("Wrong user name or password.", old.Message, StringComparison.Ordinal);
        await browser.LoginAsync(dashboard.WebUri, "vera", "a brand new passphrase");
        await page.GotoAsync(dashboard.WebUri.ToString());
        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("vera · viewer");
    }

    [Fact]
    public async Task SetupPage_FirstStart_CreatesTheAdminAndSignsIn()
    {
        await using var dashboard = await RunningDashboard.StartAsync(seedAdmin: false);
        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;

        await page.GotoAsync(dashboard.WebUri.ToString());
        await Assertions.Expect(page.Locator("[data-testid=setup-pending]")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("login-no-user-yet");
        await page.GetByRole(AriaRole.Link, new() { Name = "Create the first admin" }).ClickAsync();
        await page.Locator("[data-testid=setup-token]").WaitForAsync();
        await page.FillAsync("[data-testid=setup-token]", RunningDashboard.SetupToken);
        await page.FillAsync("[data-testid=setup-user]", "root");
        await page.FillAsync("[data-testid=setup-password]", "short");
        await page.FillAsync("[data-testid=setup-confirm]", "short");
        await page.ClickAsync("[data-testid=setup-submit]");
        await Assertions.Expect(page.Locator("[data-testid=setup-error]").First).ToContainTextAsync("at least 12 characters");
        await browser.ScreenshotAsync("setup-password-too-short");
        await page.FillAsync("[data-testid=setup-password]", RunningDashboard.Password);
        await page.FillAsync("[data-testid=setup-confirm]", RunningDashboard.Password);
        await page.ClickAsync("[data-testid=setup-submit]");

        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("root · admin");
        Assert.Equal(new Uri(dashboard.WebUri, "/").ToString(), page.Url);
    }

    [Fact]
    public async Task StudyPage_Viewer_SeesTheControlsDisabledWithWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(TestSpecs.AskTell);
        await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");
        (await dashboard.CreateUserAsync("vera", Roles.Viewer)).Dispose();
        await using var browser = await Browser.LaunchAsync();

        await browser.LoginAsync(dashboard.WebUri, "vera");
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=stop-trial][data-trial='1']");
        var page = browser.Page;

        await Assertions.Expect(page.Locator("[data-testid=trial-state]").First).ToContainTextAsync("running");
        foreach (var control in new[] { "stop-trial", "kill-trial", "pause-trial", "clone-trial", "narrow-trial", "add-tag" })
        {
            await Assertions.Expect(page.Locator($"[data-testid={control}][data-trial='1']")).ToBeDisabledAsync();
        }

        await Assertions.Expect(page.Locator("[data-testid=log-trial][data-trial='1']")).ToBeEnabledAsync();
        var why = await page.Locator("[data-testid=stop-trial][data-trial='1']").Locator("xpath=..").GetAttributeAsync("title");
        Assert.Equal("Only operator or admin users can stop trials; you are viewer. An admin can change your role on the Users page.", why);
        await Assertions.Expect(page.Locator("[data-testid=nav-users]")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("study-page-viewer");
    }

    [Fact]
    public async Task UsersPage_Admin_AddsAnOperatorWhoCanThenSignIn()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        (await dashboard.CreateUserAsync("vera", Roles.Viewer)).Dispose();
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/users").ToString(), "[data-testid=users-table]");
        var page = browser.Page;

        await page.Locator("[data-testid=new-user-name]").FillAsync("olga");
        await page.Locator("[data-testid=new-user-password]").FillAsync(RunningDashboard.Password);
        await page.Locator("[data-testid=new-user-role]").ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("operator", new() { Exact = true }).ClickAsync();
        await page.Locator("[data-testid=create-user]").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=user-name]")).ToHaveTextAsync(["admin", "olga", "vera"]);
        await browser.ScreenshotAsync("users-page");
        await using var olga = await Browser.LaunchAsync();
        await olga.LoginAsync(dashboard.WebUri, "olga");
        await olga.OpenAsync(dashboard.WebUri.ToString(), "[data-testid=signed-in-user]");
        await Assertions.Expect(olga.Page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("olga · operator");
    }

    [Fact]
    public async Task TokensPage_CreateThenRevoke_TheTokenWorksThenGets401()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/tokens").ToString(), "[data-testid=tokens-table]");
        var page = browser.Page;

        await page.Locator("[data-testid=token-name]").FillAsync("notebook");
        await page.Locator("[data-testid=create-token]").ClickAsync();
        var secret = (await page.Locator("[data-testid=new-token-secret]").TextContentAsync())!.Trim();
        await browser.ScreenshotAsync("tokens-page-created");
        using var client = new HttpClient { BaseAddress = dashboard.WebUri };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        using var before = await client.GetAsync("/api/studies");
        await page.Locator("[data-testid=revoke-token][data-token=notebook]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=token-row-name]", new() { HasTextString = "notebook" })).ToHaveCountAsync(0);
        using var after = await client.GetAsync("/api/studies");

        Assert.Equal(System.Net.HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, after.StatusCode);
    }
}
