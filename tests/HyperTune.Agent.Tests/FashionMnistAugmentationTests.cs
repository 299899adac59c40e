using HyperTune.Agent.Workloads.FashionMnist;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Agent.Tests;

public sealed class FashionMnistAugmentationTests
{
    private static Tensor Batch() => FashionMnistData.Load(FashionMnistData.DefaultDirectory).TestImages.narrow(0, 0, 64);

    [Fact]
    public void Apply_None_ReturnsTheBatchItself()
    {
        using var generator = new Generator(1);
        using var images = Batch();

        Assert.Same(images, new FashionMnistAugmentation(FashionMnistAugment.None, 28, generator).Apply(images));
    }

    [Fact]
    public void Apply_Flip_MirrorsSomeImagesAndKeepsTheOthers()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1);
        var images = Batch();

        var flipped = new FashionMnistAugmentation(FashionMnistAugment.Flip, 28, generator).Apply(images);

        var kept = Enumerable.Range(0, 64).Count(i => flipped[i].equal(images[i]).all().item<bool>());
        var mirrored = Enumerable.Range(0, 64).Count(i => flipped[i].equal(images[i].flip(2)).all().item<bool>());
        Assert.Equal(64, kept + mirrored);
        Assert.InRange(mirrored, 16, 48);
    }

    [Fact]
    public void Apply_Crop_ShiftsEachImageByAtMostThePaddingWithBackgroundAround()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1);
        var images = Batch();
        var augmentation = new FashionMnistAugmentation(FashionMnistAugment.Crop, 28, generator);

        var cropped = augmentation.Apply(images);

        Assert.Equal(2, augmentation.Padding);
        Assert.Equal(images.shape, cropped.shape);
        var padded = nn.functional.pad(images, [2, 2, 2, 2], value: FashionMnistData.Background);
        var shifts = new HashSet<(int, int)>();
        for (var i = 0; i < 64; i++)
        {
            var match = (from dy in Enumerable.Range(0, 5) from dx in Enumerable.Range(0, 5)
                         where padded[i, .., dy..(dy + 28), dx..(dx + 28)].equal(cropped[i]).all().item<bool>()
                         select (dy, dx)).First();
            shifts.Add(match);
        }

        Assert.True(shifts.Count > 5, $"only {shifts.Count} distinct crops in 64 images");
    }

    [Fact]
    public void Apply_SameSeed_GivesTheSameBatch()
    {
        using var scope = NewDisposeScope();
        using var first = new Generator(7);
        using var second = new Generator(7);
        var images = Batch();

        var a = new FashionMnistAugmentation(FashionMnistAugment.Crop | FashionMnistAugment.Flip, 28, first).Apply(images);
        var b = new FashionMnistAugmentation(FashionMnistAugment.Crop | FashionMnistAugment.Flip, 28, second).Apply(images);

        Assert.True(a.equal(b).all().item<bool>());
    }
}
