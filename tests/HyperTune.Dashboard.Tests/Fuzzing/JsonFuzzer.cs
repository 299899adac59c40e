using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HyperTune.Dashboard.Tests.Fuzzing;

/// <summary>One generated request body and a few words on how it was made, for a failure's message.</summary>
internal sealed record FuzzBody(byte[] Bytes, string How)
{
    public string Excerpt => Encoding.UTF8.GetString(Bytes, 0, Math.Min(Bytes.Length, 300));
}

/// <summary>
/// Seeded bodies for the REST API, each made from a valid body: left valid, mutated as JSON (wrong types, edge and
/// huge numbers, NaN/Inf spelled as strings, missing and unknown fields, deep nesting, huge and odd strings), or broken
/// as bytes (truncated, a byte flipped, invalid UTF-8 inside a string, not JSON at all). The same seed gives the same
/// sequence, so a failure names its seed and index and replays.
/// </summary>
internal sealed class JsonFuzzer(int seed)
{
    /// <summary>Values that are not what any field wants, or sit at an edge; parsed from text so that 1e400 stays 1e400.</summary>
    private static readonly string[] OddValues =
    [
        "null", "true", "false", "0", "-0", "-1", "1", "0.5", "2147483648", "-2147483649", "9223372036854775808", "1e308", "-1e308",
        "1e400", "-1e400", "5e-324", "1e-400", "123456789012345678901234567890", "\"\"", "\" \"", "\"NaN\"", "\"Infinity\"",
        "\"-Infinity\"", "\"nan\"", "\"1\"", "\"\\u0000\"", LoneSurrogate, "\"tab\\there\"", "\"a,b\"",
        "\"\\u202eevil\"", "\"😀😀😀\"", "\"command:../../bin/sh\"", "\"<script>alert(1)</script>\"", "[]", "{}", "[null]",
        "{\"type\":\"float\"}", "[1,\"a\",true]",
    ];

    /// <summary>Stands for the escaped lone surrogate "\ud800" in a tree (System.Text.Json refuses to write one); swapped in as text.</summary>
    private const string LoneSurrogate = "\"lone-surrogate-d800\"";

