using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.Workloads;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HyperTune.Agent.Tests;

/// <summary>
/// libtorch 2.10's CPU conv2d backward returns wrong input gradients for some channel counts (8→8, 12→12, 20→40, 24→24; even
/// NaN for 15→15), which made residual networks "diverge". The catalog therefore offers only channel counts whose every conv
/// this test checks against an unfold reference.
/// </summary>
public sealed class FashionMnistConvBackwardTests
{
    public static TheoryData<long, long, long> ConvShapesOfTheNetworks()
    {
        var shapes = new SortedSet<(long, long, long)>();
        foreach (var channels in WorkloadCatalog.ChannelCounts)
        {
            foreach (var kernel in WorkloadCatalog.KernelSizes)
            {
                var settings = FashionMnistSettings.Defaults(WorkloadCatalog.FashionMnistCnn) with { Channels = channels, KernelSize = kernel, ConvBlocks = 4, ImageSize = 64 };
                foreach (var model in new[] { FashionMnistModel.Cnn, FashionMnistModel.ResNet })
                {
                    using var network = FashionMnistTrainer.BuildNetwork(model, settings);
                    foreach (var conv in network.modules().OfType<Conv2d>().Where(c => c.weight!.shape[1] > 1))
                    {
                        shapes.Add((conv.weight!.shape[1], conv.weight.shape[0], conv.weight.shape[2]));
                    }
                }
            }
        }

        var data = new TheoryData<long, long, long>();
        foreach (var (input, output, kernel) in shapes)
        {
            data.Add(input, output, kernel);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ConvShapesOfTheNetworks))]
    public void Conv2dBackward_EveryConvOfTheNetworks_GivesTheInputGradientOfAnUnfoldReference(long input, long output, long kernel)
    {
        foreach (var stride in new long[] { 1, 2 })
        {
            using var scope = NewDisposeScope();
            manual_seed(0);
            const long n = 4, side = 12;
            var padding = (kernel - 1) / 2;
            var weight = randn(output, input, kernel, kernel);
            var x = randn(n, input, side, side).requires_grad_(true);
            var outSide = ((side + (2 * padding) - kernel) / stride) + 1;
            var upstream = randn(n, output, outSide, outSide);

            nn.functional.conv2d(x, weight, strides: [stride, stride], padding: [padding, padding]).mul(upstream).sum().backward();

            // dX = fold(Wᵀ · upstream): every output position sends its gradient back to the window it read.
            var columns = weight.reshape(output, input * kernel * kernel).t().matmul(upstream.reshape(n, output, outSide * outSide));
            var reference = nn.functional.fold(columns, (side, side), (kernel, kernel), padding: (padding, padding), stride: (stride, stride));
            var error = x.grad!.sub(reference).abs().max().div(reference.abs().max()).item<float>();
            Assert.True(error < 1e-4, $"conv {input}→{output} {kernel}×{kernel} stride {stride}: relative error {error} of the input gradient");
        }
    }
}
