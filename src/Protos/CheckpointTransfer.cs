using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;

namespace HyperTune.Protos.V1;

/// <summary>Moves checkpoint files over the Checkpoints service in chunks, with a SHA-256 over the whole file.</summary>
public static class CheckpointTransfer
{
    /// <summary>
    /// The header naming the calling agent on Checkpoints calls (its Agent:Id). A per-agent token must match it; the shared
    /// token may name only an agent without a token of its own, as on the hub.
    /// </summary>
    public const string AgentIdHeader = "hypertune-agent-id";

    /// <summary>Chunk size: well under gRPC's default 4 MB message limit.</summary>
    public const int ChunkBytes = 1 << 20;

    /// <summary>Writes the file as chunks; the first carries the ref and the size, the last the hash.</summary>
    public static async Task SendAsync(string path, CheckpointRef reference, Func<CheckpointChunk, Task> write, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkBytes, useAsync: true);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ChunkBytes];
        var total = file.Length;
        long offset = 0;
        do
        {
            var read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            sha.AppendData(buffer, 0, read);
            var chunk = new CheckpointChunk { Offset = offset, Data = ByteString.CopyFrom(buffer, 0, read) };
            if (offset == 0)
            {
                chunk.Ref = reference;
                chunk.TotalBytes = total;
            }

            offset += read;
            if (offset >= total)
            {
                chunk.Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset());
            }

            await write(chunk).ConfigureAwait(false);
        }
        while (offset < total);
    }

    /// <summary>
    /// Reads chunks into <paramref name="destination"/>, checking order, size and hash; throws
    /// <see cref="InvalidDataException"/> naming what is wrong. Returns the ref of the first chunk and the byte count.
    /// <paramref name="accept"/>, when given, sees the ref before any byte is written and may throw to refuse it.
    /// </summary>
    public static async Task<(CheckpointRef Reference, long Bytes)> ReceiveAsync(IAsyncStreamReader<CheckpointChunk> chunks, Stream destination, long maxBytes, CancellationToken ct,
        Func<CheckpointRef, Task>? accept = null)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        CheckpointRef? reference = null;
        long expected = -1, received = 0;
        string? hash = null;
        while (await chunks.MoveNext(ct).ConfigureAwait(false))
        {
            var chunk = chunks.Current;
            if (reference is null)
            {
                reference = chunk.Ref ?? throw new InvalidDataException("the first checkpoint chunk has no ref");
                expected = chunk.TotalBytes;
                if (expected < 0 || expected > maxBytes)
                {
                    throw new InvalidDataException($"checkpoint size {expected} bytes is outside [0, {maxBytes}]");
                }

                await (accept?.Invoke(reference) ?? Task.CompletedTask).ConfigureAwait(false);
            }

            if (chunk.Offset != received)
            {
                throw new InvalidDataException($"checkpoint chunk at offset {chunk.Offset}, expected {received}");
            }

            received += chunk.Data.Length;
            if (received > expected)
            {
                throw new InvalidDataException($"checkpoint is longer than the announced {expected} bytes");
            }

            sha.AppendData(chunk.Data.Span);
            await destination.WriteAsync(chunk.Data.Memory, ct).ConfigureAwait(false);
            if (chunk.Sha256.Length > 0)
            {
                hash = chunk.Sha256;
            }
        }

        if (reference is null)
        {
            throw new InvalidDataException("no checkpoint chunk arrived");
        }

        if (received != expected)
        {
            throw new InvalidDataException($"checkpoint ended after {received} of {expected} bytes");
        }

        var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (hash != actual)
        {
            throw new InvalidDataException($"checkpoint SHA-256 {actual} does not match the announced {hash ?? "(none)"}");
        }

        return (reference, received);
    }
}
