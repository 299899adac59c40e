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
        _ => null,
    };
}
