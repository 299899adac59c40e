using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using HyperTune.Agent.Workloads;
using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Shared.Workloads;
using TorchSharp;
using static TorchSharp.torch;

namespace HyperTune.Bench;

/// <summary>
/// Training images/s of a bare TorchSharp loop and of the agent's <see cref="FashionMnistTrainer"/> on the same CNN,
/// data, threads and hyperparameters, alternating in one process; the first epoch of every run is warm-up and dropped.
/// </summary>
internal static class ThroughputBench
{
    private const int BatchSize = 128;
    private const double Lr = 0.05;
    private const double Momentum = 0.9;
    private const double WeightDecay = 5e-4;

    public static int Run(string[] args)
    {
        var samples = BenchArgs.Option(args, "--samples", 20_000);
        var steadyEpochs = BenchArgs.Option(args, "--epochs", 3);
        var rounds = BenchArgs.Option(args, "--rounds", 2);
        var threads = BenchArgs.Option(args, "--threads", 2);
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- throughput --samples {samples} --epochs {steadyEpochs} --rounds {rounds} --threads {threads}";

        torch.set_num_threads(threads);
        var data = FashionMnistData.Load(FashionMnistData.DefaultDirectory);
        var settings = FashionMnistSettings.Defaults(WorkloadCatalog.FashionMnistCnn) with
        {
            Lr = Lr,
            Momentum = Momentum,
            WeightDecay = WeightDecay,
            BatchSize = BatchSize,
            Dropout = 0.25,
            HiddenUnits = 128,
            Optimizer = FashionMnistOptimizer.Sgd,
            Epochs = steadyEpochs + 1,
            TrainSamples = samples,
            ValSamples = 5_000,
            Seed = 0,
        };

        var bare = new List<double>();
        var agent = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            // Alternate which stack goes first so that a machine warming up or getting busier favours neither.
            foreach (var stack in round % 2 == 1 ? new[] { "bare", "agent" } : ["agent", "bare"])
            {
                var perEpoch = stack == "bare" ? BareLoop(data, settings) : AgentTrainer(data, settings);
                Console.Error.WriteLine($"round {round} {stack}: {Format(perEpoch)} (first epoch dropped)");
                (stack == "bare" ? bare : agent).AddRange(perEpoch.Skip(1));
            }
        }

        var bareMedian = Median(bare);
        Console.WriteLine($"Training throughput, Fashion-MNIST CNN, {samples:N0} images, batch {BatchSize}, SGD lr {Lr} momentum {Momentum} wd {WeightDecay}, {threads} threads, " +
            $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, libtorch {torch.__version__}; {rounds} round(s) × {steadyEpochs} steady epoch(s) per stack");
        Console.WriteLine();
        Console.WriteLine("| stack | train images/s per steady epoch | median | ratio to bare |");
        Console.WriteLine("|---|---|---|---|");
        Row("bare TorchSharp loop (bench/HyperTune.Bench/BareCnn.cs)", bare, bareMedian);
        Row("agent FashionMnistTrainer", agent, bareMedian);
        Console.WriteLine();
        Console.WriteLine($"Reproduce: `{command}`");
        return 0;
    }

    /// <summary>A plain loop: shuffle, slice a batch, forward, loss, backward, step; timed over the training batches only.</summary>
    private static List<double> BareLoop(FashionMnistData data, FashionMnistSettings settings)
    {
        var perEpoch = new List<double>();
        manual_seed(settings.Seed);
        using var model = new BareCnn();
        using var optimizer = optim.SGD(model.parameters(), settings.Lr, momentum: settings.Momentum, weight_decay: settings.WeightDecay);
        using var scope = NewDisposeScope();
        var n = settings.TrainSamples;
        var subset = randperm(FashionMnistData.TrainPool).narrow(0, 0, n);
        var x = data.TrainImages.index_select(0, subset);
        var y = data.TrainLabels.index_select(0, subset);
        var valX = data.TrainImages.narrow(0, FashionMnistData.TrainPool, settings.ValSamples);
        var valY = data.TrainLabels.narrow(0, FashionMnistData.TrainPool, settings.ValSamples);
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            model.train();
            using var epochScope = NewDisposeScope();
            var perm = randperm(n);
            var watch = Stopwatch.StartNew();
            for (var start = 0; start < n; start += settings.BatchSize)
            {
                using var batchScope = NewDisposeScope();
                var idx = perm.narrow(0, start, Math.Min(settings.BatchSize, n - start));
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(x.index_select(0, idx)), y.index_select(0, idx));
                loss.backward();
                optimizer.step();
            }

            perEpoch.Add(n / watch.Elapsed.TotalSeconds);
            FashionMnistTrainer.Evaluate(model, valX, valY, CancellationToken.None);
        }

        return perEpoch;
    }

    private static List<double> AgentTrainer(FashionMnistData data, FashionMnistSettings settings)
    {
        var perEpoch = new List<double>();
        new FashionMnistTrainer(data, CPU).Train(FashionMnistModel.Cnn, settings, (EpochMetrics m) => perEpoch.Add(m.TrainImagesPerSecond), CancellationToken.None);
        return perEpoch;
    }

    private static void Row(string stack, List<double> values, double bareMedian) =>
        Console.WriteLine($"| {stack} | {Format(values)} | {Median(values):F0} | {Median(values) / bareMedian:F3} |");

    private static string Format(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)));

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

}
