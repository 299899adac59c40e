using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Protos.V1;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Grpc;

/// <summary>Maps between the wire contract and the domain, at the edge.</summary>
public static class ProtoMapping
{
    public static StartTrial ToStartTrial(ClaimedTrial claim, int slot)
    {
        var start = new StartTrial { TrialId = claim.Trial.Id, Attempt = claim.Trial.Attempt, Workload = claim.Workload, Slot = slot };
        foreach (var (name, value) in claim.Trial.Params)
        {
            start.Params[name] = ToProto(value);
        }

        // The checkpoint travels only when another agent holds it.
        if (claim.Trial.Resume is { } resume)
        {
            start.Resume = new ResumeFrom
            {
                Checkpoint = new CheckpointRef { TrialId = resume.TrialId, Attempt = resume.Attempt, Epoch = resume.Epoch },
                Fetch = resume.AgentId != claim.Trial.AgentId,
            };
        }

        if (claim.LrRangeTest is { } test)
        {
            start.LrRangeTest = new LrRangeTest { MinLr = test.MinLr, MaxLr = test.MaxLr, Steps = test.Steps };
        }

        return start;
    }

    public static Protos.V1.ParamValue ToProto(Shared.SearchSpaces.ParamValue value) => value.Kind switch
    {
        ParamKind.Number => new Protos.V1.ParamValue { Number = value.Number },
        ParamKind.Text => new Protos.V1.ParamValue { Text = value.Text },
        _ => new Protos.V1.ParamValue { Flag = value.Flag },
    };

    public static TrialState? ToState(TrialOutcome outcome) => outcome switch
    {
        TrialOutcome.Completed => TrialState.Completed,
        TrialOutcome.Stopped => TrialState.Stopped,
        TrialOutcome.Failed => TrialState.Failed,
        TrialOutcome.Diverged => TrialState.Diverged,
        TrialOutcome.Paused => TrialState.Paused,
        _ => null,
    };

    public static StopMode ToMode(TrialCommand command) => command switch
    {
        TrialCommand.Kill => StopMode.Kill,
        TrialCommand.Pause => StopMode.Pause,
        _ => StopMode.Graceful,
    };

    public static TrialCommand ToCommand(StopMode mode) => mode switch
    {
        StopMode.Kill => TrialCommand.Kill,
        StopMode.Pause => TrialCommand.Pause,
        _ => TrialCommand.Stop,
    };

    /// <summary>A heartbeat's telemetry; the agent's NaN and -1 for what it could not read become null.</summary>
    public static TelemetrySample ToTelemetry(Heartbeat heartbeat, DateTimeOffset receivedAt) => new(
        receivedAt,
        heartbeat.Host is { } host
            ? new HostReading(Known(host.CpuPercent), Known(host.MemoryUsedBytes), Known(host.MemoryTotalBytes), host.CpuCount)
            : null,
        [.. heartbeat.Gpus.Select(g => new GpuReading(g.Index, g.Name, Known(g.UtilizationPercent), Known(g.MemoryUsedBytes),
            Known(g.MemoryTotalBytes), Known(g.TemperatureCelsius), Known(g.PowerWatts)))]);

    private static double? Known(double value) => double.IsFinite(value) ? value : null;

    private static long? Known(long bytes) => bytes >= 0 ? bytes : null;
}
