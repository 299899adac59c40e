using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HyperTune.Dashboard.Data;

public sealed class HyperTuneDbContext(DbContextOptions<HyperTuneDbContext> options) : DbContext(options)
{
    public DbSet<StudyRow> Studies => Set<StudyRow>();

    public DbSet<TrialRow> Trials => Set<TrialRow>();

    public DbSet<EpochReportRow> EpochReports => Set<EpochReportRow>();

    public DbSet<EpochMetricRow> EpochMetrics => Set<EpochMetricRow>();

    public DbSet<AgentRow> Agents => Set<AgentRow>();

    public DbSet<StageRow> Stages => Set<StageRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
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
        modelBuilder.Entity<StageRow>(e =>
        {
            e.ToTable("stages");
            e.HasIndex(s => new { s.StudyId, s.Index }).IsUnique();
            e.HasOne<StudyRow>().WithMany().HasForeignKey(s => s.StudyId);
            e.Property(s => s.State).HasConversion<string>().HasMaxLength(16);
        });
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset; store UTC ticks.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
    }

    private sealed class UtcTicksConverter() : ValueConverter<DateTimeOffset, long>(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
}
