using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace HyperTune.Bench;

/// <summary>Runs Optuna's side of a bench: a Python script beside this assembly, under Debian's python3 (where python3-optuna installs).</summary>
internal static class OptunaScript
{
    /// <summary>The script's standard output, or null and why (the bench then prints HyperTune's rows alone).</summary>
    public static (string? Stdout, string? Problem) Run(string script, params string[] args)
    {
        var path = Path.Combine(AppContext.BaseDirectory, script);
        // Debian's interpreter: python3-optuna is installed for it, not for a pyenv python3 earlier on PATH.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0
                ? (stdout, null)
                : (null, $"{python} {script} exited with {process.ExitCode} (apt-get install -y python3-optuna?): {stderr.Result.Trim()}");
        }
        catch (Win32Exception e)
        {
            return (null, $"cannot start {python}: {e.Message}");
        }
    }

    /// <summary>
    /// Each method of the script's {"version": …, "methods": {name: figures}} output, labelled "Optuna VERSION name";
    /// none (and why, on stderr) when the script could not run.
    /// </summary>
    public static IEnumerable<(string Label, JsonElement Figures)> Methods(string script, params string[] args)
    {
        var (output, failure) = Run(script, args);
        if (output is null)
        {
            Console.Error.WriteLine($"Optuna rows left out: {failure}");
            yield break;
        }

        using var json = JsonDocument.Parse(output);
        var version = json.RootElement.GetProperty("version").GetString();
        foreach (var method in json.RootElement.GetProperty("methods").EnumerateObject())
        {
            yield return ($"Optuna {version} {method.Name}", method.Value.Clone());
        }
    }
}
