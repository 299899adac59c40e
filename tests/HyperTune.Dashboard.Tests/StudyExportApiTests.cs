using System.Net;
using System.Text.Json;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests;

/// <summary>The CSV and JSON downloads of a study, read back from a real dashboard and its SQLite file.</summary>
public sealed class StudyExportApiTests
{
    private const string Spec = """
        { "name": "export", "workload": "external",
          "objective": { "metric": "val_loss", "direction": "minimize" },
          "sampler": { "type": "random", "seed": 11 },
          "budget": { "trials": 2 },
          "fixed": { "optimizer": "sgd" },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task TrialsCsv_HasOneRowPerTrialWithParamsLastMetricsTagsAndNotes()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, first, second) = await TwoTrialsAsync(dashboard);
        await dashboard.PutAsync($"/api/trials/{first}/tags", """{ "tags": ["=cmd", "baseline"] }""");
        await dashboard.PutAsync($"/api/trials/{first}/notes", """{ "markdown": "line one, with a comma\n\"quoted\"" }""");
        var api = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");

        using var response = await dashboard.Http.GetAsync($"/api/studies/{studyId}/trials.csv");
        var rows = CsvRecords.FromText(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal($"study-{studyId}-trials.csv", response.Content.Headers.ContentDisposition.FileName);
        var header = rows[0];
        Assert.Equal(["number", "id", "stage", "kind", "state", "attempt", "epochs", "objective_last", "objective_best", "params_lr", "params_optimizer",
            "last_grad_norm", "last_val_loss", "tags", "notes", "agent", "reason", "cloned_from", "created_at", "started_at", "ended_at"], header);
        Assert.Equal(3, rows.Count);
        var byNumber = rows.Skip(1).ToDictionary(r => r[0]);
        var one = byNumber["1"];
        Assert.Equal(first.ToString(System.Globalization.CultureInfo.InvariantCulture), one[1]);
        Assert.Equal("completed", one[4]);
        Assert.Equal(api[0].GetProperty("params").GetProperty("lr").GetDouble(), double.Parse(one[9], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("sgd", one[10]);
        Assert.Equal("NaN", one[11]);
        Assert.Equal("0.25", one[12]);
        Assert.Equal("'=cmd,baseline", one[13]);
        Assert.Equal("line one, with a comma\n\"quoted\"", one[14]);
        Assert.Equal("-Infinity", byNumber["2"][11]);
        Assert.Equal("", byNumber["2"][13]);
        Assert.Equal(second.ToString(System.Globalization.CultureInfo.InvariantCulture), byNumber["2"][1]);
    }

    [Fact]
    public async Task TrialsJson_MatchesTheTrialsApiWithoutEpochs()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, first, _) = await TwoTrialsAsync(dashboard);
        await dashboard.PutAsync($"/api/trials/{first}/tags", """{ "tags": ["baseline"] }""");
        var api = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");

        using var response = await dashboard.Http.GetAsync($"/api/studies/{studyId}/trials.json");
        var export = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal($"study-{studyId}-trials.json", response.Content.Headers.ContentDisposition!.FileName);
        Assert.Equal(api.GetArrayLength(), export.GetArrayLength());
        for (var i = 0; i < api.GetArrayLength(); i++)
        {
            var fromApi = JsonSerializer.SerializeToNode(api[i])!.AsObject();
            fromApi.Remove("epochs");
            Assert.Equal(fromApi.ToJsonString(), JsonSerializer.SerializeToNode(export[i])!.ToJsonString());
            Assert.False(export[i].TryGetProperty("epochs", out _));
        }

        Assert.Equal("baseline", export[0].GetProperty("tags")[0].GetString());
    }

    [Fact]
    public async Task EpochsCsv_HasEveryEpochWithAColumnPerMetricAndNamedNonFiniteValues()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, _, _) = await TwoTrialsAsync(dashboard);

        using var response = await dashboard.Http.GetAsync($"/api/studies/{studyId}/epochs.csv");
        var rows = CsvRecords.FromText(await response.Content.ReadAsStringAsync());

        Assert.Equal($"study-{studyId}-epochs.csv", response.Content.Headers.ContentDisposition!.FileName);
        Assert.Equal([
            ["trial", "attempt", "epoch", "grad_norm", "val_loss"],
            ["1", "1", "1", "1.5", "0.5"],
            ["1", "1", "2", "NaN", "0.25"],
            ["2", "1", "1", "Infinity", "0.75"],
            ["2", "1", "2", "-Infinity", ""],
        ], rows);
    }

    [Fact]
    public async Task EpochsJson_HasEveryEpochWithNonFiniteValuesAsStrings()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, _, _) = await TwoTrialsAsync(dashboard);

        using var response = await dashboard.Http.GetAsync($"/api/studies/{studyId}/epochs.json");
        var epochs = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal($"study-{studyId}-epochs.json", response.Content.Headers.ContentDisposition!.FileName);
        Assert.Equal(4, epochs.GetArrayLength());
        Assert.Equal("""{"trial":1,"attempt":1,"epoch":2,"metrics":{"grad_norm":"NaN","val_loss":0.25}}""", JsonSerializer.Serialize(epochs[1]));
        Assert.Equal("""{"trial":2,"attempt":1,"epoch":2,"metrics":{"grad_norm":"-Infinity"}}""", JsonSerializer.Serialize(epochs[3]));
    }

    [Fact]
    public async Task Exports_OfUnknownStudy_Return404()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        foreach (var what in new[] { "trials.csv", "trials.json", "epochs.csv", "epochs.json" })
        {
            using var response = await dashboard.Http.GetAsync($"/api/studies/77/{what}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task EpochsCsv_OfStudyWithManyEpochs_StreamsThemAllInOrder()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await AnnotationApiTests.AskedTrialAsync(dashboard, Spec);
        for (var epoch = 1; epoch <= 400; epoch++)
        {
            await dashboard.PostAsync($"/api/trials/{trialId}/report", $$"""{ "epoch": {{epoch}}, "metrics": { "val_loss": {{1.0 / epoch}} } }""");
        }

        using var response = await dashboard.Http.GetAsync($"/api/studies/{studyId}/epochs.csv", HttpCompletionOption.ResponseHeadersRead);
        var rows = CsvRecords.FromText(await response.Content.ReadAsStringAsync());

        Assert.Equal(401, rows.Count);
        Assert.Equal(Enumerable.Range(1, 400).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Skip(1).Select(r => r[2]));
        Assert.Equal(1.0 / 400, double.Parse(rows[^1][3], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Two ask/tell trials: #1 reports (1.5, 0.5) then (NaN, 0.25) and completes; #2 reports (Infinity, 0.75) then
    /// (-Infinity, no val_loss) and stays running.
    /// </summary>
    private static async Task<(long StudyId, long First, long Second)> TwoTrialsAsync(RunningDashboard dashboard)
    {
        var (studyId, first) = await AnnotationApiTests.AskedTrialAsync(dashboard, Spec);
        await dashboard.PostAsync($"/api/trials/{first}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.5, "grad_norm": 1.5 } }""");
        await dashboard.PostAsync($"/api/trials/{first}/report", """{ "epoch": 2, "metrics": { "val_loss": 0.25, "grad_norm": "NaN" } }""");
        await dashboard.PostAsync($"/api/trials/{first}/tell", """{ "value": 0.25 }""");
        var second = (await dashboard.PostAsync($"/api/studies/{studyId}/ask", "")).Body.GetProperty("trialId").GetInt64();
        await dashboard.PostAsync($"/api/trials/{second}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.75, "grad_norm": "Infinity" } }""");
        await dashboard.PostAsync($"/api/trials/{second}/report", """{ "epoch": 2, "metrics": { "grad_norm": "-Infinity" } }""");
        return (studyId, first, second);
    }
}
