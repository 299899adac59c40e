using System.Text.RegularExpressions;

namespace HyperTune.Shared.Workloads;

/// <summary>
/// How a study names an external command an agent declares: workload "command:&lt;name&gt;". The command defines its own
/// parameters, so they are not checked against the catalog.
/// </summary>
public static partial class CommandWorkloads
{
    public const string Prefix = "command:";

    /// <summary>The workload name of the command called <paramref name="name"/>.</summary>
    public static string WorkloadName(string name) => Prefix + name;

    /// <summary>True when <paramref name="workload"/> starts with "command:"; <paramref name="name"/> is what follows.</summary>
    public static bool TryGetCommand(string workload, out string name)
    {
        var isCommand = workload.StartsWith(Prefix, StringComparison.Ordinal);
        name = isCommand ? workload[Prefix.Length..] : "";
        return isCommand;
    }

    /// <summary>A command name: 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();
}