    private static readonly byte[][] BadUtf8 = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]];

    private static readonly JsonSerializerOptions Deep = new() { MaxDepth = 2000 };

    private readonly Random random = new(seed);

    public FuzzBody Next(JsonNode valid)
    {
        var roll = random.Next(100);
        if (roll < 10)
        {
            return new FuzzBody(Serialize(valid), "valid as given");
        }

        if (roll < 70)
        {
            var node = valid.DeepClone();
            var how = new List<string>();
            for (var i = random.Next(1, 4); i > 0; i--)
            {
                node = Mutate(node, how);
            }

            return new FuzzBody(Serialize(node), string.Join("; ", how));
        }

        return roll < 92 ? Break(Serialize(valid)) : NotJson();
    }

    private JsonNode Mutate(JsonNode root, List<string> how)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[random.Next(nodes.Count)];
        var path = target.GetPath();
        switch (random.Next(8))
        {
            case 0 when target.Parent is JsonObject parent:
                parent.Remove(target.GetPropertyName());
                how.Add($"removed {path}");
                return root;
            case 1 when target is JsonObject obj:
                var name = random.Next(3) == 0 ? new string('k', random.Next(1, 5000)) : $"unknown_{random.Next(1000)}";
                obj[name] = Value();
                how.Add($"added {path}.{name[..Math.Min(20, name.Length)]}");
                return root;
            case 2:
                how.Add($"nested {path}");
                return Replace(root, target, Nest(target.DeepClone(), random.Next(1, 300)));
            case 3:
                how.Add($"huge string at {path}");
                return Replace(root, target, JsonValue.Create(HugeString()));
            case 4 when target is JsonValue:
                how.Add($"stringified {path}");
                return Replace(root, target, JsonValue.Create(target.ToJsonString(Deep)));
            case 5 when target is JsonArray array:
                for (var i = random.Next(1, 2000); i > 0; i--)
                {
                    array.Add(Value());
                }

                how.Add($"grew {path}");
                return root;
            default:
                var value = Value();
                var shown = value?.ToJsonString() ?? "null";
                how.Add($"{path} = {(shown.Length < 40 ? shown : shown[..40] + "…")}");
                return Replace(root, target, value);
        }
    }

    private FuzzBody Break(byte[] text)
    {
        switch (random.Next(5))
        {
            case 0:
                var cut = random.Next(text.Length);
                return new FuzzBody(text[..cut], $"truncated at {cut}");
            case 1:
                var at = random.Next(text.Length);
                var flipped = (byte[])text.Clone();
                flipped[at] = (byte)random.Next(256);
                return new FuzzBody(flipped, $"byte {at} set to 0x{flipped[at]:X2}");
            case 2:
                // Inside a string value, where a parser that only checks structure would let it through.
                var quote = Array.IndexOf(text, (byte)'"', random.Next(text.Length));
                var where = quote < 0 ? text.Length : quote + 1;
                var bad = BadUtf8[random.Next(BadUtf8.Length)];
                return new FuzzBody([.. text[..where], .. bad, .. text[where..]], $"invalid UTF-8 {Convert.ToHexString(bad)} at {where}");
            case 3:
                return new FuzzBody([0xEF, 0xBB, 0xBF, .. text], "UTF-8 byte order mark first");
            default:
                var twice = Encoding.UTF8.GetString(text);
                var first = twice.IndexOf('{', StringComparison.Ordinal);
                var key = twice.IndexOf('"', first + 1);
                var end = key < 0 ? -1 : twice.IndexOf(',', key);
                var duplicated = first < 0 || end < 0 ? twice + twice : twice[..(first + 1)] + twice[(first + 1)..end] + "," + twice[(first + 1)..];
                return new FuzzBody(Encoding.UTF8.GetBytes(duplicated), "a key given twice (or the body twice)");
        }
    }

    private FuzzBody NotJson() => random.Next(7) switch
    {
        0 => new FuzzBody([], "empty"),
        1 => new FuzzBody("null"u8.ToArray(), "null"),
        2 => new FuzzBody("[]"u8.ToArray(), "an array"),
        3 => new FuzzBody(Encoding.UTF8.GetBytes(new string('[', random.Next(65, 100_000))), "deep brackets"),
        4 => new FuzzBody("{\"a\": NaN, \"b\": Infinity}"u8.ToArray(), "bare NaN and Infinity"),
        5 => new FuzzBody(Encoding.UTF8.GetBytes($"\"{HugeString()}\""), "a huge string"),
        _ => new FuzzBody([.. Enumerable.Range(0, random.Next(1, 512)).Select(_ => (byte)random.Next(256))], "random bytes"),
    };

    private static byte[] Serialize(JsonNode node) =>
        Encoding.UTF8.GetBytes(node.ToJsonString(Deep).Replace(LoneSurrogate, "\"\\ud800 and \\udfff\"", StringComparison.Ordinal));

    private JsonNode? Value() => JsonNode.Parse(OddValues[random.Next(OddValues.Length)]);

    private string HugeString() => random.Next(4) switch
    {
        0 => new string('x', random.Next(100_000, 2_000_000)),
        1 => string.Concat(Enumerable.Repeat("é😀\u202e", random.Next(1000, 50_000))),
        _ => new string('a', random.Next(200, 70_000)),
    };

    private static JsonNode Nest(JsonNode? inner, int depth)
    {
        var node = inner;
        for (var i = 0; i < depth; i++)
        {
            node = i % 2 == 0 ? new JsonArray(node) : new JsonObject { ["x"] = node };
        }

        return node!;
    }

    private static JsonNode Replace(JsonNode root, JsonNode target, JsonNode? value)
    {
        switch (target.Parent)
        {
            case null:
                return value ?? JsonValue.Create("null-root")!;
            case JsonObject parent:
                parent[target.GetPropertyName()] = value;
                return root;
            case JsonArray array:
                array[target.GetElementIndex()] = value;
                return root;
            default:
                return root;
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null)
        {
            return;
        }

        into.Add(node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Collect(child, into);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Collect(child, into);
                }

                break;
        }
    }
}
