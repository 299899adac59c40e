using HyperTune.Protos.V1;

namespace HyperTune.Agent.Hub;

/// <summary>
/// Epoch reports and trial finishes the dashboard has not acknowledged yet, in the order they were made. A message
/// leaves only when its Ack(trial, attempt, seq) arrives; every new connection sends all that remain, in order.
/// </summary>
public sealed class Outbox
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _pending = [];
    private long _lastOrdinal;
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Keeps <paramref name="message"/> (an epoch report or a trial finish) until it is acknowledged.</summary>
    public void Add(AgentMessage message)
    {
        _ = Key(message);
        TaskCompletionSource added;
        lock (_gate)
        {
            _pending.Add(new Entry(++_lastOrdinal, message));
            added = _added;
            _added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        added.TrySetResult();
    }

    /// <summary>The unacknowledged messages added after <paramref name="ordinal"/> (0: all), oldest first, with their ordinals.</summary>
    public IReadOnlyList<(long Ordinal, AgentMessage Message)> After(long ordinal)
    {
        lock (_gate)
        {
            return _pending.Where(e => e.Ordinal > ordinal).Select(e => (e.Ordinal, e.Message)).ToArray();
        }
    }

    /// <summary>Completes once a message with an ordinal above <paramref name="ordinal"/> is waiting.</summary>
    public Task WaitAfterAsync(long ordinal)
    {
        lock (_gate)
        {
            return _pending.Count > 0 && _pending[^1].Ordinal > ordinal ? Task.CompletedTask : _added.Task;
        }
    }

    /// <summary>Forgets the message the dashboard has committed; false when none matches (already forgotten).</summary>
    public bool Acknowledge(long trialId, int attempt, long seq)
    {
        lock (_gate)
        {
            return _pending.RemoveAll(e => Key(e.Message) == (trialId, attempt, seq)) > 0;
        }
    }

    private static (long TrialId, int Attempt, long Seq) Key(AgentMessage message) => message.KindCase switch
    {
        AgentMessage.KindOneofCase.EpochReport => (message.EpochReport.TrialId, message.EpochReport.Attempt, message.EpochReport.Seq),
        AgentMessage.KindOneofCase.TrialFinished => (message.TrialFinished.TrialId, message.TrialFinished.Attempt, message.TrialFinished.Seq),
        _ => throw new ArgumentException($"only epoch reports and trial finishes wait for an ack, got {message.KindCase}", nameof(message)),
    };

    private sealed record Entry(long Ordinal, AgentMessage Message);
}
