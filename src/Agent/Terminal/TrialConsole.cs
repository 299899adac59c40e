using HyperTune.Agent.Hub;
using HyperTune.Agent.Slots;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Terminal;

/// <summary>
/// What the agent shows while it trains. On a terminal: a status block below the log, redrawn four times a second, with
/// the connection and one progress line per running trial. Otherwise (CI, systemd, a pipe): one log line per running trial
/// every <see cref="PlainInterval"/>, only when it moved, so logs never flood.
/// </summary>
public sealed class TrialConsole(
    TrialSlots slots,
    HubConnection hub,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<TrialConsole> logger,
    StatusBlockWriter? terminal = null) : BackgroundService
{
    public static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(long, int), string> _lastPlain = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(terminal is null ? PlainInterval : TerminalInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (terminal is null)
                {
                    LogMoved();
                }
                else
                {
                    terminal.Show(StatusLines(Width()));
                }
            }
        }
        finally
        {
            terminal?.Show([]);
        }
    }

    /// <summary>The terminal's status block: the connection, then one line per running trial.</summary>
    public IReadOnlyList<string> StatusLines(int width)
    {
        var running = slots.Snapshot();
        var agent = options.Value;
        var header = hub.Connected
            ? $"connected to dashboard {agent.DashboardUrl} as agent {agent.Id}; {running.Count}/{slots.Count} slot(s) busy"
            : $"not connected to dashboard {agent.DashboardUrl}; {running.Count}/{slots.Count} slot(s) busy";
        return [.. new[] { header }.Concat(running.Select(ProgressLine.Format)).Select(line => ProgressLine.Fit(line, width))];
    }

    private void LogMoved()
    {
        var running = slots.Snapshot();
        foreach (var trial in running)
        {
            var line = ProgressLine.Format(trial);
            if (!_lastPlain.TryGetValue((trial.TrialId, trial.Attempt), out var last) || last != line)
            {
                logger.LogInformation("Progress of {Line}", line);
            }

            _lastPlain[(trial.TrialId, trial.Attempt)] = line;
        }

        foreach (var gone in _lastPlain.Keys.Where(k => !running.Any(r => (r.TrialId, r.Attempt) == k)).ToList())
        {
            _lastPlain.Remove(gone);
        }
    }

    private static int Width()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 120;
        }
        catch (IOException)
        {
            return 120;
        }
    }
}
