using Grpc.Core;
using HyperTune.Dashboard.Checkpoints;
using HyperTune.Protos.V1;

namespace HyperTune.Dashboard.Grpc;

/// <summary>Checkpoints between agents: an agent uploads one the dashboard asked for; another downloads it to fork or resume.</summary>
public sealed class CheckpointService(CheckpointRelay relay) : Protos.V1.Checkpoints.CheckpointsBase
{
    public override async Task<UploadReply> Upload(IAsyncStreamReader<CheckpointChunk> requestStream, ServerCallContext context) =>
        new() { Bytes = await relay.ReceiveAsync(requestStream, context.CancellationToken) };

    public override async Task Download(CheckpointRef request, IServerStreamWriter<CheckpointChunk> responseStream, ServerCallContext context)
    {
        var path = await relay.EnsureAsync(request, context.CancellationToken);
        await CheckpointTransfer.SendAsync(path, request, chunk => responseStream.WriteAsync(chunk, context.CancellationToken), context.CancellationToken);
    }
}
