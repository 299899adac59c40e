using System.CommandLine;
using System.Globalization;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;

namespace HyperTune.Dashboard.Terminal;

/// <summary>
/// The dashboard's verbs besides running: "backup --to FILE" copies the database while the dashboard runs. The
/// Dashboard:* keys are read from the same configuration as the dashboard's own (appsettings.json, environment,
/// --Dashboard:DataDir on the command line), so the backup finds the database the dashboard uses.
/// </summary>
public static class DashboardCommands
{
    public const string Backup = "backup";

    /// <summary>Runs the verb <paramref name="args"/> start with and returns its exit code; null when they start no verb (run the dashboard).</summary>
    public static async Task<int?> TryRunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        if (args.FirstOrDefault() != Backup)
        {
            return null;
        }

        var to = new Option<string>("--to")
        {
            Description = "The new file to write the copy to; an existing file is never overwritten.",
            HelpName = "file",
            Required = true,
        };
        var backup = new Command(Backup, """
            Copies the dashboard's SQLite database into a new file with SQLite's online backup API: safe while the
            dashboard runs and agents report. The copy holds everything committed before it began; restore it by
            stopping the dashboard and putting the copy in place of {DataDir}/hypertune.db (remove hypertune.db-wal
            and hypertune.db-shm beside it). Dashboard:* keys (--Dashboard:DataDir path) say where the database is.
            """)
        {
            to,
        };
        backup.TreatUnmatchedTokensAsErrors = false;
        backup.SetAction(async (parsed, token) =>
        {
            var options = ReadOptions([.. parsed.UnmatchedTokens]);
            try
            {
                var report = await DatabaseBackup.RunAsync(options.DatabaseConnectionString, parsed.GetValue(to)!, token);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Backed up {options.DatabaseConnectionString} to {report.Path}: {report.Bytes / 1024.0 / 1024.0:0.0} MiB, {report.Studies} studies, {report.Trials} trials, {report.EpochReports} epoch reports; integrity_check: {report.IntegrityCheck}"));
                return report.IsSound ? 0 : 1;
            }
            catch (BackupException ex)
            {
                await error.WriteLineAsync($"backup refused: {ex.Message}");
                return 1;
            }
        });

        var root = new RootCommand("HyperTune dashboard; with no verb it runs the dashboard.") { backup };
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, ct);
    }

    /// <summary>The dashboard's options as the dashboard itself would read them with these command-line <paramref name="args"/>.</summary>
    private static DashboardOptions ReadOptions(string[] args)
    {
        // The builder only gathers configuration here: nothing listens until a host is built and run.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(DashboardApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        var options = new DashboardOptions();
        builder.Configuration.GetSection(DashboardOptions.Section).Bind(options);
        return options;
    }
}
