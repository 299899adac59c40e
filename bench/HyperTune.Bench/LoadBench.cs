using HyperTune.TestSupport;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using HyperTune.Protos.V1;
using Microsoft.Data.Sqlite;

namespace HyperTune.Bench;

/// <summary>
/// Many simulated agents (the real gRPC protocol, one connection each, no training: an epoch is a timer) report to a
/// dashboard running as its own process for a fixed time. Checks that every sent (trial, attempt, seq) is stored exactly
/// once, and measures acknowledgement latency, reports/s and the dashboard process's CPU and RAM from /proc.
/// </summary>
internal static class LoadBench
{
    private const string Token = "load-bench-agent-token-0123456789";

    public static async Task<int> RunAsync(string[] args)
    {
        var agents = BenchArgs.Option(args, "--agents", 50);
        var seconds = BenchArgs.Option(args, "--seconds", 300);
        var slots = BenchArgs.Option(args, "--slots", 2);
        var epochMs = BenchArgs.Option(args, "--epoch-ms", 250);
        var epochs = BenchArgs.Option(args, "--epochs", 20);
        var command = $"dotnet run -c Release --project bench/HyperTune.Bench -- load --agents {agents} --seconds {seconds} --slots {slots} --epoch-ms {epochMs} --epochs {epochs}";
        var loadBefore = LoadAverage();

        await using var dashboard = await DashboardProcess.StartAsync(Token);
        var studyId = await dashboard.CreateStudyAsync($$"""
            { "name": "load", "workload": "fashion-mnist-cnn",
              "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "sampler": { "type": "random", "seed": 11 },
              "budget": { "trials": 100000, "parallel": {{Math.Min(1000, agents * slots)}} }, "fixed": { "epochs": {{epochs}} },
              "space": { "lr": { "type": "float", "low": 0.0001, "high": 0.1, "scale": "log" },
                         "dropout": { "type": "float", "low": 0, "high": 0.5 } } }
            """);

        using var sending = new CancellationTokenSource();
        var fleet = new List<SimulatedAgent>();
        for (var a = 0; a < agents; a++)
        {
            fleet.Add(SimulatedAgent.Connect(dashboard.GrpcUri, $"load-{a:000}", slots, epochs, TimeSpan.FromMilliseconds(epochMs), sending.Token));
        }

        Console.Error.WriteLine($"{agents} agents connected to dashboard pid {dashboard.Pid}; reporting for {seconds} s");
        using var sampler = new ProcessSampler(dashboard.Pid);
        var clock = Stopwatch.StartNew();
        var start = Stopwatch.GetTimestamp();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, seconds)));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{clock.Elapsed.TotalSeconds,5:0} s: {fleet.Sum(f => f.Sent)} sent, {fleet.Sum(f => f.Acknowledged)} acknowledged"));
        }

        await sending.CancelAsync();
        var sendingSeconds = clock.Elapsed.TotalSeconds;

        // Every slot stops after the report it is on; then every report still unacknowledged gets a minute.
        var drain = Stopwatch.StartNew();
        while (fleet.Sum(f => f.Pending) > 0 && drain.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(100);
        }

        sampler.Stop();
        var warnings = dashboard.Warnings;
        var rampSeconds = fleet.Where(f => f.FirstSentAt > 0).Select(f => Stopwatch.GetElapsedTime(start, f.FirstSentAt).TotalSeconds).DefaultIfEmpty(0).Max();
        var sent = fleet.SelectMany(f => f.SentKeys).ToList();
        var latencies = fleet.SelectMany(f => f.Latencies).Order().ToArray();
        var failures = fleet.Select(f => f.Failure).OfType<Exception>().ToList();
        foreach (var agent in fleet)
        {
            await agent.DisposeAsync();
        }

        var (stored, storedRows) = await dashboard.ReadStoredReportsAsync();
        var lost = sent.Count(k => !stored.Contains(k));
        var unexpected = stored.Count(k => !sent.Contains(k));
        var trials = fleet.Sum(f => f.TrialsFinished);

        string Ms(double p) => latencies.Length == 0 ? "-"
            : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)].ToString("0.0", CultureInfo.InvariantCulture);
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine(F($"Load: {agents} simulated agents × {slots} slots, each its own gRPC connection, reporting to a dashboard process (study {studyId}) for {seconds} s;"));
        Console.WriteLine(F($"one epoch report per busy slot every {epochMs} ms, {epochs} epochs a trial; SQLite synchronous=FULL; {Environment.ProcessorCount} cores, load average {loadBefore} before, {LoadAverage()} after"));
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine(F($"| epoch reports sent / stored / acknowledged | {sent.Count:N0} / {storedRows:N0} / {latencies.Length:N0} |"));
        Console.WriteLine(F($"| lost (sent, not stored) / stored twice / stored, never sent | {lost} / {storedRows - stored.Count} / {unexpected} |"));
        Console.WriteLine(F($"| reports/s acknowledged | {latencies.Length / sendingSeconds:0} |"));
        Console.WriteLine($"| acknowledgement latency p50 / p95 / p99 / max (ms) | {Ms(0.50)} / {Ms(0.95)} / {Ms(0.99)} / {Ms(1.0)} |");
        Console.WriteLine(F($"| trials finished | {trials:N0} |"));
        Console.WriteLine(F($"| dashboard CPU, one core = 100 % (1 s samples): mean / p95 / peak | {sampler.CpuMean:0} % / {sampler.CpuP95:0} % / {sampler.CpuPeak:0} % |"));
        Console.WriteLine(F($"| dashboard RSS at the end / peak (VmHWM) | {sampler.RssEndMiB:0} MiB / {sampler.RssPeakMiB:0} MiB |"));
        Console.WriteLine(F($"| every agent's first report sent after (ramp-up: the scheduler hands out {agents * slots} trials) | {rampSeconds:0.0} s |"));
        Console.WriteLine(F($"| dashboard warnings and errors logged while reporting | {warnings} |"));
        Console.WriteLine(F($"| agent streams that failed | {failures.Count} |"));
        Console.WriteLine();
        Console.WriteLine($"Reproduce: {command}");
        foreach (var line in dashboard.FirstWarnings.Concat(failures.Take(3).Select(f => f.Message)))
        {
            Console.Error.WriteLine(line);
        }

        return lost == 0 && unexpected == 0 && storedRows == stored.Count ? 0 : 1;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    /// <summary>The dashboard as its own process (dotnet HyperTune.Dashboard.dll from beside this bench) on free loopback ports, with a fresh data folder.</summary>
    private sealed class DashboardProcess : IAsyncDisposable
    {
        private readonly Process process;
        private readonly string dataDir;
        private readonly TaskCompletionSource<(Uri Web, Uri Grpc)> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int warnings;

        private DashboardProcess(Process process, string dataDir)
        {
            this.process = process;
            this.dataDir = dataDir;
            process.OutputDataReceived += (_, e) => Read(e.Data);
            process.ErrorDataReceived += (_, e) => Read(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int Pid => process.Id;

        public Uri GrpcUri => listening.Task.Result.Grpc;

        public int Warnings => warnings;

        public ConcurrentQueue<string> FirstWarnings { get; } = new();

        private HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

        public static async Task<DashboardProcess> StartAsync(string token)
        {
            var dataDir = Directory.CreateTempSubdirectory("hypertune-load-").FullName;

            // The first admin and an API token for the REST calls, made the real way by an in-process dashboard on the
            // same folder; the measured dashboard is the process started after it.
            string apiToken;
            await using (var seeding = await RunningDashboard.StartAsync(dataDir))
            {
                seeding.DeleteDataOnDispose = false;
                apiToken = await seeding.CreateApiTokenAsync(RunningDashboard.AdminUser, "load-bench");
            }

            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dataDir };
            foreach (var arg in new[]
            {
                "exec", Path.Combine(AppContext.BaseDirectory, "HyperTune.Dashboard.dll"),
                "--Dashboard:WebUrl", "http://127.0.0.1:0", "--Dashboard:GrpcUrl", "http://127.0.0.1:0", "--Dashboard:DataDir", dataDir,
                "--Dashboard:AgentToken", token, "--Logging:LogLevel:Default", "Warning", "--Logging:LogLevel:HyperTune.Dashboard", "Information",
                "--Logging:LogLevel:HyperTune.Dashboard.Grpc", "Warning", "--Logging:LogLevel:HyperTune.Dashboard.Scheduling", "Warning",
                "--Logging:LogLevel:HyperTune.Dashboard.Studies", "Warning", "--Logging:Console:FormatterOptions:SingleLine", "true",
            })
            {
                start.ArgumentList.Add(arg);
            }

            var dashboard = new DashboardProcess(Process.Start(start)!, dataDir);
            var (web, _) = await dashboard.listening.Task.WaitAsync(TimeSpan.FromMinutes(2));
            dashboard.Http.BaseAddress = web;
            dashboard.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiToken);
            return dashboard;
        }

        public async Task<long> CreateStudyAsync(string spec)
        {
            using var response = await Http.PostAsync("/api/studies", new StringContent(spec, System.Text.Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode
                ? System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64()
                : throw new InvalidOperationException($"POST /api/studies answered {(int)response.StatusCode}: {body}");
        }

        /// <summary>Every stored (trial, attempt, seq), read from the database file beside the running dashboard, and how many rows hold them.</summary>
        public async Task<(HashSet<(long, int, long)> Keys, long Rows)> ReadStoredReportsAsync()
        {
            await using var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "hypertune.db")};Mode=ReadOnly;Pooling=False");
            await db.OpenAsync();
            await using var read = db.CreateCommand();
            read.CommandText = "SELECT TrialId, Attempt, Seq FROM epoch_reports";
            var keys = new HashSet<(long, int, long)>();
            var rows = 0L;
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys.Add((reader.GetInt64(0), reader.GetInt32(1), reader.GetInt64(2)));
                rows++;
            }

            return (keys, rows);
        }

        private void Read(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (line.Contains("HyperTune dashboard on ", StringComparison.Ordinal))
            {
                var words = line.Split(' ');
                var urls = words.Where(w => w.StartsWith("http://", StringComparison.Ordinal)).Select(w => new Uri(w.TrimEnd(';'))).ToList();
                listening.TrySetResult((urls[0], urls[1]));
            }
            else if (line.Contains("warn:", StringComparison.Ordinal) || line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref warnings) <= 5)
                {
                    FirstWarnings.Enqueue(line);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
            SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>Samples a process's CPU time and resident memory from /proc once a second.</summary>
    private sealed class ProcessSampler : IDisposable
    {
        private const double TicksPerSecond = 100; // USER_HZ on Linux
        private readonly int pid;
        private readonly List<double> cpu = [];
        private readonly CancellationTokenSource stop = new();
        private readonly Task loop;

        public ProcessSampler(int pid)
        {
            this.pid = pid;
            loop = Task.Run(async () =>
            {
                var (ticks, at) = (CpuTicks(), Stopwatch.GetTimestamp());
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(1000, CancellationToken.None);
                    var (nowTicks, now) = (CpuTicks(), Stopwatch.GetTimestamp());
                    lock (cpu)
                    {
                        cpu.Add((nowTicks - ticks) / TicksPerSecond / Stopwatch.GetElapsedTime(at, now).TotalSeconds * 100);
                    }

                    (ticks, at) = (nowTicks, now);
                }
            });
        }

        public double CpuMean => Cpu.Average();

        public double CpuP95 => Cpu.Order().ElementAt((int)Math.Ceiling(0.95 * Cpu.Length) - 1);

        public double CpuPeak => Cpu.Max();

        public double RssEndMiB { get; private set; }

        public double RssPeakMiB { get; private set; }

        private double[] Cpu
        {
            get
            {
                lock (cpu)
                {
                    return cpu.Count == 0 ? [0] : [.. cpu];
                }
            }
        }

        public void Stop()
        {
            stop.Cancel();
            loop.Wait();
            var status = File.ReadAllLines($"/proc/{pid}/status");
            double KiB(string key) => double.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            RssEndMiB = KiB("VmRSS") / 1024;
            RssPeakMiB = KiB("VmHWM") / 1024;
        }

        public void Dispose() => stop.Dispose();

        /// <summary>utime + stime, fields 14 and 15 of /proc/PID/stat (counted after the command name, which may hold spaces).</summary>
        private long CpuTicks()
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// An agent without training: each StartTrial gets one epoch report every epoch interval (sent without waiting for
    /// the acknowledgement, as a real agent's spool does), then TrialFinished; a StopTrial ends the trial early.
    /// </summary>
    private sealed class SimulatedAgent : IAsyncDisposable
    {
        private readonly GrpcChannel channel;
        private readonly AsyncDuplexStreamingCall<AgentMessage, HubMessage> call;
        private readonly SemaphoreSlim writing = new(1, 1);
        private readonly ConcurrentDictionary<(long, int, long), long> pending = new();
        private readonly ConcurrentDictionary<long, CancellationTokenSource> running = new();
        private readonly ConcurrentQueue<(long, int, long)> sentKeys = new();
        private readonly ConcurrentQueue<double> latencies = new();
        private readonly int epochs;
        private readonly TimeSpan epoch;
        private readonly CancellationToken sending;
        private readonly Task reader;
        private readonly Task heartbeat;
        private int trialsFinished;
        private long firstSentAt;

        private SimulatedAgent(Uri grpc, string id, int slots, int epochs, TimeSpan epoch, CancellationToken sending)
        {
            this.epochs = epochs;
            this.epoch = epoch;
            this.sending = sending;
            channel = GrpcChannel.ForAddress(grpc);
            // The stream outlives the sending phase: acknowledgements of the last reports still arrive on it.
            call = new AgentHub.AgentHubClient(channel).Connect(new Metadata { { "authorization", $"Bearer {Token}" } }, cancellationToken: CancellationToken.None);
            var hello = new Hello { AgentId = id, HostName = "load-bench", Slots = slots, Version = "load-bench" };
            hello.Workloads.Add("fashion-mnist-cnn");
            reader = Task.Run(async () =>
            {
                await WriteAsync(new AgentMessage { Hello = hello });
                await ReadAsync();
            }, CancellationToken.None);
            heartbeat = Task.Run(HeartbeatAsync, CancellationToken.None);
        }

        public Exception? Failure { get; private set; }

        public int Sent => sentKeys.Count;

        /// <summary>Stopwatch timestamp of this agent's first report; 0 before it.</summary>
        public long FirstSentAt => Interlocked.Read(ref firstSentAt);

        public int Acknowledged => latencies.Count;

        public int Pending => pending.Count;

        public int TrialsFinished => trialsFinished;

        public IEnumerable<(long, int, long)> SentKeys => sentKeys;

        public IEnumerable<double> Latencies => latencies;

        public static SimulatedAgent Connect(Uri grpc, string id, int slots, int epochs, TimeSpan epoch, CancellationToken sending) =>
            new(grpc, id, slots, epochs, epoch, sending);

        private async Task ReadAsync()
        {
            try
            {
                await foreach (var message in call.ResponseStream.ReadAllAsync())
                {
                    switch (message.KindCase)
                    {
                        case HubMessage.KindOneofCase.StartTrial:
                            var stop = new CancellationTokenSource();
                            running[message.StartTrial.TrialId] = stop;
                            _ = Task.Run(() => TrainAsync(message.StartTrial, stop.Token));
                            break;
                        case HubMessage.KindOneofCase.StopTrial:
                            if (running.TryGetValue(message.StopTrial.TrialId, out var cts))
                            {
                                await cts.CancelAsync();
                            }

                            break;
                        case HubMessage.KindOneofCase.Ack:
                            var ack = message.Ack;
                            if (pending.TryRemove((ack.TrialId, ack.Attempt, ack.Seq), out var sentAt))
                            {
                                latencies.Enqueue(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
                            }

                            break;
                    }
                }
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
            {
                Failure = ex is RpcException { StatusCode: StatusCode.Cancelled } ? null : ex;
            }
        }

        private async Task TrainAsync(StartTrial start, CancellationToken stopped)
        {
            var random = new Random((int)start.TrialId);
            var seq = 0L;
            try
            {
                for (var e = 1; e <= epochs && !stopped.IsCancellationRequested; e++)
                {
                    await Task.Delay(epoch, sending);
                    var report = new EpochReport
                    {
                        TrialId = start.TrialId, Attempt = start.Attempt, Seq = ++seq, Epoch = e,
                        EndedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
                    };
                    report.Metrics.Add("val_accuracy", 0.5 + (0.4 * e / epochs) + (random.NextDouble() * 0.05));
                    report.Metrics.Add("val_loss", 1.0 / e);
                    report.Metrics.Add("train_loss", 1.1 / e);
                    var key = (start.TrialId, start.Attempt, seq);
                    pending[key] = Stopwatch.GetTimestamp();
                    Interlocked.CompareExchange(ref firstSentAt, pending[key], 0);
                    sentKeys.Enqueue(key);
                    await WriteAsync(new AgentMessage { EpochReport = report });
                }

                var outcome = stopped.IsCancellationRequested ? TrialOutcome.Stopped : TrialOutcome.Completed;
                await WriteAsync(new AgentMessage { TrialFinished = new TrialFinished { TrialId = start.TrialId, Attempt = start.Attempt, Seq = ++seq, Outcome = outcome } });
                Interlocked.Increment(ref trialsFinished);
            }
            catch (OperationCanceledException) when (sending.IsCancellationRequested)
            {
                // The bench is over: the trial stays running, as on an agent that is shut down.
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
            {
                Failure ??= ex;
            }
            finally
            {
                running.TryRemove(start.TrialId, out _);
            }
        }

        private async Task HeartbeatAsync()
        {
            try
            {
                while (!sending.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), sending);
                    await WriteAsync(new AgentMessage { Heartbeat = new Heartbeat { SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow), BusySlots = running.Count } });
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped with the bench.
            }
        }

        private async Task WriteAsync(AgentMessage message)
        {
            await writing.WaitAsync();
            try
            {
                await call.RequestStream.WriteAsync(message);
            }
            finally
            {
                writing.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await heartbeat;
            await writing.WaitAsync();
            try
            {
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException)
            {
                // The stream already ended.
            }

            await reader;
            call.Dispose();
            channel.Dispose();
        }
    }
}
