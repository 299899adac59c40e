using Grpc.Core;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Checkpoints;
using HyperTune.Dashboard.Data;
using HyperTune.Protos.V1;

namespace HyperTune.Dashboard.Grpc;

/// <summary>
/// Checkpoints between agents: an agent uploads one the dashboard asked for; another downloads it to fork or resume.
/// A valid token is not enough: only the checkpoint's holder may upload it, and only an agent running a trial that
/// starts from it may download it, so one agent's token cannot read or overwrite another's work.
/// </summary>
public sealed class CheckpointService(CheckpointRelay relay, AgentTokens tokens, StudyStore store, ILogger<CheckpointService> logger)
    : Protos.V1.Checkpoints.CheckpointsBase
{
    public override async Task<UploadReply> Upload(IAsyncStreamReader<CheckpointChunk> requestStream, ServerCallContext context)
    {
        var agentId = await CallerAsync(context);
        return new UploadReply
        {
            Bytes = await relay.ReceiveAsync(requestStream, async reference =>
            {
                var holder = await store.GetCheckpointHolderAsync(reference.TrialId, reference.Attempt, reference.Epoch, context.CancellationToken);
                if (holder != agentId)
                {
                    throw Refuse(context, agentId, $"agent \"{agentId}\" may not upload the {CheckpointRelay.Describe(reference)}: " +
                        (holder is null ? "no agent holds it" : $"agent \"{holder}\" holds it"));
                }
            }, context.CancellationToken),
        };
    }

    public override async Task Download(CheckpointRef request, IServerStreamWriter<CheckpointChunk> responseStream, ServerCallContext context)
    {
        var agentId = await CallerAsync(context);
        if (!await store.RunsTrialFromCheckpointAsync(agentId, request.TrialId, request.Attempt, request.Epoch, context.CancellationToken))
        {
            throw Refuse(context, agentId, $"agent \"{agentId}\" runs no trial that starts from the {CheckpointRelay.Describe(request)}");
        }

        var path = await relay.EnsureAsync(request, context.CancellationToken);
        await CheckpointTransfer.SendAsync(path, request, chunk => responseStream.WriteAsync(chunk, context.CancellationToken), context.CancellationToken);
    }

    /// <summary>The agent id the call names in its header, checked against its token as the hub checks a Hello.</summary>
    private async Task<string> CallerAsync(ServerCallContext context)
    {
        var agentId = context.RequestHeaders.GetValue(CheckpointTransfer.AgentIdHeader)?.Trim();
        if (string.IsNullOrEmpty(agentId))
        {
            throw Refuse(context, "(none)", $"the call names no agent: send the {CheckpointTransfer.AgentIdHeader} header with the agent's id");
        }

        if (await tokens.RefusalAsync(AgentCaller.Of(context), agentId, context.CancellationToken) is { } refusal)
        {
            throw Refuse(context, agentId, refusal);
        }

        return agentId;
    }

    private RpcException Refuse(ServerCallContext context, string agentId, string why)
    {
        logger.LogWarning("Refused {Method} from agent {AgentId} at {Peer}: {Why}", context.Method, agentId, context.Peer, why);
        return new RpcException(new Status(StatusCode.PermissionDenied, why));
    }
}
