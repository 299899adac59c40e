using Grpc.Core;
using Grpc.Net.Client;
using HyperTune.Agent.Hub;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Checkpoints;

/// <summary>The agent's side of the Checkpoints service: uploads a checkpoint the dashboard asks for, downloads one to fork or resume from.</summary>
public sealed class CheckpointClient(IOptions<AgentOptions> options, AgentTokenSource tokens, CheckpointStore store, ILogger<CheckpointClient> logger) : IDisposable
{
    private readonly GrpcChannel _channel = DashboardChannel.Create(options.Value);

    /// <summary>Uploads a checkpoint held here; logs instead of throwing, since nobody waits on this side.</summary>
    public async Task UploadAsync(CheckpointRef reference, CancellationToken ct)
    {
        var path = store.PathOf(reference);
        if (!File.Exists(path))
        {
            logger.LogWarning("The dashboard asked for trial {TrialId}'s checkpoint after epoch {Epoch} (attempt {Attempt}), which this agent no longer holds",
                reference.TrialId, reference.Epoch, reference.Attempt);
            return;
        }

        try
        {
            using var call = new Protos.V1.Checkpoints.CheckpointsClient(_channel).Upload(Headers(), cancellationToken: ct);
            await CheckpointTransfer.SendAsync(path, reference, chunk => call.RequestStream.WriteAsync(chunk, ct), ct).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            var reply = await call.ResponseAsync.ConfigureAwait(false);
            logger.LogInformation("Uploaded trial {TrialId}'s checkpoint after epoch {Epoch}: {Bytes} bytes", reference.TrialId, reference.Epoch, reply.Bytes);
        }
        catch (RpcException ex)
        {
            logger.LogWarning("Upload of trial {TrialId}'s checkpoint after epoch {Epoch} failed: {Status}", reference.TrialId, reference.Epoch, ex.Status);
        }
    }

    /// <summary>Downloads a checkpoint into the store (kept under its source's name); throws RpcException saying why it could not.</summary>
    public async Task DownloadAsync(CheckpointRef reference, CancellationToken ct)
    {
        using var call = new Protos.V1.Checkpoints.CheckpointsClient(_channel).Download(reference, Headers(), cancellationToken: ct);
        await store.ImportAsync(reference, async file =>
        {
            var (received, _) = await CheckpointTransfer.ReceiveAsync(call.ResponseStream, file, long.MaxValue, ct).ConfigureAwait(false);
            if (!received.Equals(reference))
            {
                throw new InvalidDataException($"asked for {reference}, received {received}");
            }
        }).ConfigureAwait(false);
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>The token and, since a checkpoint is only for its holder and the agents resuming from it, this agent's id.</summary>
    private Metadata Headers() =>
        tokens.TryRead(out var whyNot) is { } token
            ? new Metadata { { "authorization", $"Bearer {token}" }, { CheckpointTransfer.AgentIdHeader, options.Value.Id } }
            : throw new InvalidOperationException(whyNot);
}
