using HyperTune.Agent.Slots;
using HyperTune.Agent.Terminal;
using HyperTune.Agent.Workloads;

namespace HyperTune.Agent.Tests;

public sealed class TerminalTests
{
    [Fact]
    public void Format_TrialWithProgress_ShowsEpochBatchLossAndSpeed()
    {
        var trial = new RunningTrialView(12, 1, 0, "fashion-mnist-cnn", new TrialProgress(2, 3, 140, 157, 0.43121, 2150.4), []);

        Assert.Equal("trial 12 slot 0: epoch 2/3, batch 140/157, loss 0.4312, 2150 images/s", ProgressLine.Format(trial));
    }

    [Fact]
    public void Format_RetriedTrialBeforeItsFirstBatch_NamesTheAttemptAndSaysStarting()
    {
        var trial = new RunningTrialView(7, 2, 1, "fashion-mnist-mlp", null, []);

        Assert.Equal("trial 7 (attempt 2) slot 1: fashion-mnist-mlp starting", ProgressLine.Format(trial));
    }

    [Fact]
    public void Format_NaNLoss_IsWrittenAsNaN()
    {
        var trial = new RunningTrialView(3, 1, 0, "w", new TrialProgress(1, 1, 1, 10, double.NaN, 0), []);

        Assert.Contains("loss NaN", ProgressLine.Format(trial));
    }

    [Theory]
    [InlineData("short", 10, "short")]
    [InlineData("0123456789abc", 10, "012345678…")]
    public void Fit_LineWiderThanTheTerminal_IsCutWithAnEllipsis(string line, int width, string expected) =>
        Assert.Equal(expected, ProgressLine.Fit(line, width));

    [Fact]
    public void StatusBlockWriter_LogLineWhileABlockIsShown_ErasesTheBlockWritesTheLineAndRedrawsTheBlock()
    {
        using var screen = new StringWriter();
        using var writer = new StatusBlockWriter(screen);

        writer.Show(["connected", "trial 1"]);
        writer.Write("a log line\n");
        writer.Show([]);

        Assert.Equal("connected\ntrial 1" + "\r\e[1A\e[J" + "a log line\n" + "connected\ntrial 1" + "\r\e[1A\e[J", screen.ToString());
    }

    [Fact]
    public void StatusBlockWriter_LineWrittenInPieces_RedrawsOnlyAfterItsNewline()
    {
        using var screen = new StringWriter();
        using var writer = new StatusBlockWriter(screen);

        writer.Show(["status"]);
        writer.Write("part one, ");
        writer.Show(["status 2"]);
        writer.WriteLine("part two");

        Assert.Equal("status" + "\r\e[J" + "part one, part two\n" + "status 2", screen.ToString().Replace(Environment.NewLine, "\n", StringComparison.Ordinal));
    }
}
