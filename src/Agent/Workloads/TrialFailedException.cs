namespace HyperTune.Agent.Workloads;

/// <summary>A trial cannot go on; the message is the reason the dashboard shows (it names the parameter, value or epoch).</summary>
public class TrialFailedException : Exception
{
    public TrialFailedException(string reason)
        : base(reason)
    {
    }

    public TrialFailedException(string reason, Exception inner)
        : base(reason, inner)
    {
    }

    public TrialFailedException()
    {
    }
}
