using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace HyperTune.TestSupport;

/// <summary>
/// The real dashboard as a child process (dotnet HyperTune.Dashboard.dll from its build folder) over a data folder
/// that <see cref="SeedAsync"/> prepared, configured as <see cref="RunningDashboard"/> is, so a test can kill it with
/// SIGKILL and start another over the same SQLite file. Each start listens on new loopback ports.
/// </summary>
public sealed partial class DashboardProcess : DashboardUnderTest
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    private readonly ChildProcess _process;

    private DashboardProcess(ChildProcess process, Uri webUri, Uri grpcUri, string dataDir, string apiToken)
        : base(webUri, grpcUri, dataDir)
    {
        _process = process;
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiToken);
    }

    /// <summary>What the dashboard printed so far (stdout and stderr), for a failing test's message.</summary>
    public string Output => _process.Output;

    public static string DashboardDll => ChildProcess.BuiltDll("Dashboard", "HyperTune.Dashboard.dll");

    /// <summary>
    /// Creates the database in <paramref name="dataDir"/> with <see cref="RunningDashboard"/>'s admin (started in-process
    /// once, on the real setup path) and returns an API token of that admin, which every later start accepts.
    /// </summary>
    public static async Task<string> SeedAsync(string dataDir)
    {
        await using var seeded = await RunningDashboard.StartAsync(dataDir);
        seeded.DeleteDataOnDispose = false;
        return seeded.ApiToken!;
    }

    /// <summary>Starts the dashboard over <paramref name="dataDir"/> (seeded) and returns once it listens; <paramref name="extra"/> adds or overrides keys.</summary>
    public static async Task<DashboardProcess> StartAsync(string dataDir, string apiToken, IDictionary<string, string?>? extra = null)
    {
        var settings = RunningDashboard.Settings(dataDir, extra);
        var process = ChildProcess.Start(DashboardDll, dataDir, settings.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}"));
        try
        {
            var listening = Listening().Match(await process.WaitForLineAsync(Listening().IsMatch, StartTimeout));
            return new DashboardProcess(process, new Uri(listening.Groups["web"].Value), new Uri(listening.Groups["grpc"].Value), dataDir, apiToken);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL, as a crash, the OOM killer or a pulled power cord would: no shutdown code runs.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Kills the dashboard if it still runs; the data folder stays (the test that made it deletes it).</summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _process.DisposeAsync();
    }

    [GeneratedRegex(@"HyperTune dashboard on (?<web>\S+) \(UI and REST API\); agents connect to (?<grpc>\S+)")]
    private static partial Regex Listening();
}
