using System.Net.Http.Json;
using System.Text.Json;
using HyperTune.Dashboard.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.TestSupport;

/// <summary>The real dashboard on 127.0.0.1 port 0 (web and gRPC) with its own SQLite file in a temporary folder.</summary>
public sealed class RunningDashboard : IAsyncDisposable
{
    public const string Token = "test-agent-token-0123456789abcdef";

    private RunningDashboard(WebApplication app, string dataDir)
    {
        App = app;
        DataDir = dataDir;
        var endpoints = app.Services.GetRequiredService<Endpoints>();
        WebUri = endpoints.WebUri;
        GrpcUri = endpoints.GrpcUri;
        Http = new HttpClient { BaseAddress = WebUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public string DatabasePath => Path.Combine(DataDir, "hypertune.db");

    public Uri WebUri { get; }

    public Uri GrpcUri { get; }

    public HttpClient Http { get; }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task<RunningDashboard> StartAsync(string? dataDir = null, IDictionary<string, string?>? extra = null)
    {
        dataDir ??= Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Dashboard:WebUrl"] = "http://127.0.0.1:0",
            ["Dashboard:GrpcUrl"] = "http://127.0.0.1:0",
            ["Dashboard:DataDir"] = dataDir,
            ["Dashboard:AgentToken"] = Token,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:HyperTune"] = "Information",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = DashboardApp.Build([], settings);
        await app.StartAsync();
        return new RunningDashboard(app, dataDir);
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
    public async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body)
    {
        using var response = await Http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
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
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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
