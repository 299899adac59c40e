using System.Security.Cryptography;

namespace HyperTune.Dashboard.Extensions;

/// <summary>The shared agent token (the local bootstrap; see <see cref="Agents.AgentTokens"/>): configured, or generated once into a file readable only by its owner.</summary>
public sealed class AgentToken
{
    public AgentToken(DashboardOptions options, ILogger<AgentToken> logger)
    {
        if (!string.IsNullOrEmpty(options.AgentToken))
        {
            Value = options.AgentToken;
            return;
        }

        var path = options.TokenFilePath;
        if (File.Exists(path))
        {
            Value = File.ReadAllText(path).Trim();
            if (Value.Length < 16)
            {
                throw new InvalidOperationException($"{path} holds an agent token of {Value.Length} characters; it must be at least 16 (delete the file to generate a new one)");
            }
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var writer = new StreamWriter(path, System.Text.Encoding.ASCII, create))
            {
                writer.Write(Value);
            }

            logger.LogInformation("Generated the shared agent token in {Path} (the local agent reads it); give agents on other machines a token of their own on the Agents › Tokens page", path);
        }

        FilePath = path;
    }

    public string Value { get; }

    /// <summary>Where the token was read from or written to; null when it came from configuration.</summary>
    public string? FilePath { get; }
}
