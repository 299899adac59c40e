using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HyperTune.Agent.Slots;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Workloads;

namespace HyperTune.Agent.Workloads.Command;

/// <summary>
/// Runs a command the agent's configuration declares, one process per trial, without a shell: the declared arguments,
/// then "--name value" per hyperparameter; HYPERTUNE_PARAMS, HYPERTUNE_TRIAL_ID, HYPERTUNE_ATTEMPT and the slot's
/// CUDA_VISIBLE_DEVICES and thread counts in its environment. JSON lines on stdout are epoch reports; every line of
/// stdout and stderr goes to the trial's log. Exit code 0 completes the trial, any other fails it. A stop sends SIGINT,
/// then SIGTERM, then kills the process tree, waiting StopGraceSeconds between steps; a kill (also one that comes
/// during those waits) kills the process tree at once.
/// </summary>
public sealed class CommandWorkload : ITrialWorkload
{
    /// <summary>Longest log line kept; a longer one is cut (a progress bar without newlines must not flood the dashboard).</summary>
    public const int MaxLineLength = 2000;

    private const int SigInt = 2;
    private const int SigTerm = 15;

    // After the process exits, a child it left behind may hold the pipes open: read what is there, then go on.
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(5);

    private readonly CommandOptions _options;
    private readonly SlotLayout _slots;
    private readonly string _executable;

    public CommandWorkload(string commandName, CommandOptions options, SlotLayout slots)
    {
        CommandName = commandName;
        _options = options;
        _slots = slots;
        _executable = CommandOptions.ResolveExecutable(options.Executable ?? "", out var why)
            ?? throw new InvalidOperationException($"Agent:Commands:{commandName}:Executable {why}");
    }

    public string CommandName { get; }

    public string Name => CommandWorkloads.WorkloadName(CommandName);

    /// <summary>The process to start for <paramref name="request"/>: program, arguments, folder and environment.</summary>
    public ProcessStartInfo StartInfo(TrialRequest request)
    {
        var start = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = _options.WorkingDirectory ?? "",
        };
        foreach (var argument in _options.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in request.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            start.ArgumentList.Add("--" + name);
            start.ArgumentList.Add(Format(value));
        }

        var slot = _slots[request.Slot % _slots.Count];
        var threads = slot.CpuThreads.ToString(CultureInfo.InvariantCulture);
        start.Environment["OMP_NUM_THREADS"] = threads;
        start.Environment["MKL_NUM_THREADS"] = threads;
        // Python buffers a piped stdout; reports would arrive only at exit.
        start.Environment["PYTHONUNBUFFERED"] = "1";
        foreach (var (variable, value) in _options.Environment)
        {
            start.Environment[variable] = value;
        }

        start.Environment["CUDA_VISIBLE_DEVICES"] = slot.Gpus;
        start.Environment["HYPERTUNE_TRIAL_ID"] = request.TrialId.ToString(CultureInfo.InvariantCulture);
        start.Environment["HYPERTUNE_ATTEMPT"] = request.Attempt.ToString(CultureInfo.InvariantCulture);
        start.Environment["HYPERTUNE_PARAMS"] = JsonSerializer.Serialize(
            new SortedDictionary<string, ParamValue>(request.Parameters.ToDictionary(), StringComparer.Ordinal));
        return start;
    }

    /// <summary>A value as one argument: numbers in invariant round-trip form (0.001, 64, 1E-07), flags as true or false.</summary>
    public static string Format(ParamValue value) => value.Kind switch
    {
        ParamKind.Number => value.Number.ToString("R", CultureInfo.InvariantCulture),
        ParamKind.Flag => value.Flag ? "true" : "false",
        _ => value.Text ?? "",
    };

    public void Run(TrialRequest request, ITrialReporter reporter, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var start = StartInfo(request);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new TrialFailedException($"command {CommandName} could not start {start.FileName}: {e.Message}", e);
        }

        process.StandardInput.Close();
        reporter.Log(Note($"started {Describe(start)} (pid {process.Id}, slot {request.Slot}, CUDA_VISIBLE_DEVICES=\"{start.Environment["CUDA_VISIBLE_DEVICES"]}\")"));
        string? lastError = null;
        var stdout = Task.Run(() => PumpAsync(process.StandardOutput, line => Handle(line, reporter)), CancellationToken.None);
        var stderr = Task.Run(() => PumpAsync(process.StandardError, line =>
        {
            Volatile.Write(ref lastError, line);
            reporter.Log(line);
        }), CancellationToken.None);

        var stopped = WaitOrStop(process, reporter, cancellationToken, request.Kill);
        Task.WaitAll([stdout, stderr], DrainAfterExit);
        if (stopped)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        var code = process.ExitCode;
        reporter.Log(Note($"exited with code {code}"));
        if (code != 0)
        {
            var error = Volatile.Read(ref lastError);
            throw new TrialFailedException($"exited with code {code}" + (string.IsNullOrWhiteSpace(error) ? "" : $": {error.Trim()}"));
        }
    }

    private static void Handle(string line, ITrialReporter reporter)
    {
        reporter.Log(line);
        var output = CommandOutput.Parse(line);
        if (output.Note is { } note)
        {
            reporter.Log(Note(note));
        }

        if (output.Epoch is { } epoch)
        {
            reporter.Epoch(epoch, output.Metrics);
        }
    }

    /// <summary>
    /// Waits for the process; when the trial is stopped first: SIGINT, SIGTERM, kill, a grace period apart; when it is
    /// killed (first, or during a grace period): kill at once. True when stopped or killed.
    /// </summary>
    private bool WaitOrStop(Process process, ITrialReporter reporter, CancellationToken cancellationToken, CancellationToken kill)
    {
        try
        {
            process.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
            return false;
        }
        catch (OperationCanceledException)
        {
            // Stopped: ask the process to end, unless it is killed.
        }

        var grace = TimeSpan.FromSeconds(_options.StopGraceSeconds);
        if (!kill.IsCancellationRequested)
        {
            reporter.Log(Note("stopping: sent SIGINT"));
            Signal(process, SigInt);
            if (ExitsWithin(process, grace, kill))
            {
                return true;
            }
        }

        if (!kill.IsCancellationRequested)
        {
            reporter.Log(Note($"still running {grace.TotalSeconds:0} s after SIGINT: sent SIGTERM"));
            Signal(process, SigTerm);
            if (ExitsWithin(process, grace, kill))
            {
                return true;
            }
        }

        reporter.Log(Note(kill.IsCancellationRequested
            ? "killed: killing the process tree"
            : $"still running {grace.TotalSeconds:0} s after SIGTERM: killing the process tree"));
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return true;
    }

    /// <summary>True when the process exits within <paramref name="grace"/>; false at the end of it, or at once when killed.</summary>
    private static bool ExitsWithin(Process process, TimeSpan grace, CancellationToken kill)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(kill);
        wait.CancelAfter(grace);
        try
        {
            process.WaitForExitAsync(wait.Token).GetAwaiter().GetResult();
            return true;
        }
        catch (OperationCanceledException)
        {
            return process.HasExited;
        }
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> handle)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            handle(line.Length > MaxLineLength ? line[..MaxLineLength] + "…" : line);
        }
    }

    private static void Signal(Process process, int signal)
    {
        try
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, signal);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }

    private static string Describe(ProcessStartInfo start) =>
        string.Join(' ', start.ArgumentList.Prepend(start.FileName).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a));

    private static string Note(string text) => "[hypertune] " + text;

    // kill(2): .NET can only send SIGKILL to another process. A blittable DllImport needs no unsafe code.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
