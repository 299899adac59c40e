using System.ComponentModel;
using System.Diagnostics;
using HyperTune.Protos.V1;

namespace HyperTune.Agent.Telemetry;

/// <summary>Runs nvidia-smi's query interface. Missing nvidia-smi, no driver or no GPU give no GPUs and a reason, never an exception.</summary>
public sealed class NvidiaSmi(string executable = "nvidia-smi")
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>False once nvidia-smi turned out not to be installed: it is not looked for again.</summary>
    public bool Installed { get; private set; } = true;

    /// <summary>The GPUs with their current readings, or none with <paramref name="whyNone"/> set.</summary>
    public IReadOnlyList<GpuSample> Query(out string? whyNone)
    {
        whyNone = null;
        if (!Installed)
        {
            whyNone = $"{executable} is not installed";
            return [];
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(executable, NvidiaSmiCsv.Query)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill();
                whyNone = $"{executable} did not answer within {Timeout.TotalSeconds:0} s";
                return [];
            }

            var gpus = NvidiaSmiCsv.Parse(output.Result);
            if (gpus.Count == 0)
            {
                // "No devices were found" (exit 6) or the driver message: say what nvidia-smi said.
                var said = string.Join(" ", output.Result, error.Result).Trim();
                whyNone = $"{executable} exited with {process.ExitCode}: {(said.Length > 0 ? said : "no GPU rows")}";
            }

            return gpus;
        }
        catch (Win32Exception e)
        {
            Installed = false;
            whyNone = $"{executable} is not installed ({e.Message})";
            return [];
        }
    }
}
