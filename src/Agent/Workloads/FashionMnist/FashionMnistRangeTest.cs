using HyperTune.Shared.LearningRate;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>The LR range test mode of the built-in workloads (Smith, 2017).</summary>
public sealed partial class FashionMnistTrainer
{
    public const string LrMetric = "lr";
    public const string LossMetric = "loss";

    /// <summary>
    /// Trains one network from the trial's settings while the learning rate rises exponentially per batch, reporting
    /// (lr, loss) after every step; cycles through the training subset as often as the steps need. The run ends early,
    /// normally, once the loss is no longer finite: the curve up to there is what the test is for.
    /// </summary>
    public void RangeTest(FashionMnistModel model, FashionMnistSettings settings, LrRangeTestSpec test, Action<int, double, double> onStep,
        CancellationToken cancellationToken, Action<TrialProgress>? onProgress = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var network = BuildNetwork(model, settings, Device);
        using var optimizer = CreateOptimizer(network, settings with { Lr = test.MinLr });
        using var trialScope = NewDisposeScope();
        using var generator = new Generator((ulong)settings.Seed);
        var (trainImages, trainLabels) = TrainingSubset(settings, generator);
        var n = settings.TrainSamples;
        var batches = (n + settings.BatchSize - 1) / settings.BatchSize;
        network.train();
        Tensor? order = null;
        for (var step = 0; step < test.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = step % batches;
            if (batch == 0)
            {
                order?.Dispose();
                order = randperm(n, generator: generator).to(Device);
            }

            var lr = test.LrAt(step);
            SetLearningRate(optimizer, lr);

            double loss;
            using (NewDisposeScope())
            {
                var start = batch * settings.BatchSize;
                var indices = order!.narrow(0, start, Math.Min(settings.BatchSize, n - start));
                optimizer.zero_grad();
                var output = nn.functional.cross_entropy(network.forward(trainImages.index_select(0, indices)), trainLabels.index_select(0, indices));
                output.backward();
                optimizer.step();
                loss = output.item<float>();
            }

            onStep(step + 1, lr, loss);
            onProgress?.Invoke(new TrialProgress(1, 1, step + 1, test.Steps, loss, 0));
            if (!double.IsFinite(loss))
            {
                break;
            }
        }

        order?.Dispose();
    }
}
