using HyperTune.Bench;

return args.FirstOrDefault() switch
{
    "throughput" => ThroughputBench.Run(args[1..]),
    "latency" => await LatencyBench.RunAsync(args[1..]),
    "early-stopping" => EarlyStoppingBench.Run(args[1..]),
    "search" => SearchBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/HyperTune.Bench -- throughput [--samples 20000] [--epochs 3] [--rounds 2] [--threads 2]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- latency [--reports 100] [--gap-ms 100]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- early-stopping [--seeds 10] [--budget 2700]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- search [--seeds 20] [--trials 100] [--optuna 1]");
    return 2;
}
