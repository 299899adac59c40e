using System.Text.RegularExpressions;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>Debian's Chromium driven by Playwright (Playwright's own browser download cannot work offline).</summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;

    private Browser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        this.playwright = playwright;
        this.browser = browser;
        Page = page;
    }

    public IPage Page { get; }

    public static async Task<Browser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium (scripts/test.sh does it)");
        }

        // Generous on purpose: under CI load, Chromium takes seconds to parse plotly.js before the first point shows.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        page.SetDefaultTimeout(30_000);
        return new Browser(playwright, browser, page);
    }

    /// <summary>Saves a screenshot when HYPERTUNE_SCREENSHOTS names a folder (for people to look at; never asserted).</summary>
    public async Task ScreenshotAsync(string name)
    {
        var folder = Environment.GetEnvironmentVariable("HYPERTUNE_SCREENSHOTS");
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        }
    }

    /// <summary>
    /// Opens a page and waits for <paramref name="selector"/>; pages render only once interactive (no prerendering), so
    /// clicks then reach the server. Sent to the login page first, it signs in as the test dashboard's admin.
    /// </summary>
    public async Task OpenAsync(string url, string selector)
    {
        await Page.GotoAsync(url);
        if (OnLoginPage)
        {
            await SubmitLoginAsync(Page, RunningDashboard.AdminUser, RunningDashboard.Password);
        }

        await Page.Locator(selector).First.WaitForAsync();
    }

    /// <summary>
    /// Picks the option matching <paramref name="option"/> in the MudSelect marked <paramref name="testId"/> and waits until
    /// the select shows it. A click that lands while the list is still opening can miss; a person then clicks again, and
    /// so does this, at most twice more.
    /// </summary>
    public async Task SelectAsync(string testId, Regex option)
    {
        for (var attempt = 1; ; attempt++)
        {
            await Page.Locator($"[data-testid={testId}]").ClickAsync();
            await Page.Locator(".mud-popover-open").GetByText(option).First.ClickAsync();
            try
            {
                await Page.WaitForFunctionAsync(
                    """
                    ([id, pattern]) => {
                        // MudSelect marks its combobox, which shows the chosen option's text.
                        const shown = document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
                        return shown !== undefined && new RegExp(pattern).test(shown);
                    }
                    """, new object[] { testId, option.ToString() }, new() { Timeout = 5_000 });
                return;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                await Page.Keyboard.PressAsync("Escape");
            }
        }
    }

    /// <summary>Signs in on the dashboard's login page as <paramref name="user"/>; throws with the page's message when refused.</summary>
    public Task LoginAsync(Uri webUri, string user, string password = RunningDashboard.Password) => SignInAsync(Page, webUri, user, password);

    public bool OnLoginPage => IsLoginPage(Page);

    /// <summary>Signs a page in (benches share this with the tests); throws with the page's message when refused.</summary>
    public static async Task SignInAsync(IPage page, Uri webUri, string user, string password)
    {
        await page.GotoAsync(new Uri(webUri, "/login").ToString());
        await SubmitLoginAsync(page, user, password);
    }

    private static bool IsLoginPage(IPage page) => new Uri(page.Url).AbsolutePath == "/login";

    private static async Task SubmitLoginAsync(IPage page, string user, string password)
    {
        await page.FillAsync("[data-testid=login-user]", user);
        await page.FillAsync("[data-testid=login-password]", password);
        await page.ClickAsync("[data-testid=login-submit]");

        // The form posts and the answer is a new page: elsewhere when signed in, the login page saying why when not.
        await page.WaitForFunctionAsync("() => location.pathname !== '/login' || document.querySelector('[data-testid=login-error]') !== null");
        if (IsLoginPage(page))
        {
            var error = await page.Locator("[data-testid=login-error]").AllTextContentsAsync();
            throw new InvalidOperationException($"signing in as {user} was refused: {string.Join(" ", error)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
