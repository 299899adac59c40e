using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using HyperTune.Protos.V1;
using Microsoft.Extensions.Logging;

namespace HyperTune.Agent.Hub;

/// <summary>
/// The outbox on disk: every epoch report and trial finish is appended and fsynced before it may be sent, every Ack is
/// appended after it, and a restarted agent reads back what was never acknowledged, in order. One append-only file:
/// a header, then records of [payload length: int32 LE][first 8 bytes of the payload's SHA-256][payload], the payload
/// being one kind byte (1: an AgentMessage, 2: an Ack) and the message's protobuf bytes. A record cut short or
/// garbled (the agent killed mid-write, a disk that lost the tail) ends the readable part: it and whatever follows are
/// dropped with a warning, never a crash. The file shrinks to its header whenever nothing is left unacknowledged, and
/// is rewritten with only the unacknowledged messages once acknowledged ones outnumber them.
/// </summary>
public sealed class Spool : IDisposable
{
    /// <summary>The file's name inside Agent:SpoolDir.</summary>
    public const string FileName = "outbox.spool";

    /// <summary>Records longer than this are not believed (a garbled length); a real epoch report is well under 1 KiB.</summary>
    public const int MaxRecordBytes = 16 * 1024 * 1024;

    private const byte MessageRecord = 1;
    private const byte AckRecord = 2;
    private const int HashBytes = 8;
    private const int RecordHeaderBytes = 4 + HashBytes;

    // Rewriting costs a pass over the pending messages: only once this many acknowledged records sit in the file.
    private const int CompactAfterAcknowledged = 256;

    private static readonly byte[] Header = "HTSPOOL1"u8.ToArray();

    private FileStream _file;
    private readonly string _path;
    private readonly ILogger _logger;
    private int _acknowledgedInFile;

    private Spool(string path, FileStream file, IReadOnlyList<AgentMessage> recovered, ILogger logger)
    {
        _path = path;
        _file = file;
        _logger = logger;
        Recovered = recovered;
    }

    /// <summary>The unacknowledged messages found in the file at open, oldest first.</summary>
    public IReadOnlyList<AgentMessage> Recovered { get; }

    /// <summary>
    /// Opens (or creates) the spool in <paramref name="directory"/> and reads back what it holds. The file is held
    /// exclusively: a second agent process given the same folder fails here, naming it.
    /// </summary>
    public static Spool Open(string directory, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(Path.GetFullPath(directory), FileName);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        }
        catch (IOException e)
        {
            throw new IOException($"Agent:SpoolDir {directory}: cannot open {path} for this agent alone (is another agent using the same folder?): {e.Message}", e);
        }

        var (recovered, goodLength) = Read(file, path, logger);
        if (goodLength != file.Length)
        {
            file.SetLength(goodLength);
            file.Flush(flushToDisk: true);
        }

        file.Seek(0, SeekOrigin.End);
        var spool = new Spool(path, file, recovered, logger);
        if (recovered.Count > 0)
        {
            logger.LogInformation("Spool {Path}: {Count} unacknowledged message(s) from before the restart will be sent first", path, recovered.Count);
        }

