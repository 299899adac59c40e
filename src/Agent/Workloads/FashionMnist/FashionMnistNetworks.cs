using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>conv(1→32,3)+ReLU+maxpool2, conv(32→64,3)+ReLU+maxpool2, fc(1600→hidden)+ReLU+dropout, fc(hidden→10).</summary>
public sealed class FashionMnistCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _conv1;
    private readonly Conv2d _conv2;
    private readonly Linear _fc1;
    private readonly Dropout _dropout;
    private readonly Linear _fc2;

    public FashionMnistCnn(int hiddenUnits, double dropout)
        : base(nameof(FashionMnistCnn))
    {
        _conv1 = nn.Conv2d(1, 32, 3);
        _conv2 = nn.Conv2d(32, 64, 3);
        _fc1 = nn.Linear(64 * 5 * 5, hiddenUnits);
        _dropout = nn.Dropout(dropout);
        _fc2 = nn.Linear(hiddenUnits, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var c1 = _conv1.forward(input);
        using var r1 = nn.functional.relu(c1);
        using var p1 = nn.functional.max_pool2d(r1, 2);
        using var c2 = _conv2.forward(p1);
        using var r2 = nn.functional.relu(c2);
        using var p2 = nn.functional.max_pool2d(r2, 2);
        using var flat = p2.flatten(1);
        using var f1 = _fc1.forward(flat);
        using var r3 = nn.functional.relu(f1);
        using var d = _dropout.forward(r3);
        return _fc2.forward(d);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _conv1.Dispose();
            _conv2.Dispose();
            _fc1.Dispose();
            _dropout.Dispose();
            _fc2.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>784→hidden→ReLU→dropout→10.</summary>
public sealed class FashionMnistMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear _fc1;
    private readonly Dropout _dropout;
    private readonly Linear _fc2;

    public FashionMnistMlp(int hiddenUnits, double dropout)
        : base(nameof(FashionMnistMlp))
    {
        _fc1 = nn.Linear(28 * 28, hiddenUnits);
        _dropout = nn.Dropout(dropout);
        _fc2 = nn.Linear(hiddenUnits, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var flat = input.flatten(1);
        using var f1 = _fc1.forward(flat);
        using var r1 = nn.functional.relu(f1);
        using var d = _dropout.forward(r1);
        return _fc2.forward(d);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fc1.Dispose();
            _dropout.Dispose();
            _fc2.Dispose();
        }

        base.Dispose(disposing);
    }
}
