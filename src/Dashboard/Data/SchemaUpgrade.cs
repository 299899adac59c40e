using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace HyperTune.Dashboard.Data;

/// <summary>Brings a database file made by an older dashboard up to the model: new tables and new columns.</summary>
public static partial class SchemaUpgrade
{
    /// <summary>
    /// EnsureCreated leaves an existing file alone, so what was added to the model since would be missing: creates every
    /// table the file lacks (with its indexes) and adds every column a table lacks. A new NOT NULL column without a
    /// default gets 0 (numbers, and enums, whose first value is the old behaviour) or '' (text). Nothing is dropped.
    /// </summary>
    public static void UpgradeSchema(this DatabaseFacade database)
    {
        var existing = database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'table'").ToHashSet(StringComparer.Ordinal);
        foreach (var statement in database.GenerateCreateScript().Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (CreateStatement().Match(statement) is not { Success: true } create)
            {
                continue;
            }

            var table = create.Groups["table"].Value;
            if (!existing.Contains(table))
            {
                database.ExecuteSqlRaw(statement);
            }
            else if (statement.StartsWith("CREATE TABLE", StringComparison.Ordinal))
            {
                AddMissingColumns(database, table, statement);
            }
        }
    }

    private static void AddMissingColumns(DatabaseFacade database, string table, string createTable)
    {
        var columns = database.SqlQuery<string>($"SELECT name AS \"Value\" FROM pragma_table_info({table})").ToHashSet(StringComparer.Ordinal);
        foreach (Match column in ColumnDefinition().Matches(createTable))
        {
            if (columns.Contains(column.Groups["name"].Value))
            {
                continue;
            }

            var definition = column.Value.Trim().TrimEnd(',');
            if (definition.Contains("NOT NULL", StringComparison.Ordinal) && !definition.Contains("DEFAULT", StringComparison.Ordinal))
            {
                definition += column.Groups["type"].Value == "TEXT" ? " DEFAULT ''" : " DEFAULT 0";
            }

            // Table and column come from EF's own create script, never from input.
            var alter = $"ALTER TABLE \"{table}\" ADD COLUMN {definition}";
            database.ExecuteSqlRaw(alter);
        }
    }

    [GeneratedRegex("^CREATE (?:TABLE|(?:UNIQUE )?INDEX \"[^\"]+\" ON) \"(?<table>[^\"]+)\"")]
    private static partial Regex CreateStatement();

    // One column line of EF's CREATE TABLE: "Name" TYPE [NOT NULL] [...], never a CONSTRAINT line.
    [GeneratedRegex("^\\s*\"(?<name>[^\"]+)\" (?<type>[A-Z]+)(?<rest>[^\\n]*)$", RegexOptions.Multiline)]
    private static partial Regex ColumnDefinition();
}
