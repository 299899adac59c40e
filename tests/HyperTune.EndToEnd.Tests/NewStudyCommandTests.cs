using System.Text.RegularExpressions;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

public sealed class NewStudyCommandTests
{
    [Fact]
    public async Task NewStudyForm_WithAnAgentDeclaringACommand_OffersItAsAWorkloadAndCreatesTheStudy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var hello = new Hello { AgentId = "box", HostName = "test-host", Slots = 1, Version = "test" };
        hello.Commands.Add("train-resnet");
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, hello);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/studies/new").ToString(), "[data-testid=create-study]");

        await browser.SelectAsync("study-workload", new Regex("^command:train-resnet$"));
        await browser.Page.Locator("[data-testid=create-study]").ClickAsync();
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal("command:train-resnet", start.Workload);
        Assert.Equal("command:train-resnet", (await dashboard.GetJsonAsync("/api/studies"))[0].GetProperty("workload").GetString());
    }
}
