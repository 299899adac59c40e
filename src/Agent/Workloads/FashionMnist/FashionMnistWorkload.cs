using System.Globalization;
using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>The built-in workloads fashion-mnist-cnn, fashion-mnist-mlp and fashion-mnist-resnet.</summary>
public sealed class FashionMnistWorkload(string name, FashionMnistModel model, IOptions<AgentOptions> options, TorchDevices devices) : ITrialWorkload
{
    public string Name { get; } = name;

    public void Run(TrialRequest request, ITrialReporter reporter, CancellationToken cancellationToken)
    {
        var settings = FashionMnistSettings.Parse(Name, request.Parameters);
        var data = FashionMnistData.Load(options.Value.DataDir);
        var trainer = new FashionMnistTrainer(data, devices.ForSlot(request.Slot));
        // The trial's log (the Log dialog) says what ran, on what, from where, and each epoch in one line.
        reporter.Log($"{Name} on {trainer.Device}: {settings}");
        if (request.LrRangeTest is { } test)
        {
            reporter.Log(string.Create(CultureInfo.InvariantCulture, $"lr range test: lr {test.MinLr:G3} to {test.MaxLr:G3} over {test.Steps} steps"));
            var steps = 0;
            trainer.RangeTest(model, settings, test, (step, lr, loss) =>
            {
                steps = step;
                reporter.Epoch(step, new Dictionary<string, double>
                {
                    [FashionMnistTrainer.LrMetric] = lr,
                    [FashionMnistTrainer.LossMetric] = loss,
                });
            }, cancellationToken, reporter.Progress);
            reporter.Log($"lr range test done after {steps} steps");
            return;
        }

        if (request.Resume is { } resume)
        {
            reporter.Log($"continuing from the checkpoint after epoch {resume.Epoch}");
        }

        trainer.Train(model, settings, m =>
        {
            reporter.Log(Describe(m, settings.Epochs));
            reporter.Epoch(m.Epoch, m.ToDictionary());
        }, cancellationToken, reporter.Progress, new CheckpointHooks(request.Resume, reporter.SaveCheckpoint));
    }

    private static string Describe(EpochMetrics m, int epochs)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {m.Epoch}/{epochs}: train_loss {m.TrainLoss:F4}, val_loss {m.ValLoss:F4}, val_accuracy {m.ValAccuracy:F4}, {m.TrainImagesPerSecond:F0} images/s");
        if (m.TestAccuracy is { } test)
        {
            line += string.Create(CultureInfo.InvariantCulture, $", test_accuracy {test:F4}");
        }

        return m.StoppedEarlyAt is { } at ? $"{line} (stopped early at epoch {at}: patience)" : line;
    }
}
