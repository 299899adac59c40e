using System.Net;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Api;
using HyperTune.Dashboard.Checkpoints;
using HyperTune.Dashboard.Components;
using HyperTune.Dashboard.Components.Charts;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Grpc;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Scheduling;
using HyperTune.Dashboard.Security;
using HyperTune.Dashboard.Studies;
using HyperTune.Dashboard.Trials;
using Microsoft.AspNetCore.Rewrite;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace HyperTune.Dashboard.Extensions;

/// <summary>Builds the dashboard host; Program.cs and the tests start it the same way.</summary>
public static class DashboardApp
{
    /// <summary>The largest gRPC message the dashboard accepts (an epoch report, a checkpoint chunk); a bigger one ends its call with ResourceExhausted.</summary>
    public const int MaxGrpcMessageBytes = 4 * 1024 * 1024;

    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        // Named explicitly so a test host finds the dashboard's static web assets manifest, not its own; content
        // (appsettings.json) comes from beside the program whatever the working folder, which stays the base of DataDir.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(DashboardApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddDashboardOptions();
        builder.AddTwoEndpoints();
        builder.AddStorage();
        builder.AddTuning();
        builder.AddSecurity();
        builder.AddUserInterface();

        var app = builder.Build();
        app.InitializeDatabase();
        app.InitializeSecurity();
        app.MapDashboard();
        return app;
    }

    public static void AddDashboardOptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<DashboardOptions>>().Value);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.WriteIndented = false;
        });
    }

    /// <summary>
    /// Web (HTTP/1.1 + WebSockets) and gRPC (HTTP/2) on two ports: plain HTTP cannot offer both on one. An https URL gets
    /// Dashboard:CertificateFile; with https, equal URLs share one port.
    /// </summary>
    public static void AddTwoEndpoints(this WebApplicationBuilder builder)
    {
        var endpoints = new Endpoints();
        builder.Services.AddSingleton(endpoints);
        var section = builder.Configuration.GetSection(DashboardOptions.Section);
        var options = new DashboardOptions();
        section.Bind(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Invalid URLs are reported by options validation at start; fall back so that validation gets to run.
            var web = Endpoints.TryParse(options.WebUrl, out var w, out var webTls) ? w : new IPEndPoint(IPAddress.Loopback, 5080);
            var grpc = Endpoints.TryParse(options.GrpcUrl, out var g, out var grpcTls) ? g : new IPEndPoint(IPAddress.Loopback, 5081);

            // https without a certificate is reported by options validation; listen without TLS so that it gets to run.
            var certificate = (webTls || grpcTls) && options.CertificateFile is not null ? DashboardCertificate.Load(options) : null;
            endpoints.WebTls = webTls && certificate is not null;
            endpoints.GrpcTls = grpcTls && certificate is not null;
            if (options.SharesOnePort && endpoints.WebTls)
            {
                kestrel.Listen(web, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate!);
                    endpoints.Web = endpoints.Grpc = listen;
                });
                return;
            }

            kestrel.Listen(web, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (endpoints.WebTls)
                {
                    listen.UseHttps(certificate!);
                }

                endpoints.Web = listen;
            });
            // Pings find a dead agent's connection (a cut network sends no FIN) within the silence window.
            var ping = TimeSpan.FromSeconds(Math.Max(1, options.AgentSilentAfterSeconds / 3));
            kestrel.Limits.Http2.KeepAlivePingDelay = ping;
            kestrel.Limits.Http2.KeepAlivePingTimeout = 2 * ping;
            kestrel.Listen(grpc, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (endpoints.GrpcTls)
                {
                    listen.UseHttps(certificate!);
                }

                endpoints.Grpc = listen;
            });
        });

        // Serve MudBlazor's and Plotly's assets from the build output as well as from a publish folder.
        builder.WebHost.UseStaticWebAssets();
    }

    public static void AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SqlitePragmas>();
        builder.Services.AddDbContextFactory<HyperTuneDbContext>((sp, o) =>
        {
            o.UseSqlite(sp.GetRequiredService<DashboardOptions>().DatabaseConnectionString);
            o.AddInterceptors(sp.GetRequiredService<SqlitePragmas>());
        });
        builder.Services.AddSingleton<StudyStore>();
    }

    public static void AddTuning(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StudyEvents>();
        builder.Services.AddSingleton<AgentRegistry>();
        builder.Services.AddSingleton<CheckpointRelay>();
        builder.Services.AddSingleton<AgentDirectory>();
        builder.Services.AddSingleton<Fleet>();
        builder.Services.AddSingleton<SchedulerSignal>();
        builder.Services.AddSingleton<StudyLauncher>();
        builder.Services.AddSingleton<TrialControl>();
        builder.Services.AddSingleton<TrialAnnotations>();
        builder.Services.AddSingleton<TrialPruning>();
        builder.Services.AddSingleton<AskTell>();
        builder.Services.AddSingleton<StageControl>();
        builder.Services.AddSingleton<AgentToken>();
        builder.Services.AddSingleton<AgentTokens>();
        builder.Services.AddHostedService<TrialScheduler>();
        builder.Services.AddSingleton<LostTrials>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LostTrials>());
        builder.Services.AddSingleton<AgentTokenInterceptor>();
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<AgentTokenInterceptor>();
            o.MaxReceiveMessageSize = MaxGrpcMessageBytes;
        });
    }

    public static void AddUserInterface(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
    }

    public static void InitializeDatabase(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<DashboardOptions>();
        Directory.CreateDirectory(Path.GetFullPath(options.DataDir));
        using var db = app.Services.GetRequiredService<IDbContextFactory<HyperTuneDbContext>>().CreateDbContext();
        db.Database.EnsureCreated();
        db.Database.UpgradeSchema();
        db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");

        // Resolve now so a generated token file exists before any agent looks for it.
        var token = app.Services.GetRequiredService<AgentToken>();
        app.Logger.LogInformation("SQLite database: {Database}; shared agent token: {Token}", options.DatabaseConnectionString,
            !options.AcceptSharedAgentToken ? "switched off (per-agent tokens only)" : token.FilePath ?? "from configuration");
    }

    public static void MapDashboard(this WebApplication app)
    {
        // Plotly.Blazor's charts ask for its full plotly.js: they get the dashboard's smaller build instead.
        app.UseRewriter(new RewriteOptions().AddRewrite(PlotlyScript.PlotlyBlazorScriptPattern, PlotlyScript.BundlePath, skipRemainingRules: true));
        app.UseSecurity();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapAccountEndpoints();
        app.MapGrpcService<AgentHubService>();
        app.MapGrpcService<CheckpointService>();
        app.MapHyperTuneApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        // Long-lived agent streams would hold a graceful shutdown open until its timeout: end them first.
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var agent in app.Services.GetRequiredService<AgentRegistry>().Connected)
            {
                agent.ClosedBecause = "the dashboard is stopping";
                agent.Closed.Cancel();
            }
        });
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var endpoints = app.Services.GetRequiredService<Endpoints>();
            app.Logger.LogInformation("HyperTune dashboard on {Web} (UI and REST API); agents connect to {Grpc}", endpoints.WebUri, endpoints.GrpcUri);
        });
    }
}
