using System.Net.Http.Json;
using System.Text.Json;

namespace HyperTune.TestSupport;

/// <summary>
/// A real dashboard a test talks to, in-process (<see cref="RunningDashboard"/>) or as a child process
/// (<see cref="DashboardProcess"/>): its addresses, its data folder and SQLite file, and its REST API.
/// </summary>
public abstract class DashboardUnderTest : IAsyncDisposable
{
    protected DashboardUnderTest(Uri webUri, Uri grpcUri, string dataDir)
    {
        WebUri = webUri;
        GrpcUri = grpcUri;
        DataDir = dataDir;
        Http = new HttpClient { BaseAddress = WebUri, Timeout = TimeSpan.FromSeconds(30) };
        Anonymous = new HttpClient { BaseAddress = WebUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string DataDir { get; }

    public string DatabasePath => Path.Combine(DataDir, "hypertune.db");

    public Uri WebUri { get; }

    public Uri GrpcUri { get; }

    /// <summary>The REST API as the admin (an API token); <see cref="Anonymous"/> for none.</summary>
    public HttpClient Http { get; }

    /// <summary>The REST API with no credentials.</summary>
    public HttpClient Anonymous { get; }

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

    public virtual ValueTask DisposeAsync()
    {
        Http.Dispose();
        Anonymous.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
