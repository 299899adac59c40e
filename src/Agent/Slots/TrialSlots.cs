using System.Globalization;
using HyperTune.Agent.Checkpoints;
using HyperTune.Agent.Hub;
using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;
using HyperTune.Shared.Workloads;
using Microsoft.Extensions.Logging;

namespace HyperTune.Agent.Slots;

/// <summary>
/// The agent's trial slots. A started trial trains on its own thread; its epoch reports and its finish go to the
/// outbox, numbered by seq from 1 per (trial, attempt). Stopping cancels the trial, which ends between two batches;
/// a kill also skips the end-of-epoch checkpoint and any grace a command gets; a pause finishes it PAUSED.
/// </summary>
public sealed class TrialSlots
{
    /// <summary>Stops for attempts not running here that are remembered, so that a start arriving after its stop is refused.</summary>
    public const int RememberedStops = 100;

    private readonly Lock _gate = new();
    private readonly LinkedList<(long TrialId, int Attempt, string Reason)> _stoppedBeforeStart = new();
    private readonly RunningTrial?[] _slots;
    private readonly WorkloadRegistry _workloads;
    private readonly Outbox _outbox;
    private readonly TrialLogBuffer _logs;
    private readonly TimeProvider _time;
    private readonly ILogger<TrialSlots> _logger;

    private readonly CheckpointStore _checkpoints;
    private readonly CheckpointClient _checkpointClient;

