using HyperTune.Agent.Hub;
using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Logging;

namespace HyperTune.Agent.Slots;

/// <summary>
/// The agent's trial slots. A started trial trains on its own thread; its epoch reports and its finish go to the
/// outbox, numbered by seq from 1 per (trial, attempt). Stopping cancels the trial, which ends between two batches.
/// </summary>
public sealed class TrialSlots
{
    private readonly Lock _gate = new();
    private readonly RunningTrial?[] _slots;
    private readonly WorkloadRegistry _workloads;
    private readonly Outbox _outbox;
    private readonly TimeProvider _time;
    private readonly ILogger<TrialSlots> _logger;

    public TrialSlots(TorchDevices devices, WorkloadRegistry workloads, Outbox outbox, TimeProvider time, ILogger<TrialSlots> logger)
    {
        _slots = new RunningTrial?[devices.Slots];
        _workloads = workloads;
        _outbox = outbox;
        _time = time;
        _logger = logger;
    }

    public int Count => _slots.Length;

    public int Busy
    {
        get
        {
            lock (_gate)
            {
                return _slots.Count(s => s is not null);
            }
        }
    }

    public IReadOnlyList<TrialRef> Running()
    {
        lock (_gate)
        {
            return _slots.OfType<RunningTrial>().Select(r => new TrialRef { TrialId = r.TrialId, Attempt = r.Attempt }).ToArray();
        }
    }

    /// <summary>Starts the trial in the slot asked for when free, else in any free slot; a refusal becomes a FAILED finish with the reason.</summary>
    public void Start(StartTrial command)
    {
        var workload = _workloads.Find(command.Workload);
        if (workload is null)
        {
            Refuse(command, $"unknown workload {command.Workload}; this agent runs: {string.Join(", ", _workloads.Names)}");
            return;
        }

        RunningTrial? run = null;
        lock (_gate)
        {
            if (_slots.Any(s => s is not null && s.TrialId == command.TrialId && s.Attempt == command.Attempt))
            {
                _logger.LogInformation("Trial {TrialId}/{Attempt} is already running; the repeated start is ignored", command.TrialId, command.Attempt);
                return;
            }

            var slot = command.Slot >= 0 && command.Slot < _slots.Length && _slots[command.Slot] is null
                ? command.Slot
                : Array.IndexOf(_slots, null);
            if (slot >= 0)
            {
                run = new RunningTrial(command.TrialId, command.Attempt, slot);
                _slots[slot] = run;
            }
        }

        if (run is null)
        {
            Refuse(command, $"no free slot ({_slots.Length} of {_slots.Length} busy)");
            return;
        }

        _logger.LogInformation("Trial {TrialId}/{Attempt} started on slot {Slot}: {Workload}", run.TrialId, run.Attempt, run.Slot, command.Workload);
        var request = command.ToRequest(run.Slot);
        run.Task = Task.Factory.StartNew(() => Execute(run, workload, request), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Cancels a running trial; it finishes STOPPED with <paramref name="reason"/>. False when it is not running here.</summary>
    public bool Stop(long trialId, int attempt, string reason)
    {
        RunningTrial? run;
        lock (_gate)
        {
            run = _slots.FirstOrDefault(s => s is not null && s.TrialId == trialId && s.Attempt == attempt);
        }

        if (run is null)
        {
            _logger.LogInformation("Stop for trial {TrialId}/{Attempt} ignored: it is not running here", trialId, attempt);
            return false;
        }

        run.Stop(string.IsNullOrWhiteSpace(reason) ? "stopped by the dashboard" : reason);
        return true;
    }

    /// <summary>Stops every running trial and waits (up to <paramref name="timeout"/>) for them to end.</summary>
    public async Task StopAllAsync(string reason, TimeSpan timeout)
    {
        RunningTrial[] runs;
        lock (_gate)
        {
            runs = _slots.OfType<RunningTrial>().ToArray();
        }

        foreach (var run in runs)
        {
            run.Stop(reason);
        }

        await Task.WhenAll(runs.Select(r => r.Task)).WaitAsync(timeout).ConfigureAwait(false);
    }

    private void Execute(RunningTrial run, ITrialWorkload workload, TrialRequest request)
    {
        TrialOutcome outcome;
        string reason;
        try
        {
            workload.Run(request, metrics => Report(run, metrics), run.Token);
            (outcome, reason) = (TrialOutcome.Completed, "");
        }
        catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
        {
            (outcome, reason) = (TrialOutcome.Stopped, run.StopReason);
        }
        catch (TrialFailedException e)
        {
            (outcome, reason) = (TrialOutcome.Failed, e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Trial {TrialId}/{Attempt} crashed", run.TrialId, run.Attempt);
            (outcome, reason) = (TrialOutcome.Failed, $"{e.GetType().Name}: {e.Message}");
        }

        // Free the slot before the finish is queued: the dashboard may answer the finish with the next start at once.
        lock (_gate)
        {
            _slots[run.Slot] = null;
        }

        run.Dispose();
        _outbox.Add(ProtoMapping.Finished(run.TrialId, run.Attempt, run.NextSeq(), outcome, reason));
        _logger.LogInformation("Trial {TrialId}/{Attempt} {Outcome}{Reason}", run.TrialId, run.Attempt,
            outcome.ToString().ToLowerInvariant(), reason.Length > 0 ? ": " + reason : "");
    }

    private void Report(RunningTrial run, EpochMetrics metrics)
    {
        _outbox.Add(metrics.ToReport(run.TrialId, run.Attempt, run.NextSeq(), _time.GetUtcNow()));
        _logger.LogInformation("Trial {TrialId}/{Attempt} epoch {Epoch}: loss {TrainLoss:F4} val_loss {ValLoss:F4} val_acc {ValAccuracy:F4} {ImagesPerSecond:F0} images/s",
            run.TrialId, run.Attempt, metrics.Epoch, metrics.TrainLoss, metrics.ValLoss, metrics.ValAccuracy, metrics.TrainImagesPerSecond);
    }

    private void Refuse(StartTrial command, string reason)
    {
        _logger.LogWarning("Trial {TrialId}/{Attempt} refused: {Reason}", command.TrialId, command.Attempt, reason);
        _outbox.Add(ProtoMapping.Finished(command.TrialId, command.Attempt, 1, TrialOutcome.Failed, reason));
    }

    private sealed class RunningTrial : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private long _seq;
        private string? _stopReason;

        public RunningTrial(long trialId, int attempt, int slot)
        {
            TrialId = trialId;
            Attempt = attempt;
            Slot = slot;
            Token = _stop.Token;
        }

        public long TrialId { get; }

        public int Attempt { get; }

        public int Slot { get; }

        public Task Task { get; set; } = Task.CompletedTask;

        public CancellationToken Token { get; }

        public string StopReason => Volatile.Read(ref _stopReason) ?? "stopped";

        public long NextSeq() => Interlocked.Increment(ref _seq);

        public void Stop(string reason)
        {
            Interlocked.CompareExchange(ref _stopReason, reason, null);
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The trial ended meanwhile.
            }
        }

        public void Dispose() => _stop.Dispose();
    }
}
