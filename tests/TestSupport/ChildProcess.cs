using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace HyperTune.TestSupport;

/// <summary>
/// A program of this repository run as a child process (dotnet its .dll from its build folder), its output kept for a
/// failing test's message, so a test can kill it with SIGKILL and start it again with the same configuration.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int SigCont = 18;
    private const int SigStop = 19;

    private readonly ProcessStartInfo _start;
    private readonly List<string> _output = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _watches = [];
    private readonly List<(Func<string, bool> Match, Action Act)> _reflexes = [];
    private Process _process = null!;
    private bool _disposed;

    private ChildProcess(ProcessStartInfo start)
    {
        _start = start;
        Launch();
    }

    /// <summary>What the program printed so far (stdout and stderr), each line stamped with the time it arrived.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts dotnet <paramref name="dll"/> with <paramref name="arguments"/> and <paramref name="environment"/>, in <paramref name="workingDirectory"/>.</summary>
    public static ChildProcess Start(string dll, string workingDirectory, IEnumerable<string>? arguments = null, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new ChildProcess(start);
    }

    /// <summary>
    /// The build output of <c>src/<paramref name="project"/></c> next to this test's (same configuration and target
    /// framework): the path of <paramref name="dll"/> there.
    /// </summary>
    public static string BuiltDll(string project, string dll)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (output.Name, output.Parent!.Name);
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Directory.Build.props")))
        {
            root = root.Parent;
        }

        var path = Path.Combine(root?.FullName ?? throw new DirectoryNotFoundException($"no Directory.Build.props above {output}"),
            "src", project, "bin", configuration, framework, dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build src/{project} first: {path} does not exist", path);
    }

    /// <summary>The first line (printed from now on, or already; with its time stamp) that <paramref name="match"/> accepts; a TimeoutException past <paramref name="timeout"/> or when the program exits first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            _watches.Add((match, seen));
        }

        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout));
        return first == seen.Task
            ? await seen.Task
            : throw new TimeoutException($"{(first == exited ? "the program exited" : $"no such line within {timeout}")}; output:\n{Output}");
    }

    /// <summary>
    /// Runs <paramref name="act"/> once, on the thread that reads the output, as soon as a line that <paramref name="match"/>
    /// accepts arrives: a fault that lands within milliseconds of what the program just said, whatever the machine's speed.
    /// </summary>
    public void OnFirstLine(Func<string, bool> match, Action act)
    {
        lock (_output)
        {
            _reflexes.Add((match, act));
        }
    }

    /// <summary>SIGSTOP: the program freezes where it is (mid-epoch, mid-write) until <see cref="Continue"/>.</summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>SIGCONT: a frozen program carries on from where it stopped.</summary>
    public void Continue() => Signal(SigCont);

    /// <summary>SIGKILL, as a crash or the OOM killer would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the program again with the same configuration (after <see cref="KillAsync"/>).</summary>
    public void Restart()
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException("the program is still running: kill it first");
        }

        _process.Dispose();
        Keep("--- restarted ---");
        Launch();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Launch()
    {
        _process = Process.Start(_start) ?? throw new InvalidOperationException($"dotnet {_start.ArgumentList[0]} did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        var stamped = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        lock (_output)
        {
            _output.Add(stamped);
            foreach (var reflex in _reflexes.Where(r => r.Match(stamped)).ToList())
            {
                _reflexes.Remove(reflex);
                reflex.Act();
            }

            foreach (var watch in _watches.Where(w => w.Match(stamped)).ToList())
            {
                watch.Seen.TrySetResult(stamped);
                _watches.Remove(watch);
            }
        }
    }

    private void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
