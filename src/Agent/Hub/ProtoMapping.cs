using Google.Protobuf.WellKnownTypes;
using HyperTune.Agent.Workloads;
using HyperTune.Protos.V1;
using HyperTune.Shared.LearningRate;
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
        slot)
    {
        LrRangeTest = command.LrRangeTest is { } test ? new LrRangeTestSpec(test.MinLr, test.MaxLr, test.Steps, Auto: false) : null,
    };

    public static SharedParamValue ToShared(this ProtoParamValue value, string name) => value.KindCase switch
    {
        ProtoParamValue.KindOneofCase.Number => SharedParamValue.Of(value.Number),
        ProtoParamValue.KindOneofCase.Text => SharedParamValue.Of(value.Text),
        ProtoParamValue.KindOneofCase.Flag => SharedParamValue.Of(value.Flag),
        _ => throw new TrialFailedException($"parameter {name} has no value"),
    };

    public static AgentMessage ToReport(long trialId, int attempt, long seq, int epoch, IReadOnlyDictionary<string, double> metrics, DateTimeOffset endedAt,
        IReadOnlyList<int>? checkpointEpochs = null)
    {
        var report = new EpochReport
        {
            TrialId = trialId,
            Attempt = attempt,
            Seq = seq,
            Epoch = epoch,
            EndedAt = Timestamp.FromDateTimeOffset(endedAt),
        };
        foreach (var (name, value) in metrics)
        {
            report.Metrics[name] = value;
        }

        report.CheckpointEpochs.Add(checkpointEpochs ?? []);
        return new AgentMessage { EpochReport = report };
    }

    public static AgentMessage Received(long trialId, int attempt, StopMode mode, bool found) => new()
    {
        CommandReceived = new CommandReceived { TrialId = trialId, Attempt = attempt, Mode = mode, Found = found },
    };

    public static AgentMessage Finished(long trialId, int attempt, long seq, TrialOutcome outcome, string reason) => new()
    {
        TrialFinished = new TrialFinished { TrialId = trialId, Attempt = attempt, Seq = seq, Outcome = outcome, Reason = reason },
    };
}
