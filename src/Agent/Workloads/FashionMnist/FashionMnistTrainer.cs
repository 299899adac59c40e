using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>
/// Trains one Fashion-MNIST network on one device. Usable on its own (the bench calls it directly): give it settings,
/// a callback per epoch and a token; it returns when the epochs are done, throws <see cref="TrialFailedException"/> when
/// the loss stops being finite, and <see cref="OperationCanceledException"/> (between two batches) when cancelled.
/// </summary>
public sealed class FashionMnistTrainer(FashionMnistData data, Device device)
{
    /// <summary>
    /// Batches between two finiteness checks of the training loss. Each check reads the losses of those batches back
    /// from the device once (one sync instead of one per batch) and names the first bad batch exactly; a diverged trial
    /// runs at most this many batches too many.
    /// </summary>
    public const int FinitenessCheckInterval = 32;

    private const int EvaluationBatch = 1000;

    // torch.manual_seed is process-wide: building a model under this lock keeps a trial's initial weights its seed's.
    private static readonly Lock WeightInitLock = new();

    public Device Device { get; } = device;

    public void Train(FashionMnistModel model, FashionMnistSettings settings, Action<EpochMetrics> onEpoch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var network = Build(model, settings);
        network.to(Device);
        using var optimizer = CreateOptimizer(network, settings);
        using var trialScope = NewDisposeScope();
        using var generator = new Generator((ulong)settings.Seed);

        // The training subset is a seeded draw from the first 55,000 images; validation is the head of the last 5,000.
        var pool = randperm(FashionMnistData.TrainPool, generator: generator);
        var subset = pool.narrow(0, 0, settings.TrainSamples);
        var trainImages = data.TrainImages.index_select(0, subset).to(Device);
        var trainLabels = data.TrainLabels.index_select(0, subset).to(Device);
        var valImages = data.TrainImages.narrow(0, FashionMnistData.TrainPool, settings.ValSamples).to(Device);
        var valLabels = data.TrainLabels.narrow(0, FashionMnistData.TrainPool, settings.ValSamples).to(Device);

        var n = settings.TrainSamples;
        var batches = (n + settings.BatchSize - 1) / settings.BatchSize;
        var batchLosses = zeros(batches, device: Device);
        // Each batch's mean loss weighs by its size, so the epoch's train_loss is the mean over images.
        var batchWeights = full(batches, (double)settings.BatchSize / n, device: Device);
        batchWeights[batches - 1] = tensor((double)(n - ((batches - 1) * settings.BatchSize)) / n);

        for (var epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            var started = Stopwatch.GetTimestamp();
            network.train();
            using (var epochScope = NewDisposeScope())
            {
                var order = randperm(n, generator: generator).to(Device);
                var checkedUpTo = 0;
                for (var batch = 0; batch < batches; batch++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using (NewDisposeScope())
                    {
                        var start = batch * settings.BatchSize;
                        var indices = order.narrow(0, start, Math.Min(settings.BatchSize, n - start));
                        var images = trainImages.index_select(0, indices);
                        var labels = trainLabels.index_select(0, indices);
                        optimizer.zero_grad();
                        var loss = nn.functional.cross_entropy(network.forward(images), labels);
                        loss.backward();
                        optimizer.step();
                        batchLosses[batch].copy_(loss.detach());
                    }

                    if (batch + 1 - checkedUpTo == FinitenessCheckInterval || batch == batches - 1)
                    {
                        EnsureFinite(batchLosses, checkedUpTo, batch + 1, epoch);
                        checkedUpTo = batch + 1;
                    }
                }
            }

            var trainSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            double trainLoss;
            using (NewDisposeScope())
            {
                trainLoss = batchLosses.mul(batchWeights).sum().item<float>();
            }

            var (valLoss, valAccuracy) = Evaluate(network, valImages, valLabels, cancellationToken);
            var epochSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            onEpoch(new EpochMetrics(epoch, trainLoss, valLoss, valAccuracy, epochSeconds, n / trainSeconds));
        }
    }

    /// <summary>Mean cross-entropy and accuracy of <paramref name="network"/> on the given images, in evaluation mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> network, Tensor images, Tensor labels, CancellationToken cancellationToken)
    {
        network.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var count = images.shape[0];
        var lossSum = zeros(1, device: images.device);
        var correct = zeros(1, ScalarType.Int64, device: images.device);
        for (long start = 0; start < count; start += EvaluationBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using (NewDisposeScope())
            {
                var length = Math.Min(EvaluationBatch, count - start);
                var x = images.narrow(0, start, length);
                var y = labels.narrow(0, start, length);
                var output = network.forward(x);
                lossSum.add_(nn.functional.cross_entropy(output, y, reduction: nn.Reduction.Sum));
                correct.add_(output.argmax(1).eq(y).sum());
            }
        }

        return (lossSum.item<float>() / count, (double)correct.item<long>() / count);
    }

    private static nn.Module<Tensor, Tensor> Build(FashionMnistModel model, FashionMnistSettings settings)
    {
        lock (WeightInitLock)
        {
            manual_seed(settings.Seed);
            return model switch
            {
                FashionMnistModel.Cnn => new FashionMnistCnn(settings.HiddenUnits, settings.Dropout),
                _ => new FashionMnistMlp(settings.HiddenUnits, settings.Dropout),
            };
        }
    }

    private static optim.Optimizer CreateOptimizer(nn.Module<Tensor, Tensor> network, FashionMnistSettings settings) => settings.Optimizer switch
    {
        FashionMnistOptimizer.Adam => optim.Adam(network.parameters(), settings.Lr, weight_decay: settings.WeightDecay),
        _ => optim.SGD(network.parameters(), settings.Lr, momentum: settings.Momentum, weight_decay: settings.WeightDecay),
    };

    /// <summary>Throws naming the first batch in [from, to) whose loss is NaN or infinite (batches count from 1 in the message).</summary>
    private static void EnsureFinite(Tensor batchLosses, int from, int to, int epoch)
    {
        using var scope = NewDisposeScope();
        var window = batchLosses.narrow(0, from, to - from);
        if (window.isfinite().all().item<bool>())
        {
            return;
        }

        var values = window.cpu().data<float>().ToArray();
        var bad = Array.FindIndex(values, v => !float.IsFinite(v));
        var what = float.IsNaN(values[bad]) ? "NaN" : values[bad] > 0 ? "+Inf" : "-Inf";
        throw new TrialFailedException(string.Create(CultureInfo.InvariantCulture, $"loss became {what} at epoch {epoch}, batch {from + bad + 1}"));
    }
}
