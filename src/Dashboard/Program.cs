using HyperTune.Dashboard.Extensions;

DashboardApp.Build(args).Run();
