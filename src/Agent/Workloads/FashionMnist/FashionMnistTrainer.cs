using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>
/// Trains one Fashion-MNIST network on one device. Usable on its own (the bench calls it directly): give it settings,
/// a callback per epoch and a token; it returns when the epochs are done or patience ran out (the last epoch's report then
/// carries the test-set metrics), throws <see cref="TrialDivergedException"/> when the loss stops being finite, and
/// <see cref="OperationCanceledException"/> (between two batches) when cancelled.
/// </summary>
public sealed partial class FashionMnistTrainer(FashionMnistData data, Device device)
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

    public void Train(FashionMnistModel model, FashionMnistSettings settings, Action<EpochMetrics> onEpoch, CancellationToken cancellationToken,
        Action<TrialProgress>? onProgress = null, CheckpointHooks? checkpoints = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var network = BuildNetwork(model, settings, Device);
        using var optimizer = CreateOptimizer(network, settings);
        using var trialScope = NewDisposeScope();
        using var generator = new Generator((ulong)settings.Seed);

        var (trainImages, trainLabels) = TrainingSubset(settings, generator);
        var (valImages, valLabels) = ValidationSet(settings);
        var augmentation = new FashionMnistAugmentation(settings.Augment, settings.ImageSize, generator);

        var n = settings.TrainSamples;
        var batches = (n + settings.BatchSize - 1) / settings.BatchSize;
        var schedule = new LearningRateSchedule(settings.Schedule, settings.Lr, settings.Epochs, settings.WarmupEpochs, batches);
        var batchLosses = zeros(batches, device: Device);
        // Each batch's mean loss weighs by its size, so the epoch's train_loss is the mean over images.
        var batchWeights = full(batches, (double)settings.BatchSize / n, device: Device);
        batchWeights[batches - 1] = tensor((double)(n - ((batches - 1) * settings.BatchSize)) / n);
        var bestValLoss = double.PositiveInfinity;
        var epochsWithoutImprovement = 0;
        var firstEpoch = 1;
        if (checkpoints?.Resume is { } resume)
        {
            var position = FashionMnistCheckpoint.Read(resume.Path, network, optimizer, () => CreateOptimizer(network, settings), generator);
            if (position.Epoch >= settings.Epochs)
            {
                throw new TrialFailedException($"nothing to train: the checkpoint is after epoch {position.Epoch} and epochs is {settings.Epochs} (raise epochs to continue)");
            }

            (firstEpoch, bestValLoss, epochsWithoutImprovement) = (position.Epoch + 1, position.BestValLoss, position.EpochsWithoutImprovement);
        }

        for (var epoch = firstEpoch; epoch <= settings.Epochs; epoch++)
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
                    if (schedule.Varies)
                    {
                        SetLearningRate(optimizer, schedule.At(epoch - 1, batch));
                    }

                    using (NewDisposeScope())
                    {
                        var start = batch * settings.BatchSize;
                        var indices = order.narrow(0, start, Math.Min(settings.BatchSize, n - start));
                        var images = augmentation.Apply(trainImages.index_select(0, indices));
                        var labels = trainLabels.index_select(0, indices);
                        optimizer.zero_grad();
                        var loss = nn.functional.cross_entropy(network.forward(images), labels, label_smoothing: settings.LabelSmoothing);
                        loss.backward();
                        optimizer.step();
                        batchLosses[batch].copy_(loss.detach());
                    }

                    if (batch + 1 - checkedUpTo == FinitenessCheckInterval || batch == batches - 1)
                    {
                        EnsureFinite(batchLosses, checkedUpTo, batch + 1, epoch);
                        checkedUpTo = batch + 1;
                        if (onProgress is not null)
                        {
                            var seen = Math.Min(n, (batch + 1) * settings.BatchSize);
                            onProgress(new TrialProgress(epoch, settings.Epochs, batch + 1, batches, batchLosses[batch].item<float>(),
                                seen / Stopwatch.GetElapsedTime(started).TotalSeconds));
                        }
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
            var metrics = new EpochMetrics(epoch, trainLoss, valLoss, valAccuracy, epochSeconds, n / trainSeconds);

            // Patience counts epochs since val_loss last fell below its best (a NaN val_loss never does).
            var improved = valLoss < bestValLoss;
            (bestValLoss, epochsWithoutImprovement) = improved ? (valLoss, 0) : (bestValLoss, epochsWithoutImprovement + 1);
            var position = new TrainingPosition(epoch, bestValLoss, epochsWithoutImprovement);
            checkpoints?.Save?.Invoke(epoch, improved, stream => FashionMnistCheckpoint.Write(stream, position, network, optimizer, generator));
            var stopsEarly = settings.Patience > 0 && epochsWithoutImprovement >= settings.Patience && epoch < settings.Epochs;
            if (stopsEarly || epoch == settings.Epochs)
            {
                var (testLoss, testAccuracy) = EvaluateOnTestSet(network, settings, cancellationToken);
                metrics = metrics with { TestLoss = testLoss, TestAccuracy = testAccuracy, StoppedEarlyAt = stopsEarly ? epoch : null };
            }

            onEpoch(metrics);
            if (stopsEarly)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The network a trial of <paramref name="model"/> trains, with its seed's initial weights (drawn on the CPU, then moved to
    /// <paramref name="device"/> when given). A CNN whose blocks do not fit the image size throws <see cref="TrialFailedException"/>.
    /// </summary>
    public static nn.Module<Tensor, Tensor> BuildNetwork(FashionMnistModel model, FashionMnistSettings settings, Device? device = null)
    {
        nn.Module<Tensor, Tensor> network;
        lock (WeightInitLock)
        {
            manual_seed(settings.Seed);
            network = model switch
            {
                FashionMnistModel.Cnn => new FashionMnistCnn(settings),
                FashionMnistModel.ResNet => new FashionMnistResNet(settings),
                _ => new FashionMnistMlp(settings),
            };
            FashionMnistLayers.Initialize(network, settings.Init, settings.Activation);
        }

        return device is null ? network : network.to(device);
    }

    /// <summary>
    /// The optimiser of a trial: sgd (momentum, nesterov, L2 weight decay), adam (beta1, beta2, eps, L2 weight decay), adamw
    /// (the same with decoupled weight decay) or rmsprop (alpha 0.99, eps, L2 weight decay, no momentum), all at lr.
    /// </summary>
    public static optim.Optimizer CreateOptimizer(nn.Module<Tensor, Tensor> network, FashionMnistSettings settings)
    {
        if (settings.Optimizer == FashionMnistOptimizer.Sgd && settings.Nesterov && settings.Momentum == 0)
        {
            throw new TrialFailedException("parameter nesterov true needs momentum > 0, got momentum 0");
        }

        return settings.Optimizer switch
        {
            FashionMnistOptimizer.Adam => optim.Adam(network.parameters(), settings.Lr, settings.Beta1, settings.Beta2, settings.Eps, settings.WeightDecay),
            FashionMnistOptimizer.AdamW => optim.AdamW(network.parameters(), settings.Lr, settings.Beta1, settings.Beta2, settings.Eps, settings.WeightDecay),
            FashionMnistOptimizer.RmsProp => optim.RMSProp(network.parameters(), settings.Lr, eps: settings.Eps, weight_decay: settings.WeightDecay),
            _ => optim.SGD(network.parameters(), settings.Lr, momentum: settings.Momentum, weight_decay: settings.WeightDecay, nesterov: settings.Nesterov),
        };
    }

    /// <summary>Sets the learning rate of every parameter group; the next step uses it.</summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = lr;
        }
    }

    /// <summary>Bilinear resize of [n, c, 28, 28] images to <paramref name="size"/>² (no copy when already that size).</summary>
    public static Tensor Resize(Tensor images, int size) => images.shape[^1] == size
        ? images.alias()
        : nn.functional.interpolate(images, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);

    /// <summary>The trial's training images on the device: a seeded draw of train_samples from the first 55,000, resized once.</summary>
    public (Tensor Images, Tensor Labels) TrainingSubset(FashionMnistSettings settings, Generator generator)
    {
        using var subset = randperm(FashionMnistData.TrainPool, generator: generator).narrow(0, 0, settings.TrainSamples);
        return OnDevice(data.TrainImages, data.TrainLabels, rows => rows.index_select(0, subset), settings.ImageSize);
    }

    /// <summary>The trial's validation images on the device: the head of the last 5,000 training images, resized once.</summary>
    public (Tensor Images, Tensor Labels) ValidationSet(FashionMnistSettings settings) =>
        OnDevice(data.TrainImages, data.TrainLabels, rows => rows.narrow(0, FashionMnistData.TrainPool, settings.ValSamples), settings.ImageSize);

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

    /// <summary>The test images (all 10,000 unless a test asks fewer), moved and resized only now so that they take no memory while the trial trains.</summary>
    private (double Loss, double Accuracy) EvaluateOnTestSet(nn.Module<Tensor, Tensor> network, FashionMnistSettings settings, CancellationToken cancellationToken)
    {
        var count = Math.Min(settings.TestSamples, data.TestLabels.shape[0]);
        var (images, labels) = OnDevice(data.TestImages, data.TestLabels, rows => rows.narrow(0, 0, count), settings.ImageSize);
        using (images)
        using (labels)
        {
            return Evaluate(network, images, labels, cancellationToken);
        }
    }

    /// <summary>The rows <paramref name="select"/> picks of a file's images and labels, on the device at <paramref name="imageSize"/>.</summary>
    private (Tensor Images, Tensor Labels) OnDevice(Tensor images, Tensor labels, Func<Tensor, Tensor> select, int imageSize)
    {
        using var scope = NewDisposeScope();
        var resized = Resize(select(images).to(Device), imageSize);
        return (resized.MoveToOuterDisposeScope(), select(labels).to(Device).MoveToOuterDisposeScope());
    }

    /// <summary>Throws naming the first batch in [from, to) whose loss is NaN or infinite (batches count from 1).</summary>
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
        throw new TrialDivergedException(epoch, from + bad + 1, values[bad]);
    }
}