        return spool;
    }

    /// <summary>Appends <paramref name="message"/> (an epoch report or a trial finish) and waits until it is on the disk.</summary>
    public void Append(AgentMessage message)
    {
        Write(MessageRecord, message);
        _file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Records that the dashboard committed one message; <paramref name="pending"/> is what remains unacknowledged, in
    /// order. Not fsynced: an Ack lost in a crash only makes the agent send that message once more, which the dashboard
    /// recognises as a duplicate.
    /// </summary>
    public void Acknowledged(Ack ack, IReadOnlyList<AgentMessage> pending)
    {
        if (pending.Count == 0)
        {
            _file.SetLength(Header.Length);
            _file.Seek(0, SeekOrigin.End);
            _file.Flush(flushToDisk: true);
            _acknowledgedInFile = 0;
            return;
        }

        Write(AckRecord, ack);
        _file.Flush(flushToDisk: false);
        if (++_acknowledgedInFile >= Math.Max(CompactAfterAcknowledged, pending.Count))
        {
            Compact(pending);
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Rewrites the file with only <paramref name="pending"/>: a new file fsynced, then renamed over the old one.</summary>
    private void Compact(IReadOnlyList<AgentMessage> pending)
    {
        var next = _path + ".next";
        using (var copy = new FileStream(next, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            copy.Write(Header);
            foreach (var message in pending)
            {
                copy.Write(Encode(MessageRecord, message));
            }

            copy.Flush(flushToDisk: true);
        }

        // Closed before the rename (which Windows requires); a crash in between leaves either file whole.
        _file.Dispose();
        File.Move(next, _path, overwrite: true);
        _file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        _file.Seek(0, SeekOrigin.End);
        _acknowledgedInFile = 0;
        _logger.LogDebug("Spool {Path} compacted to {Count} unacknowledged message(s)", _path, pending.Count);
    }

    private void Write(byte kind, IMessage message) => _file.Write(Encode(kind, message));

    private static byte[] Encode(byte kind, IMessage message)
    {
        var size = message.CalculateSize();
        var record = new byte[RecordHeaderBytes + 1 + size];
        var payload = record.AsSpan(RecordHeaderBytes);
        payload[0] = kind;
        message.WriteTo(payload[1..]);
        BinaryPrimitives.WriteInt32LittleEndian(record, payload.Length);
        SHA256.HashData(payload)[..HashBytes].CopyTo(record.AsSpan(4));
        return record;
    }

    /// <summary>The unacknowledged messages in order, and the length of the readable part of the file.</summary>
    private static (IReadOnlyList<AgentMessage> Pending, long GoodLength) Read(FileStream file, string path, ILogger logger)
    {
        if (file.Length == 0)
        {
            file.Write(Header);
            file.Flush(flushToDisk: true);
            return ([], Header.Length);
        }

        var bytes = new byte[file.Length];
        file.Seek(0, SeekOrigin.Begin);
        file.ReadExactly(bytes);
        if (bytes.Length < Header.Length || !bytes.AsSpan(0, Header.Length).SequenceEqual(Header))
        {
            var aside = path + ".unreadable-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllBytes(aside, bytes);
            logger.LogError("Spool {Path} does not start with the spool header; kept it as {Aside} and started an empty spool", path, aside);
            file.SetLength(0);
            file.Write(Header);
            file.Flush(flushToDisk: true);
            return ([], Header.Length);
        }

        var pending = new List<AgentMessage>();
        var offset = Header.Length;
        while (offset < bytes.Length)
        {
            if (TryRecord(bytes, offset, out var record, out var next) is { } problem)
            {
                logger.LogWarning("Spool {Path}: the record at byte {Offset} is {Problem} (the agent stopped mid-write); it and the {Rest} byte(s) after it are dropped",
                    path, offset, problem, bytes.Length - offset);
                break;
            }

            if (record is Ack ack)
            {
                pending.RemoveAll(m => Outbox.KeyOf(m) == (ack.TrialId, ack.Attempt, ack.Seq));
            }
            else
            {
                pending.Add((AgentMessage)record!);
            }

            offset = next;
        }

        return (pending, offset);
    }

    /// <summary>Null when a whole, intact record starts at <paramref name="offset"/>; else what is wrong with it.</summary>
    private static string? TryRecord(byte[] bytes, int offset, out IMessage? record, out int next)
    {
        (record, next) = (null, offset);
        if (bytes.Length - offset < RecordHeaderBytes)
        {
            return $"cut short ({bytes.Length - offset} byte(s) of a {RecordHeaderBytes}-byte record header)";
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
        if (length is < 1 or > MaxRecordBytes)
        {
            return $"garbled (length {length})";
        }

        if (bytes.Length - offset - RecordHeaderBytes < length)
        {
            return $"cut short ({bytes.Length - offset - RecordHeaderBytes} of {length} payload bytes)";
        }

        var payload = bytes.AsSpan(offset + RecordHeaderBytes, length);
        if (!SHA256.HashData(payload).AsSpan(0, HashBytes).SequenceEqual(bytes.AsSpan(offset + 4, HashBytes)))
        {
            return "garbled (its checksum does not match)";
        }

        if (payload[0] is not (MessageRecord or AckRecord))
        {
            return $"garbled (kind {payload[0]})";
        }

        try
        {
            var body = payload[1..].ToArray();
            record = payload[0] == MessageRecord ? AgentMessage.Parser.ParseFrom(body) : Ack.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            return $"garbled ({e.Message})";
        }

        next = offset + RecordHeaderBytes + length;
        return null;
    }
}
