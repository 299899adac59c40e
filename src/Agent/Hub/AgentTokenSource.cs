using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Hub;

/// <summary>The bearer token: Agent:Token, else the content of Agent:TokenFile, read afresh before every connection attempt.</summary>
public sealed class AgentTokenSource(IOptions<AgentOptions> options)
{
    /// <summary>The token, or null with the reason when the token file does not exist yet (the dashboard writes it when it starts) or is empty.</summary>
    public string? TryRead(out string? whyNot)
    {
        var agent = options.Value;
        whyNot = null;
        if (!string.IsNullOrWhiteSpace(agent.Token))
        {
            return agent.Token.Trim();
        }

        var path = Path.GetFullPath(agent.TokenFile);
        if (!File.Exists(path))
        {
            whyNot = $"token file {path} does not exist yet (the dashboard writes it on its first start; or set Agent:Token)";
            return null;
        }

        var token = File.ReadAllText(path).Trim();
        if (token.Length == 0)
        {
            whyNot = $"token file {path} is empty";
            return null;
        }

        return token;
    }
}
