using System.Diagnostics;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Runs a piece of work when poked, at most once per interval however often it is poked, and once more after the last
/// poke that came while it ran or waited, so the result always catches up. Poke it from one thread (a circuit's).
/// </summary>
public sealed class PlotThrottle : IDisposable
{
    private readonly Func<CancellationToken, Task> work;
    private readonly TimeSpan interval;
    private readonly double costFactor;
    private readonly TimeSpan longest;
    private readonly Func<TimeSpan, CancellationToken, Task> delay;
    private readonly CancellationTokenSource disposed = new();
    private long lastEnd;
    private TimeSpan gap;
    private bool pending;
    private bool running;

    /// <param name="work">What to run; it is never run twice at once.</param>
    /// <param name="interval">The least time from the end of one run to the start of the next.</param>
    /// <param name="costFactor">
    /// Stretches the wait after a run that took long to that many times its duration (0: never), so heavy work such as an
    /// importance fit keeps to a share of the machine.
    /// </param>
    /// <param name="longest">The most the wait is stretched to (a first run pays the JIT); <paramref name="interval"/> by default.</param>
    /// <param name="delay">How to wait (tests pass their own); Task.Delay by default.</param>
    public PlotThrottle(Func<CancellationToken, Task> work, TimeSpan interval, double costFactor = 0, TimeSpan? longest = null,
        Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        this.work = work;
        this.interval = interval;
        this.costFactor = costFactor;
        this.longest = longest is { } l && l > interval ? l : interval;
        this.delay = delay ?? Task.Delay;
    }

    /// <summary>How many times the work has run.</summary>
    public int Runs { get; private set; }

    /// <summary>Asks for a run: at once when the last one is long enough ago, otherwise when the interval is over.</summary>
    public void Poke()
    {
        pending = true;
        if (!running && !disposed.IsCancellationRequested)
        {
            _ = RunAsync();
        }
    }

    private async Task RunAsync()
    {
        running = true;
        try
        {
            while (pending && !disposed.IsCancellationRequested)
            {
                var wait = gap - Stopwatch.GetElapsedTime(lastEnd);
                if (wait > TimeSpan.Zero)
                {
                    await delay(wait, disposed.Token);
                    if (disposed.IsCancellationRequested)
                    {
                        break;
                    }
                }

                pending = false;
                var started = Stopwatch.GetTimestamp();
                await work(disposed.Token);
                Runs++;
                lastEnd = Stopwatch.GetTimestamp();
                gap = TimeSpan.FromTicks(Math.Clamp((long)(Stopwatch.GetElapsedTime(started, lastEnd).Ticks * costFactor), interval.Ticks, longest.Ticks));
            }
        }
        catch (OperationCanceledException) when (disposed.IsCancellationRequested)
        {
            // The page closed while the work waited or ran.
        }
        finally
        {
            running = false;
        }
    }

    public void Dispose()
    {
        disposed.Cancel();
        disposed.Dispose();
    }
}
