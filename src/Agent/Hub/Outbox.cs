using HyperTune.Protos.V1;

namespace HyperTune.Agent.Hub;

/// <summary>
/// Epoch reports and trial finishes the dashboard has not acknowledged yet, in the order they were made. A message
/// leaves only when its Ack(trial, attempt, seq) arrives; every new connection sends all that remain, in order.
/// A CommandReceived travels in the same order (so it never overtakes a finish made before it) but needs no ack: it
/// leaves once written to a stream. With a <see cref="Spool"/>, every report and finish is on the disk before it can be
/// sent, and what a killed agent never got acknowledged is sent first after its restart.
/// </summary>
public sealed class Outbox : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _pending = [];
    private readonly Spool? _spool;
    private long _lastOrdinal;
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An outbox in memory only (lost with the process), or backed by <paramref name="spool"/>, starting with what it recovered.</summary>
    public Outbox(Spool? spool = null)
    {
        _spool = spool;
        foreach (var message in spool?.Recovered ?? [])
        {
            _pending.Add(new Entry(++_lastOrdinal, message));
        }
    }

    /// <summary>How many of the waiting messages need an ack (the reports and finishes a new connection sends first).</summary>
    public int Unacknowledged
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count(e => NeedsAck(e.Message));
            }
        }
    }

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

    /// <summary>Keeps <paramref name="message"/> (an epoch report or a trial finish) until it is acknowledged; a CommandReceived until it is written.</summary>
    public void Add(AgentMessage message)
    {
        var durable = NeedsAck(message);
        _ = durable ? KeyOf(message) : default;
        TaskCompletionSource added;
        lock (_gate)
        {
            // On the disk before the writer can see it: a report is never sent that a crash could lose.
            if (durable)
            {
                _spool?.Append(message);
            }

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
            if (_pending.RemoveAll(e => NeedsAck(e.Message) && KeyOf(e.Message) == (trialId, attempt, seq)) == 0)
            {
                return false;
            }

            _spool?.Acknowledged(new Ack { TrialId = trialId, Attempt = attempt, Seq = seq },
                [.. _pending.Where(e => NeedsAck(e.Message)).Select(e => e.Message)]);
            return true;
        }
    }

    /// <summary>The messages up to <paramref name="ordinal"/> were written to a stream: those that need no ack leave.</summary>
    public void Written(long ordinal)
    {
        lock (_gate)
        {
            _pending.RemoveAll(e => e.Ordinal <= ordinal && !NeedsAck(e.Message));
        }
    }

    public void Dispose() => _spool?.Dispose();

    private static bool NeedsAck(AgentMessage message) => message.KindCase != AgentMessage.KindOneofCase.CommandReceived;

    /// <summary>The (trial, attempt, seq) an epoch report or trial finish is acknowledged by.</summary>
    public static (long TrialId, int Attempt, long Seq) KeyOf(AgentMessage message) => message.KindCase switch
    {
        AgentMessage.KindOneofCase.EpochReport => (message.EpochReport.TrialId, message.EpochReport.Attempt, message.EpochReport.Seq),
        AgentMessage.KindOneofCase.TrialFinished => (message.TrialFinished.TrialId, message.TrialFinished.Attempt, message.TrialFinished.Seq),
        _ => throw new ArgumentException($"only epoch reports, trial finishes and command receipts go through the outbox, got {message.KindCase}", nameof(message)),
    };

    private sealed record Entry(long Ordinal, AgentMessage Message);
}
