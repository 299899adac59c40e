using System.Collections.Concurrent;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Agent.Workloads.FashionMnist;

/// <summary>
/// The Fashion-MNIST training and test files as normalised CPU tensors, read once per process and folder and shared by
/// every slot (read-only). Images are [n, 1, 28, 28] float32, labels [n] int64.
/// </summary>
public sealed class FashionMnistData
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const int TrainCount = 60_000;
    public const int TestCount = 10_000;

    /// <summary>The last 5,000 training images are held out for validation; subsets are drawn from the rest.</summary>
    public const int ValidationPool = 5_000;

    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";
    public const string TestImagesFile = "t10k-images-idx3-ubyte.gz";
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte.gz";

    // Fashion-MNIST's pixel mean and standard deviation (over the training set, after scaling to [0, 1]).
    private const double Mean = 0.2860;
    private const double Std = 0.3530;

    /// <summary>A black pixel after normalisation: what padding adds around an image.</summary>
    public const double Background = -Mean / Std;

    private static readonly ConcurrentDictionary<string, Lazy<FashionMnistData>> Loaded = new(StringComparer.Ordinal);

    private FashionMnistData(string directory, Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels)
    {
        Directory = directory;
        TrainImages = trainImages;
        TrainLabels = trainLabels;
        TestImages = testImages;
        TestLabels = testLabels;
    }

    public string Directory { get; }

    public Tensor TrainImages { get; }

    public Tensor TrainLabels { get; }

    public Tensor TestImages { get; }

    public Tensor TestLabels { get; }

    public static int TrainPool => TrainCount - ValidationPool;

    /// <summary>The data in <paramref name="directory"/>, read on first use; a missing folder or file throws <see cref="TrialFailedException"/> saying how to get it.</summary>
    public static FashionMnistData Load(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var lazy = Loaded.GetOrAdd(full, d => new Lazy<FashionMnistData>(() => Read(d), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed read is not cached: the files may be installed while the agent runs.
            Loaded.TryRemove(new KeyValuePair<string, Lazy<FashionMnistData>>(full, lazy));
            throw;
        }
    }

    private static FashionMnistData Read(string directory)
    {
        foreach (var file in new[] { TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile })
        {
            if (!File.Exists(Path.Combine(directory, file)))
            {
                var what = System.IO.Directory.Exists(directory) ? $"{file} is missing from the data folder {directory}" : $"the data folder {directory} does not exist";
                throw new TrialFailedException(
                    $"Fashion-MNIST not found: {what}. Install it with `apt-get install dataset-fashion-mnist` (into {DefaultDirectory}), " +
                    $"or point Agent:DataDir at a folder holding {TrainImagesFile}, {TrainLabelsFile}, {TestImagesFile} and {TestLabelsFile}");
            }
        }

        using var scope = NewDisposeScope();
        var trainImages = Images(Path.Combine(directory, TrainImagesFile));
        var trainLabels = Labels(Path.Combine(directory, TrainLabelsFile));
        var testImages = Images(Path.Combine(directory, TestImagesFile));
        var testLabels = Labels(Path.Combine(directory, TestLabelsFile));
        if (trainImages.shape[0] != TrainCount || trainLabels.shape[0] != TrainCount)
        {
            throw new TrialFailedException($"{directory}: the training files hold {trainImages.shape[0]} images and {trainLabels.shape[0]} labels, expected {TrainCount}");
        }

        // Detached, not moved out: the first Load may happen inside a caller's dispose scope, and these tensors live as long as the process.
        return new FashionMnistData(directory,
            trainImages.DetachFromDisposeScope(), trainLabels.DetachFromDisposeScope(),
            testImages.DetachFromDisposeScope(), testLabels.DetachFromDisposeScope());
    }

    private static Tensor Images(string path)
    {
        var (dims, bytes) = ReadIdx(path, expectedMagic: 0x0803);
        using var raw = tensor(bytes, [dims[0], 1, dims[1], dims[2]], ScalarType.Byte);
        return raw.to_type(ScalarType.Float32).div_(255.0).sub_(Mean).div_(Std);
    }

    private static Tensor Labels(string path)
    {
        var (_, bytes) = ReadIdx(path, expectedMagic: 0x0801);
        using var raw = tensor(bytes, ScalarType.Byte);
        return raw.to_type(ScalarType.Int64);
    }

    /// <summary>Reads a gzip IDX file: a big-endian magic (0x08 = unsigned bytes, then the rank), the dimensions, the data.</summary>
    private static (long[] Dims, byte[] Data) ReadIdx(string path, int expectedMagic)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip);
        var magic = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(reader.ReadInt32());
        if (magic != expectedMagic)
        {
            throw new TrialFailedException($"{path} is not an IDX file of the expected kind: magic 0x{magic:x8}, expected 0x{expectedMagic:x8}");
        }

        var dims = new long[magic & 0xff];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(reader.ReadInt32());
        }

        var length = checked((int)dims.Aggregate(1L, (a, b) => a * b));
        var data = reader.ReadBytes(length);
        if (data.Length != length)
        {
            throw new TrialFailedException($"{path} is truncated: {data.Length} of {length} data bytes");
        }

        return (dims, data);
    }
}
