using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Terminal;

// "backup --to FILE" copies the database and exits; otherwise DashboardApp.Build is the table of contents.
if (await DashboardCommands.TryRunAsync(args, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}

await DashboardApp.Build(args).RunAsync();
return 0;
