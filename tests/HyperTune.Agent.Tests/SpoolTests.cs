using HyperTune.Agent.Hub;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace HyperTune.Agent.Tests;

/// <summary>The agent's spool: a real file in a temporary folder, opened again as a restarted agent would.</summary>
public sealed class SpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hypertune-spool-").FullName;

    private string FilePath => Path.Combine(_dir, Spool.FileName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Open_AfterReportsAndSomeAcks_RecoversTheUnacknowledgedInOrder()
    {
        using (var outbox = new Outbox(Spool.Open(_dir, NullLogger.Instance)))
        {
            outbox.Add(Report(7, 1, seq: 1, epoch: 1));
            outbox.Add(Report(7, 1, seq: 2, epoch: 2));
            outbox.Add(Report(8, 1, seq: 1, epoch: 1));
            outbox.Add(Finished(7, 1, seq: 3));
            outbox.Add(new AgentMessage { CommandReceived = new CommandReceived { TrialId = 7, Attempt = 1, Found = true } });
            Assert.True(outbox.Acknowledge(7, 1, 1));
        }

        using var restarted = new Outbox(Spool.Open(_dir, NullLogger.Instance));

        Assert.Equal([(7L, 1, 2L), (8L, 1, 1L), (7L, 1, 3L)], restarted.After(0).Select(m => Outbox.KeyOf(m.Message)));
        Assert.Equal(3, restarted.Unacknowledged);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)]
    public void Open_LastRecordCutShort_DropsItKeepsTheOthersAndAppendsAfterThem(int bytesCut)
    {
        using (var spool = Spool.Open(_dir, NullLogger.Instance))
        {
            spool.Append(Report(1, 1, seq: 1, epoch: 1));
            spool.Append(Report(1, 1, seq: 2, epoch: 2));
        }

        using (var file = new FileStream(FilePath, FileMode.Open))
        {
            file.SetLength(file.Length - bytesCut);
        }

        using (var torn = Spool.Open(_dir, NullLogger.Instance))
        {
            Assert.Equal([1L], torn.Recovered.Select(m => m.EpochReport.Seq));
            torn.Append(Report(1, 1, seq: 2, epoch: 2));
        }

        using var again = Spool.Open(_dir, NullLogger.Instance);
        Assert.Equal([1L, 2L], again.Recovered.Select(m => m.EpochReport.Seq));
    }

    [Fact]
    public void Open_LastRecordGarbled_DropsItAndKeepsTheOthers()
    {
        using (var spool = Spool.Open(_dir, NullLogger.Instance))
        {
            spool.Append(Report(1, 1, seq: 1, epoch: 1));
            spool.Append(Report(1, 1, seq: 2, epoch: 2));
        }

        var bytes = File.ReadAllBytes(FilePath);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(FilePath, bytes);

        using var reopened = Spool.Open(_dir, NullLogger.Instance);
        Assert.Equal([1L], reopened.Recovered.Select(m => m.EpochReport.Seq));
    }

    [Fact]
    public void Open_NotASpoolFile_KeepsItAsideAndStartsEmpty()
    {
        File.WriteAllText(FilePath, "not a spool");

        using var spool = Spool.Open(_dir, NullLogger.Instance);

        Assert.Empty(spool.Recovered);
        Assert.Single(Directory.GetFiles(_dir, Spool.FileName + ".unreadable-*"));
    }

    [Fact]
    public void Acknowledge_EverythingAcknowledged_ShrinksTheFileToItsHeader()
    {
        using var outbox = new Outbox(Spool.Open(_dir, NullLogger.Instance));
        outbox.Add(Report(1, 1, seq: 1, epoch: 1));
        var withOne = new FileInfo(FilePath).Length;

        outbox.Acknowledge(1, 1, 1);

        var emptyDir = Path.Combine(_dir, "empty");
        using (Spool.Open(emptyDir, NullLogger.Instance))
        {
            Assert.True(withOne > new FileInfo(FilePath).Length);
            Assert.Equal(new FileInfo(Path.Combine(emptyDir, Spool.FileName)).Length, new FileInfo(FilePath).Length);
        }
    }

    [Fact]
    public void Acknowledge_ManyWhileOthersWait_CompactsAndStillRecoversTheWaitingOnes()
    {
        using (var outbox = new Outbox(Spool.Open(_dir, NullLogger.Instance)))
        {
            outbox.Add(Report(1, 1, seq: 1, epoch: 1));
            for (var seq = 1; seq <= 600; seq++)
            {
                outbox.Add(Report(2, 1, seq, seq));
                outbox.Acknowledge(2, 1, seq);
            }

            outbox.Add(Report(3, 1, seq: 1, epoch: 1));
            // Uncompacted, 600 reports and their acks take over 36,000 bytes.
            Assert.True(new FileInfo(FilePath).Length < 18_000, $"the spool kept {new FileInfo(FilePath).Length} bytes for 2 waiting reports");
        }

        using var restarted = Spool.Open(_dir, NullLogger.Instance);
        Assert.Equal([1L, 3L], restarted.Recovered.Select(m => m.EpochReport.TrialId));
    }

    [Fact]
    public void Open_FolderInUseByAnotherAgent_FailsNamingSpoolDir()
    {
        using var first = Spool.Open(_dir, NullLogger.Instance);

        var error = Assert.Throws<IOException>(() => Spool.Open(_dir, NullLogger.Instance));

        Assert.StartsWith($"Agent:SpoolDir {_dir}: cannot open", error.Message, StringComparison.Ordinal);
    }

    private static AgentMessage Report(long trial, int attempt, long seq, int epoch)
    {
        var report = new EpochReport { TrialId = trial, Attempt = attempt, Seq = seq, Epoch = epoch };
        report.Metrics["val_loss"] = 1.0 / epoch;
        return new AgentMessage { EpochReport = report };
    }

    private static AgentMessage Finished(long trial, int attempt, long seq) =>
        new() { TrialFinished = new TrialFinished { TrialId = trial, Attempt = attempt, Seq = seq, Outcome = TrialOutcome.Completed } };
}
