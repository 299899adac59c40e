using HyperTune.Shared.Workloads;

namespace HyperTune.Agent.Workloads.Command;

/// <summary>
/// One external training command the agent may run (section Agent:Commands:&lt;name&gt;). The dashboard only names it:
/// the executable, its arguments and its environment come from this configuration, never over the wire.
/// </summary>
public sealed class CommandOptions
{
    /// <summary>Variables HyperTune sets for every trial; a command may not set them itself.</summary>
    public static readonly IReadOnlyList<string> ReservedVariables =
        ["HYPERTUNE_PARAMS", "HYPERTUNE_TRIAL_ID", "HYPERTUNE_ATTEMPT", "CUDA_VISIBLE_DEVICES"];

    /// <summary>Absolute path of the program, or a bare name looked up on PATH (no shell). Required.</summary>
    public string? Executable { get; set; }

    /// <summary>Arguments before the hyperparameters, each passed as one argument (no shell splitting). Default none.</summary>
    public List<string> Arguments { get; set; } = [];

    /// <summary>Absolute path of the folder the process starts in. Default: the agent's working folder.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>Variables added to the agent's environment for the process. Default none.</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    /// <summary>Seconds between SIGINT and SIGTERM, and between SIGTERM and killing the process tree, when a trial is stopped. Default 10.</summary>
    public int StopGraceSeconds { get; set; } = 10;

    /// <summary>Every problem with the command called <paramref name="name"/>, each naming its key (Agent:Commands:name:Key) and value.</summary>
    public IEnumerable<string> Problems(string name)
    {
        var key = $"{AgentOptions.Section}:Commands:{name}";
        if (!CommandWorkloads.IsValidName(name))
        {
            yield return $"{key} has a bad name: a command name is 1 to 100 letters, digits, '-', '_' or '.', got \"{name}\"";
        }

        if (string.IsNullOrWhiteSpace(Executable))
        {
            yield return $"{key}:Executable must be set (an absolute path such as /usr/bin/python3, or a program name on PATH), got \"{Executable}\"";
        }
        else if (ResolveExecutable(Executable, out var why) is null)
        {
            yield return $"{key}:Executable {why}";
        }

        for (var i = 0; i < Arguments.Count; i++)
        {
            if (Arguments[i] is null || Arguments[i].Contains('\0', StringComparison.Ordinal))
            {
                yield return $"{key}:Arguments:{i} must be a string without NUL characters, got \"{Arguments[i]}\"";
            }
        }

        if (WorkingDirectory is not null)
        {
            if (!Path.IsPathFullyQualified(WorkingDirectory))
            {
                yield return $"{key}:WorkingDirectory must be an absolute path, got \"{WorkingDirectory}\"";
            }
            else if (!Directory.Exists(WorkingDirectory))
            {
                yield return $"{key}:WorkingDirectory does not exist, got \"{WorkingDirectory}\"";
            }
        }

        foreach (var variable in Environment.Keys)
        {
            if (variable.Length == 0 || variable.Contains('=', StringComparison.Ordinal) || variable.Contains('\0', StringComparison.Ordinal))
            {
                yield return $"{key}:Environment has a bad variable name (non-empty, without '='), got \"{variable}\"";
            }
            else if (ReservedVariables.Contains(variable, StringComparer.Ordinal))
            {
                yield return $"{key}:Environment:{variable} is set by HyperTune for every trial (the slot's GPUs: Agent:SlotGpus), got \"{Environment[variable]}\"";
            }
        }

        if (StopGraceSeconds is < 1 or > 3600)
        {
            yield return $"{key}:StopGraceSeconds must be between 1 and 3600, got {StopGraceSeconds}";
        }
    }

    /// <summary>
    /// The absolute path of the program: an absolute path as given, a bare name found on PATH; null with the reason
    /// otherwise (a relative path with a folder would depend on the agent's working folder, so it is refused).
    /// </summary>
    public static string? ResolveExecutable(string executable, out string? why)
    {
        why = null;
        if (Path.IsPathFullyQualified(executable))
        {
            return IsExecutableFile(executable, out why) ? executable : null;
        }

        if (executable.Contains('/', StringComparison.Ordinal))
        {
            why = $"must be an absolute path or a bare program name on PATH, got the relative path \"{executable}\"";
            return null;
        }

        foreach (var folder in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, executable);
            if (Path.IsPathFullyQualified(candidate) && IsExecutableFile(candidate, out _))
            {
                return candidate;
            }
        }

        why = $"is not found on PATH, got \"{executable}\"";
        return null;
    }

    private static bool IsExecutableFile(string path, out string? why)
    {
        why = null;
        if (!File.Exists(path))
        {
            why = $"does not exist, got \"{path}\"";
            return false;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            why = $"is not executable (chmod +x), got \"{path}\"";
            return false;
        }

        return true;
    }
}
