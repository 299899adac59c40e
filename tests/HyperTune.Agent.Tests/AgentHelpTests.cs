using System.Diagnostics;
using System.Reflection;
using HyperTune.Agent.Terminal;

namespace HyperTune.Agent.Tests;

public sealed class AgentHelpTests
{
    public static TheoryData<string> OptionKeys()
    {
        var keys = new TheoryData<string>();
        foreach (var property in typeof(AgentOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            keys.Add(property.Name);
        }

        return keys;
    }

    [Theory]
    [MemberData(nameof(OptionKeys))]
    public void Help_EveryAgentOption_IsListedWithItsMeaningAndDefault(string key)
    {
        using var output = new StringWriter();

        var exitCode = AgentHelp.TryAnswer(["--help"], output);

        Assert.Equal(0, exitCode);
        var line = output.ToString().Split('\n').SingleOrDefault(l => l.TrimStart().StartsWith($"--Agent:{key} ", StringComparison.Ordinal));
        Assert.True(line is not null, $"--help does not list --Agent:{key}: add it to AgentHelp.Options\n{output}");
        Assert.Matches(@"<[^>]+>\s+\S.* Default: .+\.", line);
    }

    [Theory]
    [InlineData]
    [InlineData("--Agent:Slots", "2", "--Agent:Device=cpu")]
    [InlineData("Logging:LogLevel:Default=Warning")]
    public void TryAnswer_ArgumentsWithoutHelp_LetsTheAgentRun(params string[] args)
    {
        using var output = new StringWriter();

        Assert.Null(AgentHelp.TryAnswer(args, output));
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task Main_Help_PrintsTheOptionsAndExitsZeroWithoutConnecting()
    {
        // A dashboard URL nothing listens on: the process must not even try it.
        var agentDll = typeof(AgentOptions).Assembly.Location;
        using var process = Process.Start(new ProcessStartInfo("dotnet", [agentDll, "--Agent:DashboardUrl", "http://127.0.0.1:9", "--help"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("--Agent:Slots <n>", output);
        Assert.Contains("Agent__Slots=2", output);
        Assert.DoesNotContain("Connected", output);
        Assert.DoesNotContain("unreachable", output);
    }
}
