using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Options;

namespace HyperTune.Dashboard.Checkpoints;

/// <summary>
/// Passes checkpoints between agents for forks and resumes on another agent: keeps a copy of every checkpoint it
/// relayed under {DataDir}/checkpoints, and asks the holding agent to upload one it does not have yet.
/// </summary>
public sealed class CheckpointRelay(IOptions<DashboardOptions> options, AgentRegistry registry, StudyStore store, ILogger<CheckpointRelay> logger)
{
    /// <summary>Largest checkpoint accepted.</summary>
    public const long MaxBytes = 8L << 30;

    /// <summary>How long a download waits for the holding agent's upload.</summary>
    public static readonly TimeSpan UploadWait = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _waiting = new();

    private string Folder => Path.Combine(Path.GetFullPath(options.Value.DataDir), "checkpoints");

    public string PathOf(CheckpointRef r) =>
        Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"trial-{r.TrialId}-attempt-{r.Attempt}-epoch-{r.Epoch}.ckpt"));

    /// <summary>Whether an agent other than the holder could get this checkpoint now: a copy is here, or its holder is connected.</summary>
    public bool CanHandOver(CheckpointPointer checkpoint) =>
        File.Exists(PathOf(new CheckpointRef { TrialId = checkpoint.TrialId, Attempt = checkpoint.Attempt, Epoch = checkpoint.Epoch }))
        || (checkpoint.AgentId is { } holder && registry.Find(holder) is not null);

    /// <summary>The local copy of the checkpoint, fetched from its holder first; RpcException NOT_FOUND or UNAVAILABLE saying why not.</summary>
    public async Task<string> EnsureAsync(CheckpointRef r, CancellationToken ct)
    {
        var path = PathOf(r);
        if (File.Exists(path))
        {
            return path;
        }

        var name = Describe(r);
        var holder = await store.GetCheckpointHolderAsync(r.TrialId, r.Attempt, r.Epoch, ct)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no agent holds the {name}"));
        var agent = registry.Find(holder)
            ?? throw new RpcException(new Status(StatusCode.Unavailable, $"the {name} is on agent {holder}, which is not connected"));

        var waiter = _waiting.GetOrAdd(Key(r), _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        agent.Send(new HubMessage { SendCheckpoint = new SendCheckpoint { Checkpoint = r } });
        logger.LogInformation("Asked agent {AgentId} for the {Checkpoint}", holder, name);
        try
        {
            return await waiter.Task.WaitAsync(UploadWait, ct);
        }
        catch (TimeoutException)
        {
            _waiting.TryRemove(Key(r), out _);
            throw new RpcException(new Status(StatusCode.Unavailable, $"agent {holder} did not upload the {name} within {UploadWait.TotalSeconds:0} s"));
        }
    }

    /// <summary>
    /// Stores an uploaded checkpoint (checked chunk by chunk and by SHA-256) and wakes the downloads waiting for it.
    /// <paramref name="accept"/> sees its ref before any byte is kept and throws to refuse it.
    /// </summary>
    public async Task<long> ReceiveAsync(IAsyncStreamReader<CheckpointChunk> chunks, Func<CheckpointRef, Task> accept, CancellationToken ct)
    {
        Directory.CreateDirectory(Folder);
        var temporary = Path.Combine(Folder, $"upload-{Guid.NewGuid():N}.tmp");
        try
        {
            CheckpointRef reference;
            long bytes;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                (reference, bytes) = await CheckpointTransfer.ReceiveAsync(chunks, file, MaxBytes, ct, accept);
                file.Flush(flushToDisk: true);
            }

            var path = PathOf(reference);
            File.Move(temporary, path, overwrite: true);
            logger.LogInformation("Received the {Checkpoint}: {Bytes} bytes", Describe(reference), bytes);
            if (_waiting.TryRemove(Key(reference), out var waiter))
            {
                waiter.TrySetResult(path);
            }

            return bytes;
        }
        catch (InvalidDataException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static string Describe(CheckpointRef r) =>
        string.Create(CultureInfo.InvariantCulture, $"checkpoint of trial {r.TrialId} (attempt {r.Attempt}) after epoch {r.Epoch}");

    private static string Key(CheckpointRef r) => string.Create(CultureInfo.InvariantCulture, $"{r.TrialId}/{r.Attempt}/{r.Epoch}");
}
