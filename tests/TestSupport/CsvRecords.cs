using CsvHelper;

namespace HyperTune.TestSupport;

/// <summary>Reads CSV downloads back with CsvHelper: every record, the header included, as arrays of fields.</summary>
public static class CsvRecords
{
    public static List<string[]> FromText(string text)
    {
        using var csv = CsvReader.FromText(text, Options);
        return ReadAll(csv);
    }

    public static List<string[]> FromFile(string path)
    {
        using var csv = CsvReader.FromFile(path, Options);
        return ReadAll(csv);
    }

    private static CsvReaderOptions Options => CsvReaderOptions.Default with { HasHeader = false };

    private static List<string[]> ReadAll(CsvReader csv)
    {
        var rows = new List<string[]>();
        while (csv.Read())
        {
            rows.Add([.. Enumerable.Range(0, csv.FieldCount).Select(csv.GetString)]);
        }

        return rows;
    }
}
