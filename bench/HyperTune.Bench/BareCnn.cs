using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HyperTune.Bench;

/// <summary>The agent's CNN written plainly, as anyone would in a TorchSharp sample: the yardstick for the agent's loop.</summary>
internal sealed class BareCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _conv1 = nn.Conv2d(1, 32, 3);
    private readonly Conv2d _conv2 = nn.Conv2d(32, 64, 3);
    private readonly Linear _fc1 = nn.Linear(64 * 5 * 5, 128);
    private readonly Dropout _dropout = nn.Dropout(0.25);
    private readonly Linear _fc2 = nn.Linear(128, 10);

    public BareCnn()
        : base(nameof(BareCnn)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        x = nn.functional.max_pool2d(nn.functional.relu(_conv1.forward(x)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(_conv2.forward(x)), 2);
        x = _dropout.forward(nn.functional.relu(_fc1.forward(x.flatten(1))));
        return _fc2.forward(x);
    }
}
