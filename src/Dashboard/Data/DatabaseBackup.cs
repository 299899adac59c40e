using Microsoft.Data.Sqlite;

namespace HyperTune.Dashboard.Data;

/// <summary>What a backup wrote: the new file, its size, what it holds, and SQLite's integrity check of it ("ok" when sound).</summary>
public sealed record BackupReport(string Path, long Bytes, long Studies, long Trials, long EpochReports, string IntegrityCheck)
{
    public bool IsSound => IntegrityCheck == "ok";
}

/// <summary>A backup that could not be made, with a sentence naming the path at fault.</summary>
public sealed class BackupException(string message) : Exception(message);

/// <summary>
/// Copies the dashboard's SQLite database into a new file with SQLite's online backup API, while the dashboard runs:
/// the copy is one read transaction's snapshot (in WAL mode the dashboard's writers go on meanwhile), so it holds
/// every report committed before the backup began and never half of a transaction.
/// </summary>
public static class DatabaseBackup
{
    public static async Task<BackupReport> RunAsync(string connectionString, string destination, CancellationToken ct = default)
    {
        var source = new SqliteConnectionStringBuilder(connectionString);
        var sourcePath = Path.GetFullPath(source.DataSource);
        if (!File.Exists(sourcePath))
        {
            throw new BackupException($"there is no dashboard database at {sourcePath}: pass the dashboard's --Dashboard:DataDir (or --Dashboard:Database)");
        }

        var target = Path.GetFullPath(destination);
        if (target == sourcePath)
        {
            throw new BackupException($"--to {target} is the database itself: give a new file");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            // Created here, exclusively, so a file that appeared meanwhile is refused too, never overwritten.
            await new FileStream(target, FileMode.CreateNew, FileAccess.Write).DisposeAsync();
        }
        catch (IOException) when (File.Exists(target))
        {
            throw new BackupException($"--to {target} already exists; a backup never overwrites a file: choose a new name or move that one away");
        }

        try
        {
            source.Mode = SqliteOpenMode.ReadWrite;
            source.Pooling = false;
            await using (var from = new SqliteConnection(source.ToString()))
            await using (var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Pooling = false }.ToString()))
            {
                await from.OpenAsync(ct);
                await to.OpenAsync(ct);

                // The dashboard may hold a write lock for a moment (a checkpoint): wait for it as the dashboard itself does.
                await ExecuteAsync(from, "PRAGMA busy_timeout=10000;", ct);
                from.BackupDatabase(to);
            }

            return await DescribeAsync(target, ct);
        }
        catch
        {
            File.Delete(target);
            throw;
        }
    }

    private static async Task<BackupReport> DescribeAsync(string path, CancellationToken ct)
    {
        await using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await copy.OpenAsync(ct);
        var integrity = new List<string>();
        await using (var check = copy.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check;";
            await using var reader = await check.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                integrity.Add(reader.GetString(0));
            }
        }

        return new BackupReport(path, new FileInfo(path).Length, await CountAsync(copy, "studies", ct), await CountAsync(copy, "trials", ct),
            await CountAsync(copy, "epoch_reports", ct), string.Join("; ", integrity));
    }

    private static async Task<long> CountAsync(SqliteConnection db, string table, CancellationToken ct)
    {
        await using var count = db.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM {table};";
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    private static async Task ExecuteAsync(SqliteConnection db, string sql, CancellationToken ct)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}
