using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>
/// Conv blocks (conv k×k padded by (k−3)/2, batch norm if asked, activation, max-pool 2) from <c>channels</c> doubling per block,
/// then fc(→hidden)+activation+dropout, fc(hidden→10). The defaults (2 blocks, 32 channels, 3×3, no batch norm, relu, 128 hidden)
/// are BENCHMARKS.md §4's CNN: conv(1→32,3), conv(32→64,3), fc(1600→128), fc(128→10).
/// </summary>
public sealed class FashionMnistCnn : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Conv2d> _convs;
    private readonly ModuleList<BatchNorm2d>? _norms;
    private readonly Linear _fc1;
    private readonly Dropout _dropout;
    private readonly Linear _fc2;
    private readonly FashionMnistActivation _activation;

    public FashionMnistCnn(FashionMnistSettings settings)
        : base(nameof(FashionMnistCnn))
    {
        _activation = settings.Activation;
        var size = (long)settings.ImageSize;
        var padding = (settings.KernelSize - 3) / 2;
        var channels = 1L;
        _convs = new ModuleList<Conv2d>();
        _norms = settings.BatchNorm ? new ModuleList<BatchNorm2d>() : null;
        for (var block = 0; block < settings.ConvBlocks; block++)
        {
            var output = (long)settings.Channels << block;
            _convs.Add(nn.Conv2d(channels, output, settings.KernelSize, padding: padding, bias: !settings.BatchNorm));
            _norms?.Add(nn.BatchNorm2d(output));
            channels = output;
            size = (size - settings.KernelSize + 1 + (2 * padding)) / 2;
            if (size < 1)
            {
                throw new TrialFailedException($"parameter conv_blocks {settings.ConvBlocks} does not fit image_size {settings.ImageSize}: " +
                    $"the feature map vanishes in block {block + 1} (each block trims 2 pixels and halves the map; 3 blocks need image_size >= 22, 4 need >= 46)");
            }
        }

        _fc1 = nn.Linear(channels * size * size, settings.HiddenUnits);
        _dropout = nn.Dropout(settings.Dropout);
        _fc2 = nn.Linear(settings.HiddenUnits, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var x = input;
        for (var i = 0; i < _convs.Count; i++)
        {
            var conv = _convs[i].forward(x);
            Release(ref x, input, conv);
            if (_norms is not null)
            {
                var normed = _norms[i].forward(x);
                Release(ref x, input, normed);
            }

            var active = FashionMnistLayers.Activate(x, _activation);
            Release(ref x, input, active);
            var pooled = nn.functional.max_pool2d(x, 2);
            Release(ref x, input, pooled);
        }

        using var flat = x.flatten(1);
        Release(ref x, input, flat);
        using var f1 = _fc1.forward(flat);
        using var a1 = FashionMnistLayers.Activate(f1, _activation);
        using var d = _dropout.forward(a1);
        return _fc2.forward(d);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _convs.Dispose();
            _norms?.Dispose();
            _fc1.Dispose();
            _dropout.Dispose();
            _fc2.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Frees the intermediate <paramref name="x"/> (never the caller's input) as soon as <paramref name="next"/> replaces it.</summary>
    private static void Release(ref Tensor x, Tensor input, Tensor next)
    {
        if (!ReferenceEquals(x, input) && !ReferenceEquals(x, next))
        {
            x.Dispose();
        }

        x = next;
    }
}

/// <summary>image_size² → (fc(hidden) + activation + dropout) × layers → fc(10).</summary>
public sealed class FashionMnistMlp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> _hidden;
    private readonly Dropout _dropout;
    private readonly Linear _output;
    private readonly FashionMnistActivation _activation;

    public FashionMnistMlp(FashionMnistSettings settings)
        : base(nameof(FashionMnistMlp))
    {
        _activation = settings.Activation;
        _hidden = new ModuleList<Linear>();
        var width = (long)settings.ImageSize * settings.ImageSize;
        for (var layer = 0; layer < settings.Layers; layer++)
        {
            _hidden.Add(nn.Linear(width, settings.HiddenUnits));
            width = settings.HiddenUnits;
        }

        _dropout = nn.Dropout(settings.Dropout);
        _output = nn.Linear(width, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.flatten(1);
        foreach (var layer in _hidden)
        {
            x = _dropout.forward(FashionMnistLayers.Activate(layer.forward(x), _activation));
        }

        return _output.forward(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hidden.Dispose();
            _dropout.Dispose();
            _output.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A small ResNet: a 3×3 stem to <c>channels</c>, then residual blocks (two 3×3 convs and a shortcut); every block after the
/// first halves the map (stride 2) and doubles the channels; global average pool, dropout, fc(→10).
/// </summary>
public sealed class FashionMnistResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _stem;
    private readonly BatchNorm2d? _stemNorm;
    private readonly ModuleList<ResidualBlock> _blocks;
    private readonly Dropout _dropout;
    private readonly Linear _output;
    private readonly FashionMnistActivation _activation;

    public FashionMnistResNet(FashionMnistSettings settings)
        : base(nameof(FashionMnistResNet))
    {
        _activation = settings.Activation;
        _stem = nn.Conv2d(1, settings.Channels, 3, padding: 1, bias: !settings.BatchNorm);
        _stemNorm = settings.BatchNorm ? nn.BatchNorm2d(settings.Channels) : null;
        _blocks = new ModuleList<ResidualBlock>();
        var channels = (long)settings.Channels;
        for (var block = 0; block < settings.ConvBlocks; block++)
        {
            var output = block == 0 ? channels : channels * 2;
            _blocks.Add(new ResidualBlock(channels, output, stride: block == 0 ? 1 : 2, settings.BatchNorm, settings.Activation));
            channels = output;
        }

        _dropout = nn.Dropout(settings.Dropout);
        _output = nn.Linear(channels, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _stem.forward(input);
        x = FashionMnistLayers.Activate(_stemNorm?.forward(x) ?? x, _activation);
        foreach (var block in _blocks)
        {
            x = block.forward(x);
        }

        var pooled = nn.functional.adaptive_avg_pool2d(x, [1, 1]).flatten(1);
        return _output.forward(_dropout.forward(pooled)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stem.Dispose();
            _stemNorm?.Dispose();
            _blocks.Dispose();
            _dropout.Dispose();
            _output.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>activation(bn(conv(activation(bn(conv(x))))) + shortcut(x)); the shortcut is a strided 1×1 conv when the shape changes.</summary>
    private sealed class ResidualBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d? _norm1;
        private readonly Conv2d _conv2;
        private readonly BatchNorm2d? _norm2;
        private readonly Conv2d? _shortcut;
        private readonly BatchNorm2d? _shortcutNorm;
        private readonly FashionMnistActivation _activation;

        public ResidualBlock(long input, long output, int stride, bool batchNorm, FashionMnistActivation activation)
            : base(nameof(ResidualBlock))
        {
            _activation = activation;
            _conv1 = nn.Conv2d(input, output, 3, stride: stride, padding: 1, bias: !batchNorm);
            _norm1 = batchNorm ? nn.BatchNorm2d(output) : null;
            _conv2 = nn.Conv2d(output, output, 3, padding: 1, bias: !batchNorm);
            _norm2 = batchNorm ? nn.BatchNorm2d(output) : null;
            if (stride != 1 || input != output)
            {
                _shortcut = nn.Conv2d(input, output, 1, stride: stride, bias: !batchNorm);
                _shortcutNorm = batchNorm ? nn.BatchNorm2d(output) : null;
            }

            RegisterComponents();
        }

        // Called inside the network's dispose scope: intermediates go with it.
        public override Tensor forward(Tensor input)
        {
            var x = _conv1.forward(input);
            x = FashionMnistLayers.Activate(_norm1?.forward(x) ?? x, _activation);
            x = _conv2.forward(x);
            x = _norm2?.forward(x) ?? x;
            var shortcut = _shortcut is null ? input : _shortcut.forward(input);
            shortcut = _shortcutNorm?.forward(shortcut) ?? shortcut;
            return FashionMnistLayers.Activate(x.add(shortcut), _activation);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _conv1.Dispose();
                _norm1?.Dispose();
                _conv2.Dispose();
                _norm2?.Dispose();
                _shortcut?.Dispose();
                _shortcutNorm?.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>What the three networks share: their activation and their weight initialisation.</summary>
public static class FashionMnistLayers
{
    public const double LeakySlope = 0.01;

    public static Tensor Activate(Tensor x, FashionMnistActivation activation) => activation switch
    {
        FashionMnistActivation.LeakyRelu => nn.functional.leaky_relu(x, LeakySlope),
        FashionMnistActivation.Tanh => nn.functional.tanh(x),
        FashionMnistActivation.Sigmoid => nn.functional.sigmoid(x),
        FashionMnistActivation.Gelu => nn.functional.gelu(x),
        _ => nn.functional.relu(x),
    };

    /// <summary>
    /// Re-draws every conv and linear weight (biases to 0) with the gain of <paramref name="activation"/>: kaiming is
    /// kaiming-normal (fan in), xavier xavier-uniform, orthogonal orthogonal; default keeps TorchSharp's own initialisation.
    /// </summary>
    public static void Initialize(nn.Module<Tensor, Tensor> network, FashionMnistInit init, FashionMnistActivation activation)
    {
        if (init == FashionMnistInit.Default)
        {
            return;
        }

        var (nonlinearity, slope) = activation switch
        {
            FashionMnistActivation.LeakyRelu => (nn.init.NonlinearityType.LeakyReLU, LeakySlope),
            FashionMnistActivation.Tanh => (nn.init.NonlinearityType.Tanh, 0.0),
            FashionMnistActivation.Sigmoid => (nn.init.NonlinearityType.Sigmoid, 0.0),
            _ => (nn.init.NonlinearityType.ReLU, 0.0),
        };
        var gain = nn.init.calculate_gain(nonlinearity, slope);
        using var noGrad = no_grad();
        foreach (var module in network.modules())
        {
            var (weight, bias) = module switch
            {
                Conv2d conv => (conv.weight, conv.bias),
                Linear linear => (linear.weight, linear.bias),
                _ => (null, null),
            };
            if (weight is null)
            {
                continue;
            }

            _ = init switch
            {
                FashionMnistInit.Kaiming => nn.init.kaiming_normal_(weight, slope, nn.init.FanInOut.FanIn, nonlinearity),
                FashionMnistInit.Xavier => nn.init.xavier_uniform_(weight, gain),
                _ => nn.init.orthogonal_(weight, gain),
            };
            if (bias is not null)
            {
                nn.init.zeros_(bias);
            }
        }
    }
}
