using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>
/// Random changes to a training batch on its device, drawn from the trial's seeded CPU generator: crop pads each side by
/// image_size/14 pixels (2 at 28) of background and cuts an image_size window at a random offset per image; flip mirrors
/// each image left-right with probability ½.
/// </summary>
public sealed class FashionMnistAugmentation(FashionMnistAugment kind, int imageSize, Generator generator)
{
    public int Padding { get; } = Math.Max(1, (int)Math.Round(imageSize / 14.0));

    public bool Changes => kind != FashionMnistAugment.None;

    /// <summary>A new batch of the same shape as <paramref name="images"/> ([n, c, h, w]), or <paramref name="images"/> itself when nothing is to change.</summary>
    public Tensor Apply(Tensor images)
    {
        if (!Changes)
        {
            return images;
        }

        using var scope = NewDisposeScope();
        var result = images;
        if (kind.HasFlag(FashionMnistAugment.Crop))
        {
            result = Crop(result);
        }

        if (kind.HasFlag(FashionMnistAugment.Flip))
        {
            var n = result.shape[0];
            var flip = rand([n], generator: generator).lt(0.5).view(n, 1, 1, 1).to(result.device);
            result = where(flip, result.flip(3), result);
        }

        return result.MoveToOuterDisposeScope();
    }

    private Tensor Crop(Tensor images)
    {
        var (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3]);
        var p = Padding;
        var padded = nn.functional.pad(images, [p, p, p, p], value: FashionMnistData.Background);

        // Row r of image i is padded row dy_i + r, column k is padded column dx_i + k: two gathers cut every window at once.
        var dy = randint(0, (2 * p) + 1, [n], ScalarType.Int64, generator: generator).to(images.device);
        var dx = randint(0, (2 * p) + 1, [n], ScalarType.Int64, generator: generator).to(images.device);
        var rows = dy.view(n, 1, 1, 1).add(arange(h, ScalarType.Int64, device: images.device).view(1, 1, h, 1)).expand(n, c, h, w + (2 * p));
        var cols = dx.view(n, 1, 1, 1).add(arange(w, ScalarType.Int64, device: images.device).view(1, 1, 1, w)).expand(n, c, h, w);
        return padded.gather(2, rows).gather(3, cols);
    }
}
