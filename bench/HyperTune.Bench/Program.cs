using HyperTune.Bench;

return args.FirstOrDefault() switch
{
    "throughput" => ThroughputBench.Run(args[1..]),
    "latency" => await LatencyBench.RunAsync(args[1..]),
    "early-stopping" => EarlyStoppingBench.Run(args[1..]),
    "search" => SearchBench.Run(args[1..]),
    "suggest" => SuggestBench.Run(args[1..]),
    "study-page" => await StudyPageScaleBench.RunAsync(args[1..]),
    "analysis" => AnalysisBench.Run(args[1..]),
    "plots" => await PlotsBench.RunAsync(args[1..]),
    "trial-table" => await TrialTableBench.RunAsync(args[1..]),
    "load" => await LoadBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/HyperTune.Bench -- throughput [--samples 20000] [--epochs 3] [--rounds 2] [--threads 2]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- latency [--reports 100] [--gap-ms 100]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- early-stopping [--seeds 10] [--budget 2700]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- search [--seeds 20] [--trials 100] [--optuna 1]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- suggest [--trials 1000] [--seeds 1] [--optuna 1] [--samplers gp,tpe]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- analysis [--trials 10000] [--runs 5]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- plots [--trials 10000] [--burst 200] [--screenshot file.png]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- study-page [--trials 10000] [--epochs 50] [--opens 5] [--updates 30] [--data DIR] [--seed-only]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- trial-table [--trials 10000] [--epochs 50]");
    Console.Error.WriteLine("       dotnet run -c Release --project bench/HyperTune.Bench -- load [--agents 50] [--seconds 300] [--slots 2] [--epoch-ms 250] [--epochs 20]");
    return 2;
}
