using System.Net;
using System.Text.Json;
using HyperTune.Dashboard.Live;
using HyperTune.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

/// <summary>Tags and Markdown notes through the REST API, on a real dashboard with its SQLite file.</summary>
public sealed class AnnotationApiTests
{
    [Fact]
    public async Task PutTags_WithValidTags_StoresThemTrimmedWithoutRepeatsAndPublishesTheTrial()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await AskedTrialAsync(dashboard);
        var (published, subscription) = Collect<TrialChanged>(dashboard);
        using var _ = subscription;

        var put = await dashboard.PutAsync($"/api/trials/{trialId}/tags", """{ "tags": [" baseline ", "lr-sweep", "Baseline"] }""");
        var trials = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");

        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal(["baseline", "lr-sweep"], Strings(put.Body.GetProperty("tags")));
        Assert.Equal(["baseline", "lr-sweep"], Strings(trials[0].GetProperty("tags")));
        lock (published)
        {
            Assert.Equal(["baseline", "lr-sweep"], Assert.Single(published).Trial.Tags);
        }
    }

    [Theory]
    [InlineData("""{ "tags": ["ok", "this-tag-is-far-too-long-for-a-table-chip-really"] }""", "tags[1]", "must be at most 40 characters, got 48: \"this-tag-is-far-too-long-for-a-table-chip-really\"")]
    [InlineData("""{ "tags": ["a,b"] }""", "tags[0]", "must not contain a comma, got \"a,b\"")]
    [InlineData("""{ "tags": ["bell\u0007"] }""", "tags[0]", "must not contain control characters, got \"bell\\u0007\"")]
    [InlineData("""{ "tags": ["  "] }""", "tags[0]", "must not be empty, got \"  \"")]
    [InlineData("""{ "tags": ["x", 3] }""", "tags[1]", "must be a string, got 3")]
    [InlineData("""{ "tags": "baseline" }""", "tags", "must be an array of strings like [\"baseline\"], got \"baseline\"")]
    [InlineData("""{ "labels": [] }""", "tags", "must be an array of strings like [\"baseline\"], got nothing")]
    public async Task PutTags_WithBadTag_Returns400NamingTheFieldAndTheValue(string body, string field, string problem)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await AskedTrialAsync(dashboard);

        var put = await dashboard.PutAsync($"/api/trials/{trialId}/tags", body);

        Assert.Equal(HttpStatusCode.BadRequest, put.Status);
        Assert.Equal($"{field} {problem}", put.Body.GetProperty("errors").GetProperty(field)[0].GetString());
        Assert.Equal(0, (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0].GetProperty("tags").GetArrayLength());
    }

    [Fact]
    public async Task PutTags_WithTwentyOneTags_Returns400SayingHowMany()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (_, trialId) = await AskedTrialAsync(dashboard);
        var tags = JsonSerializer.Serialize(Enumerable.Range(1, 21).Select(i => $"t{i}"));

        var put = await dashboard.PutAsync($"/api/trials/{trialId}/tags", $$"""{ "tags": {{tags}} }""");

        Assert.Equal(HttpStatusCode.BadRequest, put.Status);
        Assert.Equal("tags must hold at most 20 tags, got 21", put.Body.GetProperty("errors").GetProperty("tags")[0].GetString());
    }

    [Fact]
    public async Task PutTags_OnUnknownTrial_Returns404()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        var put = await dashboard.PutAsync("/api/trials/999/tags", """{ "tags": ["x"] }""");

        Assert.Equal(HttpStatusCode.NotFound, put.Status);
        Assert.Equal("trial 999 does not exist", put.Body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task PutTrialNotes_ThenEmpty_StoresTheMarkdownThenClearsIt()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await AskedTrialAsync(dashboard);

        var put = await dashboard.PutAsync($"/api/trials/{trialId}/notes", """{ "markdown": "**Best so far**\n\n- lr looks high" }""");
        var stored = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0].GetProperty("notes").GetString();
        var cleared = await dashboard.PutAsync($"/api/trials/{trialId}/notes", """{ "markdown": "" }""");

        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal("**Best so far**\n\n- lr looks high", stored);
        Assert.Equal(JsonValueKind.Null, cleared.Body.GetProperty("notes").ValueKind);
    }

    [Fact]
    public async Task PutNotes_OverSixtyFourKiB_Returns400WithTheSize()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await AskedTrialAsync(dashboard);
        var body = JsonSerializer.Serialize(new { markdown = new string('é', 40_000) });

        var trial = await dashboard.PutAsync($"/api/trials/{trialId}/notes", body);
        var study = await dashboard.PutAsync($"/api/studies/{studyId}/notes", body);

        Assert.Equal(HttpStatusCode.BadRequest, trial.Status);
        Assert.Equal("markdown must be at most 65536 bytes of UTF-8, got 80000", trial.Body.GetProperty("errors").GetProperty("markdown")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, study.Status);
    }

    [Fact]
    public async Task PutNotes_WithoutMarkdown_Returns400NamingTheField()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (_, trialId) = await AskedTrialAsync(dashboard);

        var put = await dashboard.PutAsync($"/api/trials/{trialId}/notes", """{ "markdown": 42 }""");

        Assert.Equal(HttpStatusCode.BadRequest, put.Status);
        Assert.Equal("markdown must be a string of Markdown, got 42", put.Body.GetProperty("errors").GetProperty("markdown")[0].GetString());
    }

    [Fact]
    public async Task PutStudyNotes_IsReadBackAndPublished()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, _) = await AskedTrialAsync(dashboard);
        var (published, subscription) = Collect<StudyNotesChanged>(dashboard);
        using var _ = subscription;

        var before = await dashboard.GetJsonAsync($"/api/studies/{studyId}/notes");
        var put = await dashboard.PutAsync($"/api/studies/{studyId}/notes", """{ "markdown": "# Plan\nTry **cosine** next." }""");
        var after = await dashboard.GetJsonAsync($"/api/studies/{studyId}/notes");
        var missing = await dashboard.PutAsync("/api/studies/999/notes", """{ "markdown": "x" }""");

        Assert.Equal("", before.GetProperty("markdown").GetString());
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal("# Plan\nTry **cosine** next.", after.GetProperty("markdown").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        lock (published)
        {
            Assert.Equal([studyId], published.Select(p => p.StudyId));
        }
    }

    [Fact]
    public async Task Report_KeepsEveryMetricOfTheLatestEpochAsTheTrialsLastMetrics()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, trialId) = await AskedTrialAsync(dashboard);

        await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.9, "grad_norm": 3.5 } }""");
        await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 2, "metrics": { "val_loss": 0.7, "grad_norm": "Infinity", "lr": 0.01 } }""");
        var last = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0].GetProperty("lastMetrics");

        Assert.Equal(0.7, last.GetProperty("val_loss").GetDouble());
        Assert.Equal("Infinity", last.GetProperty("grad_norm").GetString());
        Assert.Equal(0.01, last.GetProperty("lr").GetDouble());
    }

    internal static async Task<(long StudyId, long TrialId)> AskedTrialAsync(RunningDashboard dashboard, string spec = AskTellApiTests.ExternalSpec)
    {
        var studyId = await dashboard.CreateStudyAsync(spec);
        var asked = await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");
        return (studyId, asked.Body.GetProperty("trialId").GetInt64());
    }

    /// <summary>Every live event of type <typeparamref name="T"/> published from now on (lock the list to read it).</summary>
    private static (List<T> Events, IDisposable Subscription) Collect<T>(RunningDashboard dashboard)
        where T : LiveEvent
    {
        var events = new List<T>();
        var subscription = dashboard.App.Services.GetRequiredService<StudyEvents>().Subscribe(e =>
        {
            if (e is T wanted)
            {
                lock (events)
                {
                    events.Add(wanted);
                }
            }
        });
        return (events, subscription);
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
