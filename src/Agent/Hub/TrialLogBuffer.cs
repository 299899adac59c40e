using HyperTune.Protos.V1;

namespace HyperTune.Agent.Hub;

/// <summary>
/// Lines trials printed, waiting to go to the dashboard in small batches: a batch is ready once <see cref="BatchLines"/>
/// lines wait or <see cref="BatchDelay"/> after the first one. Best effort: never acknowledged, and while the dashboard
/// is unreachable only the last <see cref="MaxPendingLines"/> lines of each trial are kept.
/// </summary>
public sealed class TrialLogBuffer(TimeProvider time)
{
    public const int BatchLines = 50;
    public const int MaxPendingLines = 200;
    public static readonly TimeSpan BatchDelay = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<(long TrialId, int Attempt), Queue<string>> _pending = [];
    private int _count;
    private TaskCompletionSource _any = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _full = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lines waiting to be sent.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public void Add(long trialId, int attempt, string line)
    {
        TaskCompletionSource? any = null;
        TaskCompletionSource? full = null;
        lock (_gate)
        {
            if (!_pending.TryGetValue((trialId, attempt), out var lines))
            {
                _pending[(trialId, attempt)] = lines = new Queue<string>();
            }

            lines.Enqueue(line);
            _count++;
            if (lines.Count > MaxPendingLines)
            {
                lines.Dequeue();
                _count--;
            }

            any = _any;
            if (_count >= BatchLines)
            {
                full = _full;
            }
        }

        any.TrySetResult();
        full?.TrySetResult();
    }

    /// <summary>Sends what waits without waiting for the batch to fill (a trial ended).</summary>
    public void Flush()
    {
        TaskCompletionSource full;
        lock (_gate)
        {
            full = _full;
        }

        full.TrySetResult();
    }

    /// <summary>Completes when a batch is ready: some lines wait, and they are <see cref="BatchLines"/> or <see cref="BatchDelay"/> old.</summary>
    public async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        Task any, full;
        lock (_gate)
        {
            any = _count > 0 ? Task.CompletedTask : _any.Task;
            full = _full.Task;
        }

        await any.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(full, Task.Delay(BatchDelay, time, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Takes every waiting line, as messages of at most <see cref="BatchLines"/> lines each.</summary>
    public IReadOnlyList<AgentMessage> Drain()
    {
        lock (_gate)
        {
            var messages = new List<AgentMessage>();
            foreach (var ((trialId, attempt), lines) in _pending)
            {
                foreach (var chunk in lines.Chunk(BatchLines))
                {
                    var log = new TrialLog { TrialId = trialId, Attempt = attempt };
                    log.Lines.Add(chunk);
                    messages.Add(new AgentMessage { Log = log });
                }
            }

            _pending.Clear();
            _count = 0;
            _any = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return messages;
        }
    }
}
