using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>What a trial needs to continue after an epoch: the place in training; weights, optimiser state and data order live in the file.</summary>
public sealed record TrainingPosition(int Epoch, double BestValLoss, int EpochsWithoutImprovement);

/// <summary>Where a training saves its checkpoints and which one it continues from; both optional.</summary>
public sealed record CheckpointHooks(ResumePoint? Resume, Action<int, bool, Action<Stream>>? Save);

/// <summary>
/// A built-in workload's checkpoint file: a header (format, epoch, optimiser type, patience state), the network's
/// weights, the optimiser's state and the data-order generator, so a resumed trial continues as if never stopped.
/// </summary>
public static class FashionMnistCheckpoint
{
    private const string Format = "hypertune-fmnist-checkpoint-1";

    public static void Write(Stream stream, TrainingPosition position, nn.Module<Tensor, Tensor> network, optim.Optimizer optimizer, Generator generator)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Format);
        writer.Write(position.Epoch);
        writer.Write(position.BestValLoss);
        writer.Write(position.EpochsWithoutImprovement);
        writer.Write(optimizer.GetType().Name);
        network.save(writer);
        Helper(optimizer).save_state_dict(writer);
        using var state = generator.get_state();
        var bytes = state.data<byte>().ToArray();
        writer.Write(bytes.Length);
        writer.Write(bytes);
        writer.Flush();
    }

    /// <summary>
    /// Loads the checkpoint into the trial's network, optimiser and generator. The optimiser keeps the trial's own
    /// hyperparameters (a fork may have changed lr or momentum) and takes the checkpoint's per-parameter state (momentum
    /// buffers, Adam moments) only when it is of the same type; a network of another shape throws <see cref="TrialFailedException"/>.
    /// </summary>
    public static TrainingPosition Read(string path, nn.Module<Tensor, Tensor> network, optim.Optimizer optimizer, Func<optim.Optimizer> freshOptimizer, Generator generator)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        if (reader.ReadString() != Format)
        {
            throw new TrialFailedException($"{path} is not a HyperTune checkpoint of a built-in workload");
        }

        var position = new TrainingPosition(reader.ReadInt32(), reader.ReadDouble(), reader.ReadInt32());
        var optimizerType = reader.ReadString();
        try
        {
            network.load(reader);
        }
        catch (ArgumentException ex)
        {
            throw new TrialFailedException($"the checkpoint after epoch {position.Epoch} is of another network shape ({ex.Message}); a fork may change training hyperparameters, not the model's");
        }

        if (optimizerType == optimizer.GetType().Name)
        {
            Helper(optimizer).load_state_dict(reader);
            using var fresh = freshOptimizer();
            var own = Helper(fresh).state_dict().Options;
            var loaded = Helper(optimizer).state_dict().Options;
            for (var i = 0; i < loaded.Count; i++)
            {
                loaded[i].LoadStateDict(own[i]);
            }
        }
        else
        {
            // Another optimiser than the checkpoint's: it starts with fresh state; its section is skipped below.
            using var other = CreateOptimizerNamed(optimizerType, network);
            other.load_state_dict(reader);
        }

        var length = reader.ReadInt32();
        using var state = tensor(reader.ReadBytes(length), ScalarType.Byte);
        generator.set_state(state);
        return position;
    }

    // Every optimiser the built-in workloads create keeps per-parameter state (TorchSharp's OptimizerHelper).
    private static OptimizerHelper Helper(optim.Optimizer optimizer) => (OptimizerHelper)optimizer;

    // Only to read past the state of an optimiser the fork no longer uses.
    private static OptimizerHelper CreateOptimizerNamed(string typeName, nn.Module<Tensor, Tensor> network) => typeName switch
    {
        nameof(Adam) => optim.Adam(network.parameters()),
        nameof(AdamW) => optim.AdamW(network.parameters()),
        nameof(RMSProp) => optim.RMSProp(network.parameters()),
        _ => optim.SGD(network.parameters(), 0.01),
    };
}
