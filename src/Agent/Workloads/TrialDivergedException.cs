using System.Globalization;

namespace HyperTune.Agent.Workloads;

/// <summary>The training loss became NaN or infinite: the trial ends as diverged, not failed (its hyperparameters, not the machine, are to blame).</summary>
public sealed class TrialDivergedException : TrialFailedException
{
    /// <summary>Epoch and batch (both from 1) of the first non-finite loss; <paramref name="loss"/> is NaN, +Inf or -Inf.</summary>
    public TrialDivergedException(int epoch, int batch, float loss)
        : base(string.Create(CultureInfo.InvariantCulture, $"loss became {Describe(loss)} at epoch {epoch}, batch {batch}"))
    {
        Epoch = epoch;
        Batch = batch;
    }

    public TrialDivergedException()
    {
    }

    public TrialDivergedException(string reason)
        : base(reason)
    {
    }

    public TrialDivergedException(string reason, Exception inner)
        : base(reason, inner)
    {
    }

    public int Epoch { get; }

    public int Batch { get; }

    private static string Describe(float loss) => float.IsNaN(loss) ? "NaN" : loss > 0 ? "+Inf" : "-Inf";
}
