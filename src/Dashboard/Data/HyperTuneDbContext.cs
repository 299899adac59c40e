using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HyperTune.Dashboard.Data;

/// <summary>Studies, trials and their epochs, agents, and the people who sign in (ASP.NET Core Identity) with their API tokens.</summary>
public sealed partial class HyperTuneDbContext(DbContextOptions<HyperTuneDbContext> options) : IdentityDbContext<IdentityUser>(options)
{
    public DbSet<StudyRow> Studies => Set<StudyRow>();

    public DbSet<TrialRow> Trials => Set<TrialRow>();

    public DbSet<EpochReportRow> EpochReports => Set<EpochReportRow>();

    public DbSet<EpochMetricRow> EpochMetrics => Set<EpochMetricRow>();

    public DbSet<AgentRow> Agents => Set<AgentRow>();

    public DbSet<TrialLogRow> TrialLogs => Set<TrialLogRow>();

    public DbSet<StageRow> Stages => Set<StageRow>();

    public DbSet<AgentTokenRow> AgentTokens => Set<AgentTokenRow>();

    public DbSet<ApiTokenRow> ApiTokens => Set<ApiTokenRow>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        MapIdentity(builder);
        var modelBuilder = builder; // the name the configuration below has always used
        modelBuilder.Entity<StudyRow>(e =>
        {
            e.ToTable("studies");
            e.Property(s => s.Name).HasMaxLength(200);
            e.HasMany(s => s.Trials).WithOne(t => t.Study).HasForeignKey(t => t.StudyId);
        });
        modelBuilder.Entity<TrialRow>(e =>
        {
            e.ToTable("trials");
            e.HasIndex(t => new { t.StudyId, t.Number }).IsUnique();
            e.HasIndex(t => t.State);
            e.Property(t => t.State).HasConversion<string>().HasMaxLength(16);
            e.Property(t => t.Command).HasConversion<string>().HasMaxLength(16);
            e.Property(t => t.CommandState).HasConversion<string>().HasMaxLength(16);
        });
        modelBuilder.Entity<EpochReportRow>(e =>
        {
            e.ToTable("epoch_reports");
            e.HasIndex(r => new { r.TrialId, r.Attempt, r.Seq }).IsUnique();
            e.HasOne<TrialRow>().WithMany().HasForeignKey(r => r.TrialId);
            e.HasMany(r => r.Metrics).WithOne().HasForeignKey(m => m.ReportId);
        });
        modelBuilder.Entity<EpochMetricRow>(e =>
        {
            e.ToTable("epoch_metrics");
            e.HasIndex(m => new { m.ReportId, m.Name }).IsUnique();
        });
        modelBuilder.Entity<AgentRow>(e => e.ToTable("agents"));
        modelBuilder.Entity<TrialLogRow>(e =>
        {
            e.ToTable("trial_logs");
            e.HasIndex(l => new { l.TrialId, l.Id });
            e.HasOne<TrialRow>().WithMany().HasForeignKey(l => l.TrialId);
        });
        modelBuilder.Entity<StageRow>(e =>
        {
            e.ToTable("stages");
            e.HasIndex(s => new { s.StudyId, s.Index }).IsUnique();
            e.HasOne<StudyRow>().WithMany().HasForeignKey(s => s.StudyId);
            e.Property(s => s.State).HasConversion<string>().HasMaxLength(16);
        });
        modelBuilder.Entity<AgentTokenRow>(e =>
        {
            e.ToTable("agent_tokens");
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasIndex(t => t.AgentId);
        });
    }

    // Identity's tables named like the others (AspNetUserRoles: user_roles); an API token goes with its user.
    private static void MapIdentity(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (entity.GetTableName() is { } table && table.StartsWith("AspNet", StringComparison.Ordinal))
            {
                entity.SetTableName(SnakeCase().Replace(table["AspNet".Length..], "$1_$2").ToLowerInvariant());
            }
        }

        modelBuilder.Entity<ApiTokenRow>(e =>
        {
            e.ToTable("api_tokens");
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasIndex(t => t.UserId);
            e.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
            e.Property(t => t.Name).HasMaxLength(80);
        });
    }

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex SnakeCase();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset; store UTC ticks.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
    }

    private sealed class UtcTicksConverter() : ValueConverter<DateTimeOffset, long>(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
}
