using Grpc.Core;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The agent tokens page (/agents/tokens) in real Chromium, with agents speaking real gRPC.</summary>
public sealed class AgentTokensPageTests
{
    [Fact]
    public async Task TokensPage_CreateThenRevoke_TokenShownOnceLetsItsAgentInThenItsStreamEnds()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using (var seen = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "gpu-box-7"))
        {
            await seen.NextAsync(HubMessage.KindOneofCase.Welcome);
        }

        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/agents").ToString(), "[data-testid=agent-tokens-link]");
        await page.Locator("[data-testid=agent-tokens-link]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=no-tokens]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=agents-without-token]")).ToContainTextAsync("gpu-box-7");

        await page.Locator("[data-testid=agents-without-token] .mud-chip", new() { HasText = "gpu-box-7" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=token-agent-id]")).ToHaveValueAsync("gpu-box-7");
        await page.Locator("[data-testid=create-token]").ClickAsync();

        var secretBlock = page.Locator("[data-testid=issued-secret]");
        await Assertions.Expect(secretBlock).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^hta_[A-Za-z0-9_-]{43}$"));
        var secret = await secretBlock.TextContentAsync();
        await Assertions.Expect(page.Locator("[data-testid=issued-agent]")).ToHaveTextAsync("gpu-box-7");
        await Assertions.Expect(page.Locator("[data-testid=issued-command]")).ToContainTextAsync($"Agent__Id=gpu-box-7 Agent__DashboardUrl={dashboard.GrpcUri.ToString().TrimEnd('/')} Agent__Token={secret}");
        await Assertions.Expect(page.Locator("[data-testid=issued-config]")).ToContainTextAsync($"\"Token\": \"{secret}\"");
        var row = page.Locator("[data-testid=token-row][data-agent='gpu-box-7']");
        await Assertions.Expect(row.Locator("[data-testid=token-last-used]")).ToHaveTextAsync("never");
        await Assertions.Expect(row).ToContainTextAsync(secret![..10] + "…");

        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, secret, agentId: "gpu-box-7");
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);
        await Assertions.Expect(row.Locator("[data-testid=token-last-used]")).Not.ToHaveTextAsync("never");
        await Assertions.Expect(row).ToContainTextAsync("online");
        await browser.ScreenshotAsync("agent-tokens-created");

        await row.Locator("[data-testid=revoke-token]").ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();

        var ended = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.StartTrial));
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        await Assertions.Expect(row.Locator("[data-testid=token-state]")).ToContainTextAsync("revoked");
        await Assertions.Expect(row.Locator("[data-testid=revoke-token]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=issued-token]")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("agent-tokens-revoked");
    }
}
