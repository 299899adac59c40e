using System.Globalization;
using HyperTune.Protos.V1;

namespace HyperTune.Agent.Checkpoints;

/// <summary>
/// The agent's checkpoints on disk: {root}/trial-{id}/attempt-{n}/epoch-{k}.ckpt. A training keeps its last and its
/// best epoch (by the trainer's own measure); checkpoints downloaded for a fork or a resume are kept under their
/// source's name. Files are written to a temporary name and renamed, so a crash never leaves half a checkpoint.
/// </summary>
public sealed class CheckpointStore(string root)
{
    private const string BestFile = "best-epoch";

    public string Root { get; } = Path.GetFullPath(root);

    public string PathOf(long trialId, int attempt, int epoch) =>
        Path.Combine(AttemptFolder(trialId, attempt), string.Create(CultureInfo.InvariantCulture, $"epoch-{epoch}.ckpt"));

    public string PathOf(CheckpointRef reference) => PathOf(reference.TrialId, reference.Attempt, reference.Epoch);

    /// <summary>
    /// Saves epoch <paramref name="epoch"/> of an attempt through <paramref name="write"/>, then deletes every other
    /// epoch of the attempt except the best; returns the epochs kept, oldest first.
    /// </summary>
    public IReadOnlyList<int> Save(long trialId, int attempt, int epoch, bool isBest, Action<Stream> write)
    {
        var folder = AttemptFolder(trialId, attempt);
        Directory.CreateDirectory(folder);
        var path = PathOf(trialId, attempt, epoch);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        var bestPath = Path.Combine(folder, BestFile);
        if (isBest)
        {
            File.WriteAllText(bestPath, epoch.ToString(CultureInfo.InvariantCulture));
        }

        var best = File.Exists(bestPath) && int.TryParse(File.ReadAllText(bestPath), CultureInfo.InvariantCulture, out var b) ? b : epoch;
        foreach (var old in Epochs(trialId, attempt).Where(e => e != epoch && e != best))
        {
            File.Delete(PathOf(trialId, attempt, old));
        }

        return Epochs(trialId, attempt);
    }

    /// <summary>The epochs of an attempt that have a checkpoint here, oldest first.</summary>
    public IReadOnlyList<int> Epochs(long trialId, int attempt)
    {
        var folder = AttemptFolder(trialId, attempt);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(folder, "epoch-*.ckpt")
            .Select(f => Path.GetFileNameWithoutExtension(f)["epoch-".Length..])
            .Select(s => int.TryParse(s, CultureInfo.InvariantCulture, out var e) ? e : -1)
            .Where(e => e >= 0)
            .Order()];
    }

    public bool Exists(CheckpointRef reference) => File.Exists(PathOf(reference));

    /// <summary>Deletes every checkpoint of an attempt (before it starts training).</summary>
    public void Clear(long trialId, int attempt)
    {
        var folder = AttemptFolder(trialId, attempt);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Stores a checkpoint received from the dashboard under its source's name.</summary>
    public async Task ImportAsync(CheckpointRef reference, Func<Stream, Task> copy)
    {
        var path = PathOf(reference);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".download";
        await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await copy(stream).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private string AttemptFolder(long trialId, int attempt) =>
        Path.Combine(Root, string.Create(CultureInfo.InvariantCulture, $"trial-{trialId}"), string.Create(CultureInfo.InvariantCulture, $"attempt-{attempt}"));
}
