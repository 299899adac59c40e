using Google.Protobuf.WellKnownTypes;
using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;
using ProtoParamValue = HyperTune.Protos.V1.ParamValue;
using SharedParamValue = HyperTune.Shared.SearchSpaces.ParamValue;

namespace HyperTune.Agent.Hub;

/// <summary>Between the wire types of agent_hub.proto and the agent's own types.</summary>
public static class ProtoMapping
{
    public static TrialRequest ToRequest(this StartTrial command, int slot) => new(
        command.TrialId,
        command.Attempt,
        command.Workload,
        command.Params.ToDictionary(p => p.Key, p => p.Value.ToShared(p.Key), StringComparer.Ordinal),
        slot);

    public static SharedParamValue ToShared(this ProtoParamValue value, string name) => value.KindCase switch
    {
        ProtoParamValue.KindOneofCase.Number => SharedParamValue.Of(value.Number),
        ProtoParamValue.KindOneofCase.Text => SharedParamValue.Of(value.Text),
        ProtoParamValue.KindOneofCase.Flag => SharedParamValue.Of(value.Flag),
        _ => throw new TrialFailedException($"parameter {name} has no value"),
    };

    public static AgentMessage ToReport(this EpochMetrics metrics, long trialId, int attempt, long seq, DateTimeOffset endedAt)
    {
        var report = new EpochReport
        {
            TrialId = trialId,
            Attempt = attempt,
            Seq = seq,
            Epoch = metrics.Epoch,
            EndedAt = Timestamp.FromDateTimeOffset(endedAt),
        };
        foreach (var (name, value) in metrics.ToDictionary())
        {
            report.Metrics[name] = value;
        }

        return new AgentMessage { EpochReport = report };
    }

    public static AgentMessage Finished(long trialId, int attempt, long seq, TrialOutcome outcome, string reason) => new()
    {
        TrialFinished = new TrialFinished { TrialId = trialId, Attempt = attempt, Seq = seq, Outcome = outcome, Reason = reason },
    };
}
