using System.Net;
using System.Text.Json;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests;

public sealed class StudyApiTests
{
    [Fact]
    public async Task PostStudies_WithBadFields_Returns400WithEveryFieldErrorAndStoresNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        const string spec = """
            { "name": "bad", "workload": "fashion-mnist-cnn",
              "objective": { "metric": "val_accuracy", "direction": "up" },
              "budget": { "trials": 0 },
              "space": { "lr": { "type": "float", "low": 0, "high": 0.1, "scale": "log" } } }
            """;

        using var response = await dashboard.Http.PostAsync("/api/studies", new StringContent(spec, System.Text.Encoding.UTF8, "application/json"));
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("got \"up\"", errors.GetProperty("objective.direction")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("got 0", errors.GetProperty("budget.trials")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("must be > 0 for a log scale, got 0", errors.GetProperty("space.lr.low")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/studies")).GetArrayLength());
    }

    [Fact]
    public async Task PostStudies_WithMalformedJson_Returns400NamingTheBody()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        using var response = await dashboard.Http.PostAsync("/api/studies", new StringContent("{ \"name\": ", System.Text.Encoding.UTF8, "application/json"));
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not valid JSON", errors.GetProperty("$")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostStudies_WithoutSeed_StoresTheGeneratedSeedWithTheStudy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var id = await dashboard.CreateStudyAsync("""
            { "name": "seedless", "workload": "fashion-mnist-mlp",
              "objective": { "metric": "val_loss", "direction": "minimize" },
              "budget": { "trials": 3 },
              "space": { "dropout": { "type": "float", "low": 0, "high": 0.5 } } }
            """);

        var study = await dashboard.GetJsonAsync($"/api/studies/{id}");

        Assert.Equal("random", study.GetProperty("spec").GetProperty("sampler").GetProperty("type").GetString());
        Assert.True(study.GetProperty("spec").GetProperty("sampler").GetProperty("seed").GetInt32() >= 0);
        Assert.Equal(1, study.GetProperty("spec").GetProperty("budget").GetProperty("parallel").GetInt32());
        Assert.Equal("running", study.GetProperty("study").GetProperty("state").GetString());
    }

    [Fact]
    public async Task StopTrial_Unknown_Returns404()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        using var response = await dashboard.Http.PostAsync("/api/trials/999/stop", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("trial 999 does not exist", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
