using HyperTune.Dashboard.Components.Charts;

namespace HyperTune.Dashboard.Tests.Plots;

public sealed class PlotThrottleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Poke_ManyTimesWhileTheWorkRuns_RunsItOnceMoreAfterAWait()
    {
        var gates = new List<TaskCompletionSource>();
        var waits = new List<TimeSpan>();
        using var throttle = new PlotThrottle(
            _ =>
            {
                var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (gates)
                {
                    gates.Add(gate);
                }

                return gate.Task;
            },
            Interval,
            delay: (wait, _) =>
            {
                lock (waits)
                {
                    waits.Add(wait);
                }

                return Task.CompletedTask;
            });

        throttle.Poke();
        throttle.Poke();
        throttle.Poke();
        throttle.Poke();
        Assert.Single(gates);
        Assert.Empty(waits);

        gates[0].SetResult();
        await Until(() => gates.Count == 2);
        gates[1].SetResult();
        await Until(() => throttle.Runs == 2);

        Assert.Equal(2, gates.Count);
        var wait = Assert.Single(waits);
        Assert.InRange(wait, TimeSpan.FromTicks(1), Interval);
    }

    [Fact]
    public async Task Poke_AfterALongRun_WaitsThatManyTimesItsDurationUpToTheLongest()
    {
        var waits = new List<TimeSpan>();
        using var throttle = new PlotThrottle(
            token => Task.Delay(50, token),
            Interval,
            costFactor: 1000,
            longest: TimeSpan.FromSeconds(3),
            delay: (wait, _) =>
            {
                waits.Add(wait);
                return Task.CompletedTask;
            });

        throttle.Poke();
        await Until(() => throttle.Runs == 1);
        throttle.Poke();
        await Until(() => throttle.Runs == 2);

        // 50 ms × 1000 is far past the longest wait, so the wait is the longest less the moment since the run ended.
        Assert.InRange(Assert.Single(waits), Interval, TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Dispose_WhileWaiting_CancelsTheWait()
    {
        var waiting = new TaskCompletionSource<CancellationToken>();
        var throttle = new PlotThrottle(
            _ => Task.CompletedTask,
            TimeSpan.FromHours(1),
            delay: (wait, token) =>
            {
                waiting.TrySetResult(token);
                return Task.Delay(Timeout.InfiniteTimeSpan, token);
            });
        throttle.Poke();
        await Until(() => throttle.Runs == 1);
        throttle.Poke();
        var token = await waiting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(token.IsCancellationRequested);

        throttle.Dispose();

        Assert.True(token.IsCancellationRequested);
    }

    // Polls a condition the work's continuations make true on the thread pool (bounded, never a timing assertion).
    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
