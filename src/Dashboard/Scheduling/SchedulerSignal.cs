using System.Threading.Channels;

namespace HyperTune.Dashboard.Scheduling;

/// <summary>Wakes the scheduler when something changed that may free a slot or add work; repeated pokes coalesce.</summary>
public sealed class SchedulerSignal
{
    private readonly Channel<bool> channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Poke() => channel.Writer.TryWrite(true);

    public async Task WaitAsync(TimeSpan fallback, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(fallback);
        try
        {
            await channel.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The fallback tick: look again even without a poke.
        }
    }
}
