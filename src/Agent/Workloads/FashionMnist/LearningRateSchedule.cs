namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>
/// The learning rate of every batch of a trial. With N batches per epoch, step s = epoch·N + batch (both from 0), W = warmup_epochs·N
/// warm-up steps, D = epochs − warmup_epochs decay epochs, e = epoch − warmup_epochs and t = s − W over T = D·N steps after warm-up:
/// warm-up (s &lt; W): lr·(s+1)/W per batch; then constant: lr; step: lr·0.1^⌊e / ⌈D/3⌉⌋ per epoch (at most two drops);
/// exponential: lr·0.01^(e/D) per epoch; cosine: lr·½(1 + cos(π·t/T)) per batch; onecycle: per batch, cosine from lr/25 up to lr
/// over the first 30 % of T, then cosine down to lr/250,000 at the last step (PyTorch's OneCycleLR defaults; momentum is not cycled).
/// </summary>
public sealed class LearningRateSchedule
{
    public const double StepFactor = 0.1;
    public const double ExponentialEnd = 0.01;
    public const double OneCycleRise = 0.3;
    public const double OneCycleStartDivisor = 25;
    public const double OneCycleEndDivisor = 25 * 1e4;

    private readonly FashionMnistSchedule _kind;
    private readonly double _lr;
    private readonly int _batchesPerEpoch;
    private readonly int _warmupEpochs;
    private readonly int _warmupSteps;
    private readonly int _decayEpochs;
    private readonly int _decaySteps;

    public LearningRateSchedule(FashionMnistSchedule kind, double lr, int epochs, int warmupEpochs, int batchesPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lr);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchesPerEpoch);
        _kind = kind;
        _lr = lr;
        _batchesPerEpoch = batchesPerEpoch;
        _warmupEpochs = Math.Min(warmupEpochs, epochs);
        _warmupSteps = _warmupEpochs * batchesPerEpoch;
        _decayEpochs = epochs - _warmupEpochs;
        _decaySteps = _decayEpochs * batchesPerEpoch;
    }

    /// <summary>False when every batch trains at lr, so the trainer need not touch the optimiser.</summary>
    public bool Varies => _kind != FashionMnistSchedule.Constant || _warmupSteps > 0;

    /// <summary>The learning rate of batch <paramref name="batch"/> of epoch <paramref name="epoch"/>, both counted from 0.</summary>
    public double At(int epoch, int batch)
    {
        var step = (epoch * _batchesPerEpoch) + batch;
        if (step < _warmupSteps)
        {
            return _lr * (step + 1) / _warmupSteps;
        }

        var e = epoch - _warmupEpochs;
        var t = step - _warmupSteps;
        return _kind switch
        {
            FashionMnistSchedule.Step => _lr * Math.Pow(StepFactor, e / ((_decayEpochs + 2) / 3)),
            FashionMnistSchedule.Exponential => _lr * Math.Pow(ExponentialEnd, (double)e / _decayEpochs),
            FashionMnistSchedule.Cosine => _lr * 0.5 * (1 + Math.Cos(Math.PI * t / _decaySteps)),
            FashionMnistSchedule.OneCycle => OneCycle(t),
            _ => _lr,
        };
    }

    private double OneCycle(int t)
    {
        var peak = Math.Max(1, (int)Math.Round(OneCycleRise * _decaySteps));
        return t <= peak
            ? Anneal(_lr / OneCycleStartDivisor, _lr, (double)t / peak)
            : Anneal(_lr, _lr / OneCycleEndDivisor, (double)(t - peak) / Math.Max(1, _decaySteps - 1 - peak));
    }

    /// <summary>Cosine from <paramref name="from"/> (at 0) to <paramref name="to"/> (at 1).</summary>
    private static double Anneal(double from, double to, double fraction) => to + ((from - to) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, fraction))));
}
