using HyperTune.Agent.Slots;
using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.Command;
using HyperTune.Shared.SearchSpaces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Tests;

public sealed class CommandWorkloadTests
{
    [Fact]
    public void StartInfo_Parameters_FollowTheDeclaredArgumentsSortedInInvariantRoundTripForm()
    {
        var workload = new CommandWorkload("train", new CommandOptions { Executable = "/usr/bin/python3", Arguments = ["train.py", "--data", "/data/x y"] },
            SlotLayout.Plan(2, ["0", "1,2"], [], 8));
        var request = new TrialRequest(42, 3, "command:train", new Dictionary<string, ParamValue>
        {
            ["lr"] = ParamValue.Of(0.1 + 0.2),
            ["batch_size"] = ParamValue.Of(64),
            ["tiny"] = ParamValue.Of(1e-7),
            ["amp"] = ParamValue.Of(false),
            ["optimizer"] = ParamValue.Of("adam"),
        }, Slot: 1);

        var start = workload.StartInfo(request);

        Assert.Equal("/usr/bin/python3", start.FileName);
        Assert.Equal(["train.py", "--data", "/data/x y", "--amp", "false", "--batch_size", "64", "--lr", "0.30000000000000004",
            "--optimizer", "adam", "--tiny", "1E-07"], start.ArgumentList);
        Assert.False(start.UseShellExecute);
        Assert.Equal("1,2", start.Environment["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal("4", start.Environment["OMP_NUM_THREADS"]);
        Assert.Equal("4", start.Environment["MKL_NUM_THREADS"]);
        Assert.Equal("42", start.Environment["HYPERTUNE_TRIAL_ID"]);
        Assert.Equal("3", start.Environment["HYPERTUNE_ATTEMPT"]);
        Assert.Equal("""{"amp":false,"batch_size":64,"lr":0.30000000000000004,"optimizer":"adam","tiny":1E-07}""", start.Environment["HYPERTUNE_PARAMS"]);
    }

    [Theory]
    [InlineData("""{"epoch": 2, "val_loss": 0.42, "val_accuracy": 0.88}""", 2, "val_loss=0.42 val_accuracy=0.88", null)]
    [InlineData("""{"epoch": 1, "val_loss": NaN, "train_loss": Infinity}""", 1, "val_loss=NaN train_loss=Infinity", null)]
    [InlineData("""{"epoch": 1, "val_loss": "-Infinity"}""", 1, "val_loss=-Infinity", null)]
    [InlineData("""  {"epoch": 3, "val_loss": 1, "tag": "a"}""", 3, "val_loss=1", "epoch 3: ignored fields that are not numbers: tag=\"a\"")]
    [InlineData("""{"val_loss": 0.4}""", null, "", "not an epoch report: a JSON line needs \"epoch\", an integer >= 1, got none")]
    [InlineData("""{"epoch": "one"}""", null, "", "not an epoch report: a JSON line needs \"epoch\", an integer >= 1, got \"one\"")]
    [InlineData("""{"epoch": 1.5}""", null, "", "not an epoch report: a JSON line needs \"epoch\", an integer >= 1, got 1.5")]
    [InlineData("Epoch 1/3 loss 0.5", null, "", null)]
    [InlineData("[1, 2]", null, "", null)]
    public void Parse_StdoutLine_EpochReportOrLogWithNote(string line, int? epoch, string metrics, string? note)
    {
        var output = CommandOutput.Parse(line);

        Assert.Equal(epoch, output.Epoch);
        Assert.Equal(metrics, string.Join(' ', output.Metrics.Select(m => $"{m.Key}={m.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}")));
        Assert.Equal(note, output.Note);
    }

    [Fact]
    public void Parse_MalformedJson_IsLoggedWithTheReason()
    {
        var output = CommandOutput.Parse("""{"epoch": 1, "val_loss": }""");

        Assert.Null(output.Epoch);
        Assert.StartsWith("not an epoch report: the line starts with '{' but is not valid JSON (", output.Note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Executable", null, "Agent:Commands:train:Executable must be set")]
    [InlineData("Executable", "./train.sh", "Agent:Commands:train:Executable must be an absolute path or a bare program name on PATH, got the relative path \"./train.sh\"")]
    [InlineData("Executable", "/no/such/python", "Agent:Commands:train:Executable does not exist, got \"/no/such/python\"")]
    [InlineData("Executable", "{plain file}", "Agent:Commands:train:Executable is not executable (chmod +x), got \"{plain file}\"")]
    [InlineData("Executable", "no-such-program-on-path", "Agent:Commands:train:Executable is not found on PATH, got \"no-such-program-on-path\"")]
    [InlineData("WorkingDirectory", "runs", "Agent:Commands:train:WorkingDirectory must be an absolute path, got \"runs\"")]
    [InlineData("WorkingDirectory", "/no/such/folder", "Agent:Commands:train:WorkingDirectory does not exist, got \"/no/such/folder\"")]
    [InlineData("Environment:CUDA_VISIBLE_DEVICES", "3", "Agent:Commands:train:Environment:CUDA_VISIBLE_DEVICES is set by HyperTune for every trial")]
    [InlineData("StopGraceSeconds", "0", "Agent:Commands:train:StopGraceSeconds must be between 1 and 3600, got 0")]
    public async Task Start_BadCommand_RefusesNamingTheKeyAndValue(string key, string? value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Agent:Token"] = "test-token-0123456789abcdef",
            ["Agent:Device"] = "cpu",
            ["Agent:Commands:train:Executable"] = "/usr/bin/python3",
        };
        var plainFile = Path.GetTempFileName();
        settings[$"Agent:Commands:train:{key}"] = value?.Replace("{plain file}", plainFile, StringComparison.Ordinal);
        using var host = AgentApp.Build([], settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        File.Delete(plainFile);
        Assert.Contains(expected.Replace("{plain file}", plainFile, StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Agent:Commands:bad name:Executable", "/usr/bin/python3", "Agent:Commands:bad name has a bad name")]
    [InlineData("Agent:SlotGpus:0", " ", "Agent:SlotGpus:0 must be a GPU list such as \"0\" or \"2,3\", got \" \"")]
    public async Task Start_BadSlotsOrCommandName_RefusesNamingTheKey(string key, string value, string expected)
    {
        using var host = AgentApp.Build([], new Dictionary<string, string?> { ["Agent:Token"] = "test-token-0123456789abcdef", [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SlotGpusAndSlotsDisagree_RefusesNamingBoth()
    {
        using var host = AgentApp.Build([], new Dictionary<string, string?>
        {
            ["Agent:Token"] = "test-token-0123456789abcdef",
            ["Agent:Slots"] = "3",
            ["Agent:SlotGpus:0"] = "0",
            ["Agent:SlotGpus:1"] = "1",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Agent:SlotGpus must have one entry per slot (Agent:Slots is 3), got 2", error.Message, StringComparison.Ordinal);
    }
}
