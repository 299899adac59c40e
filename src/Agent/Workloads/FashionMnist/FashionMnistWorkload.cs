using Microsoft.Extensions.Options;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>The built-in workloads fashion-mnist-cnn and fashion-mnist-mlp.</summary>
public sealed class FashionMnistWorkload(string name, FashionMnistModel model, IOptions<AgentOptions> options, TorchDevices devices) : ITrialWorkload
{
    public string Name { get; } = name;

    public void Run(TrialRequest request, Action<EpochMetrics> onEpoch, CancellationToken cancellationToken)
    {
        var settings = FashionMnistSettings.Parse(Name, request.Parameters);
        var data = FashionMnistData.Load(options.Value.DataDir);
        new FashionMnistTrainer(data, devices.ForSlot(request.Slot)).Train(model, settings, onEpoch, cancellationToken);
    }
}