    public TrialSlots(SlotLayout layout, WorkloadRegistry workloads, Outbox outbox, TrialLogBuffer logs, CheckpointStore checkpoints, CheckpointClient checkpointClient,
        TimeProvider time, ILogger<TrialSlots> logger)
    {
        _checkpoints = checkpoints;
        _checkpointClient = checkpointClient;
        _slots = new RunningTrial?[layout.Count];
        _workloads = workloads;
        _outbox = outbox;
        _logs = logs;
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

    /// <summary>What each running trial is doing now, for the console.</summary>
    public IReadOnlyList<RunningTrialView> Snapshot()
    {
        lock (_gate)
        {
            return _slots.OfType<RunningTrial>().Select(r => new RunningTrialView(r.TrialId, r.Attempt, r.Slot, r.Workload, r.Progress, r.LogTail())).ToArray();
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
            Refuse(command, $"unknown workload {command.Workload}; this agent runs: {string.Join(", ", _workloads.Names.Concat(_workloads.Commands.Select(CommandWorkloads.WorkloadName)))}");
            return;
        }

        RunningTrial? run = null;
        string? stoppedBefore = null;
        lock (_gate)
        {
            if (_stoppedBeforeStart.FirstOrDefault(s => s.TrialId == command.TrialId && s.Attempt == command.Attempt) is { Reason: { } reason } stopped)
            {
                _stoppedBeforeStart.Remove(stopped);
                stoppedBefore = reason;
            }
            else if (_slots.Any(s => s is not null && s.TrialId == command.TrialId && s.Attempt == command.Attempt))
            {
                _logger.LogInformation("Trial {TrialId}/{Attempt} is already running; the repeated start is ignored", command.TrialId, command.Attempt);
                return;
            }

            var slot = command.Slot >= 0 && command.Slot < _slots.Length && _slots[command.Slot] is null
                ? command.Slot
                : Array.IndexOf(_slots, null);
            if (slot >= 0)
            {
                run = new RunningTrial(command.TrialId, command.Attempt, slot, command.Workload) { Resume = command.Resume };
                _slots[slot] = run;
            }
        }

        if (stoppedBefore is not null)
        {
            // The dashboard's stop overtook its start (it was sent while the start was on its way): the attempt never runs.
            _logger.LogInformation("Trial {TrialId}/{Attempt} was stopped before it started: {Reason}", command.TrialId, command.Attempt, stoppedBefore);
            _outbox.Add(ProtoMapping.Finished(command.TrialId, command.Attempt, 1, TrialOutcome.Stopped, stoppedBefore));
            return;
        }

        if (run is null)
        {
            Refuse(command, $"no free slot ({_slots.Length} of {_slots.Length} busy)");
            return;
        }

        _logger.LogInformation("Trial {TrialId}/{Attempt} started on slot {Slot}: {Workload}", run.TrialId, run.Attempt, run.Slot, command.Workload);
        var request = command.ToRequest(run.Slot) with { Kill = run.KillToken };
        run.Task = Task.Factory.StartNew(() => Execute(run, workload, request), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Confirms the command to the dashboard (CommandReceived, found or not) before anything else, then cancels the
    /// running trial: it finishes STOPPED (PAUSED for a pause) with <paramref name="reason"/>. A kill outranks a stop, which
    /// outranks a pause. False when that attempt is not running here; it is then remembered, so a start for it that
    /// arrives later is refused as stopped.
    /// </summary>
    public bool Stop(long trialId, int attempt, string reason, StopMode mode = StopMode.Graceful)
    {
        RunningTrial? run;
        reason = string.IsNullOrWhiteSpace(reason) ? "stopped by the dashboard" : reason;
        lock (_gate)
        {
            run = _slots.FirstOrDefault(s => s is not null && s.TrialId == trialId && s.Attempt == attempt);
            if (run is null)
            {
                _stoppedBeforeStart.AddLast((trialId, attempt, reason));
                while (_stoppedBeforeStart.Count > RememberedStops)
                {
                    _stoppedBeforeStart.RemoveFirst();
                }
            }

            // Queued before the run can finish, so the dashboard hears "delivered" before "stopped".
            _outbox.Add(ProtoMapping.Received(trialId, attempt, mode, found: run is not null));
        }

        if (run is null)
        {
            _logger.LogInformation("{Mode} for trial {TrialId}/{Attempt} answered not found: it is not running here", mode, trialId, attempt);
            return false;
        }

        _logger.LogInformation("{Mode} for trial {TrialId}/{Attempt}: {Reason}", mode, trialId, attempt, reason);
        run.Stop(reason, mode);
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
            run.Stop(reason, StopMode.Graceful);
        }

        await Task.WhenAll(runs.Select(r => r.Task)).WaitAsync(timeout).ConfigureAwait(false);
    }

    private void Execute(RunningTrial run, ITrialWorkload workload, TrialRequest request)
    {
        TrialOutcome outcome;
        string reason;
        try
        {
            request = WithResume(request, run);
            workload.Run(request, new SlotReporter(this, run), run.Token);
            (outcome, reason) = (TrialOutcome.Completed, "");
        }
        catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
        {
            (outcome, reason) = (run.Mode == StopMode.Pause ? TrialOutcome.Paused : TrialOutcome.Stopped, run.StopReason);
        }
        catch (TrialDivergedException e)
        {
            (outcome, reason) = (TrialOutcome.Diverged, e.Message);
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

        _logs.Flush();
        lock (_gate)
        {
            // Free the slot before the finish is queued (the dashboard may answer it with the next start at once), and
            // queue the finish before a stop can find the slot empty, so its "not running here" never overtakes it.
            _slots[run.Slot] = null;
            _outbox.Add(ProtoMapping.Finished(run.TrialId, run.Attempt, run.NextSeq(), outcome, reason));
        }

        run.Dispose();
        _logger.LogInformation("Trial {TrialId}/{Attempt} {Outcome}{Reason}", run.TrialId, run.Attempt,
            outcome.ToString().ToLowerInvariant(), reason.Length > 0 ? ": " + reason : "");
    }

    private void Report(RunningTrial run, int epoch, IReadOnlyDictionary<string, double> metrics)
    {
        _outbox.Add(ProtoMapping.ToReport(run.TrialId, run.Attempt, run.NextSeq(), epoch, metrics, _time.GetUtcNow(), run.CheckpointEpochs));
        _logger.LogInformation("Trial {TrialId}/{Attempt} epoch {Epoch}: {Metrics}", run.TrialId, run.Attempt, epoch,
            string.Join(" ", metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key}={m.Value:G5}"))));
    }

    private void Refuse(StartTrial command, string reason)
    {
        _logger.LogWarning("Trial {TrialId}/{Attempt} refused: {Reason}", command.TrialId, command.Attempt, reason);
        _outbox.Add(ProtoMapping.Finished(command.TrialId, command.Attempt, 1, TrialOutcome.Failed, reason));
    }

    /// <summary>The request with its checkpoint file in place: downloaded first when another agent holds it.</summary>
    private TrialRequest WithResume(TrialRequest request, RunningTrial run)
    {
        // A new attempt starts with no checkpoints of its own (a file left from a dashboard whose ids restarted is not its).
        _checkpoints.Clear(run.TrialId, run.Attempt);
        if (run.Resume is not { } resume)
        {
            return request;
        }

        var source = resume.Checkpoint;
        var what = string.Create(CultureInfo.InvariantCulture, $"the checkpoint of trial {source.TrialId} (attempt {source.Attempt}) after epoch {source.Epoch}");
        if (resume.Fetch)
        {
            _logger.LogInformation("Trial {TrialId}/{Attempt} fetches {Checkpoint}", run.TrialId, run.Attempt, what);
            try
            {
                _checkpointClient.DownloadAsync(source, run.Token).GetAwaiter().GetResult();
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode != Grpc.Core.StatusCode.Cancelled)
            {
                throw new TrialFailedException($"could not fetch {what}: {ex.Status.Detail}");
            }
        }

        return _checkpoints.Exists(source)
            ? request with { Resume = new ResumePoint(_checkpoints.PathOf(source), source.Epoch) }
            : throw new TrialFailedException($"{what} is not on this agent");
    }

    private sealed class SlotReporter(TrialSlots slots, RunningTrial run) : ITrialReporter
    {
        public void Epoch(int epoch, IReadOnlyDictionary<string, double> metrics) => slots.Report(run, epoch, metrics);

        public void SaveCheckpoint(int epoch, bool isBest, Action<Stream> write)
        {
            // A killed trial ends at once: no end-of-epoch checkpoint (nor the report that would follow it).
            run.KillToken.ThrowIfCancellationRequested();
            run.CheckpointEpochs = slots._checkpoints.Save(run.TrialId, run.Attempt, epoch, isBest, write);
        }

        public void Progress(TrialProgress progress) => run.Progress = progress;

        public void Log(string line)
        {
            run.AddLogLine(line);
            slots._logs.Add(run.TrialId, run.Attempt, line);
        }
    }

    private sealed class RunningTrial : IDisposable
    {
        /// <summary>Lines of output kept per trial: enough to see why it failed, bounded for long runs.</summary>
        public const int LogTailLines = 200;

        private readonly CancellationTokenSource _stop = new();
        private readonly CancellationTokenSource _kill = new();
        private readonly Lock _stopGate = new();
        private readonly Queue<string> _log = new();
        private long _seq;
        private string? _stopReason;
        private StopMode? _mode;
        private TrialProgress? _progress;

        public RunningTrial(long trialId, int attempt, int slot, string workload)
        {
            TrialId = trialId;
            Attempt = attempt;
            Slot = slot;
            Workload = workload;
            Token = _stop.Token;
            KillToken = _kill.Token;
        }

        public string Workload { get; }

        public ResumeFrom? Resume { get; init; }

        /// <summary>The epochs whose checkpoints this attempt keeps, sent with the next epoch report.</summary>
        public IReadOnlyList<int> CheckpointEpochs { get; set; } = [];

        public TrialProgress? Progress
        {
            get => Volatile.Read(ref _progress);
            set => Volatile.Write(ref _progress, value);
        }

        public void AddLogLine(string line)
        {
            lock (_log)
            {
                _log.Enqueue(line);
                while (_log.Count > LogTailLines)
                {
                    _log.Dequeue();
                }
            }
        }

        public IReadOnlyList<string> LogTail()
        {
            lock (_log)
            {
                return _log.ToArray();
            }
        }

        public long TrialId { get; }

        public int Attempt { get; }

        public int Slot { get; }

        public Task Task { get; set; } = Task.CompletedTask;

        public CancellationToken Token { get; }

        /// <summary>Cancelled when the trial is killed (its <see cref="Token"/> is cancelled too).</summary>
        public CancellationToken KillToken { get; }

        public string StopReason
        {
            get
            {
                lock (_stopGate)
                {
                    return _stopReason ?? "stopped";
                }
            }
        }

        /// <summary>How the trial was asked to end: the strongest of the stops it got; null while none came.</summary>
        public StopMode? Mode
        {
            get
            {
                lock (_stopGate)
                {
                    return _mode;
                }
            }
        }

        public long NextSeq() => Interlocked.Increment(ref _seq);

        /// <summary>Ends the run; a stronger mode (kill over graceful over pause) replaces a weaker one and its reason.</summary>
        public void Stop(string reason, StopMode mode)
        {
            lock (_stopGate)
            {
                if (_mode is { } current && Rank(current) >= Rank(mode))
                {
                    return;
                }

                (_mode, _stopReason) = (mode, reason);
            }

            try
            {
                if (mode == StopMode.Kill)
                {
                    _kill.Cancel();
                }

                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The trial ended meanwhile.
            }
        }

        public void Dispose()
        {
            _stop.Dispose();
            _kill.Dispose();
        }

        private static int Rank(StopMode mode) => mode switch
        {
            StopMode.Kill => 2,
            StopMode.Graceful => 1,
            _ => 0,
        };
    }
}

/// <summary>A running trial as the console shows it: where it runs, how far it is, and the tail of its output.</summary>
public sealed record RunningTrialView(long TrialId, int Attempt, int Slot, string Workload, TrialProgress? Progress, IReadOnlyList<string> LogTail);
