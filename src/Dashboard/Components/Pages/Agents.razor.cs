using System.Globalization;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Live;
using Microsoft.AspNetCore.Components;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>
/// The fleet page: every machine with its CPU, RAM and GPUs (sparklines of the kept samples), its slots and the queue.
/// Heartbeats refresh the telemetry from memory; agent and trial changes reload from the store; both at most once a second.
/// </summary>
public sealed partial class Agents : IDisposable
{
    /// <summary>The most often an open page redraws, however many agents send heartbeats.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private readonly Lock gate = new();
    private readonly CancellationTokenSource disposed = new();
    private FleetView? fleet;
    private IDisposable? subscription;
    private bool reloadPending;
    private bool telemetryPending;
    private bool flushScheduled;
    private DateTimeOffset lastFlush;

    [Inject]
    private Fleet Fleet { get; set; } = null!;

    [Inject]
    private StudyEvents Events { get; set; } = null!;

    [Inject]
    private TimeProvider Clock { get; set; } = null!;

    private int Gpus => fleet?.Machines.Where(m => m.Agent.Online).Sum(m => m.Latest?.Gpus.Count ?? 0) ?? 0;

    private int IdleGpus => fleet?.Machines.Where(m => m.Agent.Online).Sum(m => m.IdleGpus) ?? 0;

    protected override async Task OnInitializedAsync()
    {
        subscription = Events.Subscribe(OnEvent);
        fleet = await Fleet.LoadAsync();
        lastFlush = Clock.GetUtcNow();
    }

    public void Dispose()
    {
        subscription?.Dispose();
        disposed.Cancel();
        disposed.Dispose();
    }

    private void OnEvent(LiveEvent e)
    {
        lock (gate)
        {
            switch (e)
            {
                case TelemetryRecorded:
                    telemetryPending = true;
                    break;
                case AgentsChanged or TrialChanged or StudyCreated:
                    reloadPending = true;
                    break;
                default:
                    return;
            }

            if (flushScheduled)
            {
                return;
            }

            flushScheduled = true;
        }

        _ = FlushAsync();
    }

    private async Task FlushAsync()
    {
        try
        {
            var wait = lastFlush + RefreshInterval - Clock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, Clock, disposed.Token);
            }

            bool reload;
            lock (gate)
            {
                reload = reloadPending;
                reloadPending = telemetryPending = flushScheduled = false;
            }

            lastFlush = Clock.GetUtcNow();
            await InvokeAsync(async () =>
            {
                fleet = reload || fleet is null ? await Fleet.LoadAsync(disposed.Token) : WithLatestTelemetry(fleet);
                StateHasChanged();
            });
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The page was closed.
        }
    }

    private FleetView WithLatestTelemetry(FleetView current) =>
        current with { Machines = [.. current.Machines.Select(m => m with { Samples = Fleet.TelemetryOf(m.Agent.Id) })] };

    private static IReadOnlyList<double?> Series(MachineView machine, Func<TelemetrySample, double?> reading) => [.. machine.Samples.Select(reading)];

    private static GpuReading? Gpu(TelemetrySample sample, int index) => sample.Gpus.FirstOrDefault(g => g.Index == index);

    private static DateTimeOffset LastSeen(MachineView machine) =>
        machine.Latest is { } latest && latest.At > machine.Agent.LastSeenAt ? latest.At : machine.Agent.LastSeenAt;

    private string Ago(DateTimeOffset at)
    {
        var seconds = Math.Max(0, (Clock.GetUtcNow() - at).TotalSeconds);
        return seconds switch
        {
            < 60 => $"{seconds:0} s ago",
            < 3600 => $"{seconds / 60:0} min ago",
            < 86400 => $"{seconds / 3600:0} h ago",
            _ => at.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        };
    }

    private static string Percent(double? value) => value is { } v ? v.ToString("0", CultureInfo.InvariantCulture) + " %" : "—";

    private static string Number(double? value, string unit) => value is { } v ? v.ToString("0", CultureInfo.InvariantCulture) + " " + unit : "—";

    private static string Bytes(long? bytes) => bytes is { } b ? (b / (1024.0 * 1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB" : "—";
}
