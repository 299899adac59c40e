using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace HyperTune.Dashboard.Tests.Fuzzing;

/// <summary>
/// Ten thousand generated bodies against every REST endpoint that reads one. Each answer is a 2xx, or a 4xx whose
/// body says what is wrong (a 400 names each field it refuses); never a 5xx. Afterwards the database holds exactly
/// what the accepted bodies made, passes SQLite's integrity check, and every study in it reads back.
/// </summary>
public sealed class RestFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261123;

    private const int Inputs = 10_000;

    private static readonly JsonNode[] ValidSpecs =
    [
        JsonNode.Parse("""
            { "name": "fuzz-agent", "workload": "fashion-mnist-cnn", "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "sampler": { "type": "tpe", "seed": 3 }, "pruner": { "type": "median" }, "budget": { "trials": 4, "parallel": 2 },
              "fixed": { "epochs": 2 },
              "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" },
                         "optimizer": { "type": "categorical", "choices": ["sgd", "adam"] },
                         "momentum": { "type": "float", "low": 0.5, "high": 0.99, "when": { "optimizer": "sgd" } } } }
            """)!,
        JsonNode.Parse("""
            { "name": "fuzz-stages", "workload": "external", "objective": { "metric": "val_loss", "direction": "minimize" },
              "sampler": { "type": "coarse-to-fine", "seed": 4, "stages": [3, 2] }, "budget": { "trials": 5 },
              "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" }, "layers": { "type": "int", "low": 1, "high": 8, "step": 1 } } }
            """)!,
        JsonNode.Parse("""
            { "name": "fuzz-lr", "workload": "fashion-mnist-cnn", "objective": { "metric": "val_loss", "direction": "minimize" },
              "lr_range_test": { "min_lr": 0.00001, "max_lr": 1, "steps": 50 }, "budget": { "trials": 3 },
              "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
            """)!,
    ];

    private static readonly JsonNode StageSpace = JsonNode.Parse("""{ "space": { "lr": { "type": "float", "low": 0.001, "high": 0.01, "scale": "log" } } }""")!;

    [Fact]
    public async Task RestEndpoints_TenThousandGeneratedBodies_AnswerEachWith2xxOr4xxAndStoreExactlyWhatWasAccepted()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var ledger = await Ledger.SetUpAsync(dashboard);
        var fuzzer = new JsonFuzzer(Seed);
        var random = new Random(Seed);
        var targets = Targets(ledger);
        var answers = new SortedDictionary<string, int>(StringComparer.Ordinal);

        for (var i = 0; i < Inputs; i++)
        {
            var target = targets[random.Next(targets.Length)];
            var (path, id) = target.Path(random);
            var body = fuzzer.Next(target.Valid(random));
            using var request = new HttpRequestMessage(target.Method, path) { Content = new ByteArrayContent(body.Bytes) };
            request.Content.Headers.ContentType = new("application/json");
            using var response = await dashboard.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var context = $"input {i} (seed {Seed}): {target.Method} {path}, body {body.How}: {body.Excerpt}\nanswered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 600)]}";

            Assert.True((int)response.StatusCode < 500, context);
            var tally = $"{target.Method} {path.Split('/')[^1]} {(int)response.StatusCode}";
            answers[tally] = answers.GetValueOrDefault(tally) + 1;
            if (response.IsSuccessStatusCode)
            {
                await target.Accepted(ledger, id, body.Bytes, JsonDocument.Parse(text).RootElement);
            }
            else
            {
                AssertClearRefusal(response.StatusCode, text, context);
            }
        }

        await ledger.AssertDatabaseHoldsExactlyWhatWasAcceptedAsync();
        output.WriteLine(string.Join(Environment.NewLine, answers.Select(a => $"{a.Key}: {a.Value}")));
    }

    [Fact]
    public async Task PostStudy_BodyOverKestrelsLimit_Is413AndTheDashboardGoesOn()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var huge = new byte[31 * 1024 * 1024];
        Array.Fill(huge, (byte)' ');
        huge[0] = (byte)'{';

        // Expect: 100-continue lets Kestrel answer from the headers alone, before the client has sent the body it refuses.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/studies") { Content = new ByteArrayContent(huge) };
        request.Headers.ExpectContinue = true;
        using var response = await dashboard.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/studies")).GetArrayLength());
        Assert.True(await dashboard.CreateStudyAsync(ValidSpecs[0].ToJsonString()) > 0);
    }

    /// <summary>A 400 lists errors keyed by field path, each message starting with its path; a 404 or 409 says why in "detail".</summary>
    private static void AssertClearRefusal(HttpStatusCode status, string text, string context)
    {
        Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict, context);
        var body = JsonDocument.Parse(text).RootElement;
        if (status == HttpStatusCode.BadRequest)
        {
            var errors = body.GetProperty("errors").EnumerateObject().ToList();
            Assert.True(errors.Count > 0, context);
            Assert.All(errors, field => Assert.All(field.Value.EnumerateArray(),
                message => Assert.True(message.GetString()!.StartsWith($"{field.Name} ", StringComparison.Ordinal), context)));
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("detail").GetString()), context);
        }
    }

    private static Target[] Targets(Ledger l) =>
    [
        new(HttpMethod.Post, r => ("/api/studies", 0), r => ValidSpecs[r.Next(ValidSpecs.Length)], (x, _, _, answer) => x.StudyCreated(answer.GetProperty("id").GetInt64())),
        new(HttpMethod.Post, r => Trial(r, l.Reporting, "clone"), _ => JsonNode.Parse("""{ "params": { "lr": 0.01 } }""")!, (x, _, _, answer) => x.TrialCreated(answer)),
        new(HttpMethod.Post, r => Trial(r, l.Reporting, "fork"), _ => JsonNode.Parse("""{ "epoch": 1, "params": { "lr": 0.02 } }""")!, (x, _, _, answer) => x.TrialCreated(answer)),
        new(HttpMethod.Post, r => Trial(r, l.Reporting, "report"),
            r => JsonNode.Parse($$"""{ "epoch": {{r.Next(1, 60)}}, "metrics": { "val_loss": {{r.NextDouble():R}}, "grad_norm": "NaN", "lr": "Infinity" } }""")!,
            (x, id, sent, _) => x.EpochReportedAsync(id, sent)),
        new(HttpMethod.Post, r => Trial(r, l.Telling, "tell"), r => JsonNode.Parse(r.Next(4) == 0 ? """{ "state": "failed" }""" : $$"""{ "value": {{r.NextDouble():R}} }""")!,
            (x, id, _, _) => x.Told(id)),
        new(HttpMethod.Post, r => Study(r, l.Studies, $"stages/{r.Next(0, 4)}/start"), _ => StageSpace, (x, id, _, answer) => x.StageStarted(id, answer)),
        new(HttpMethod.Post, r => Trial(r, l.Reporting, "narrow"), r => JsonNode.Parse($$"""{ "trials": {{r.Next(1, 5)}} }""")!, (x, id, _, answer) => x.Narrowed(id, answer)),
        new(HttpMethod.Put, r => Trial(r, l.Reporting, "tags"), _ => JsonNode.Parse("""{ "tags": ["baseline", "good run"] }""")!, (x, id, _, answer) => x.Tagged(id, answer)),
        new(HttpMethod.Put, r => Trial(r, l.Reporting, "notes"), _ => JsonNode.Parse("""{ "markdown": "# why\nthe **lr** was high" }""")!, (x, id, _, answer) => x.TrialNoted(id, answer)),
        new(HttpMethod.Put, r => Study(r, l.Studies, "notes"), _ => JsonNode.Parse("""{ "markdown": "a study note" }""")!, (x, id, _, answer) => x.StudyNoted(id, answer)),
    ];

    private static (string Path, long Id) Trial(Random r, IReadOnlyList<long> pool, string action)
    {
        var id = Id(r, pool);
        return ($"/api/trials/{id}/{action}", id);
    }

    private static (string Path, long Id) Study(Random r, IReadOnlyList<long> pool, string action)
    {
        var id = Id(r, pool);
        return ($"/api/studies/{id}/{action}", id);
    }

    /// <summary>Mostly an id that exists; now and then one that does not, or one at the edges of a long.</summary>
    private static long Id(Random r, IReadOnlyList<long> pool) => r.Next(20) switch
    {
        0 => 0,
        1 => -1,
        2 => long.MaxValue,
        _ => pool[r.Next(pool.Count)],
    };

    private sealed record Target(HttpMethod Method, Func<Random, (string Path, long Id)> Path, Func<Random, JsonNode> Valid, Func<Ledger, long, byte[], JsonElement, Task> Accepted)
    {
        public Target(HttpMethod method, Func<Random, (string, long)> path, Func<Random, JsonNode> valid, Action<Ledger, long, byte[], JsonElement> accepted)
            : this(method, path, valid, (l, id, sent, answer) =>
            {
                accepted(l, id, sent, answer);
                return Task.CompletedTask;
            })
        {
        }
    }

    /// <summary>What the database must hold: the studies and trials set up first, plus what every accepted body made.</summary>
    private sealed class Ledger(RunningDashboard dashboard)
    {
        private readonly HashSet<long> studies = [];
        private readonly HashSet<long> trials = [];
        private readonly Dictionary<long, HashSet<int>> epochs = [];
        private readonly HashSet<long> told = [];
        private readonly Dictionary<long, string> tags = [];
        private readonly Dictionary<long, string?> trialNotes = [];
        private readonly Dictionary<long, string> studyNotes = [];
        private readonly Dictionary<long, int> stages = [];
        private readonly HashSet<(long Study, int Number)> started = [];
        private readonly Dictionary<long, long> studyOf = [];

        /// <summary>Trials that take reports, tags, notes, clones and narrowing.</summary>
        public List<long> Reporting { get; } = [];

        /// <summary>Trials that take tells (a tell ends a trial, so these are kept apart from the reporting ones).</summary>
        public List<long> Telling { get; } = [];

        public List<long> Studies => [.. studies];

        /// <summary>Two ask/tell studies: 40 running trials of a random search, and a coarse-to-fine one whose second stage waits to be started.</summary>
        public static async Task<Ledger> SetUpAsync(RunningDashboard dashboard)
        {
            var ledger = new Ledger(dashboard);
            var random = ledger.StudyCreated(await dashboard.CreateStudyAsync("""
                { "name": "fuzz-random", "workload": "external", "objective": { "metric": "val_loss", "direction": "minimize" },
                  "sampler": { "type": "random", "seed": 4 }, "budget": { "trials": 1000 },
                  "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" }, "layers": { "type": "int", "low": 1, "high": 8 } } }
                """));
            for (var i = 0; i < 40; i++)
            {
                var trial = (await dashboard.PostAsync($"/api/studies/{random}/ask", "")).Body.GetProperty("trialId").GetInt64();
                ledger.trials.Add(trial);
                ledger.studyOf[trial] = random;
                (i < 30 ? ledger.Reporting : ledger.Telling).Add(trial);
            }

            var staged = ledger.StudyCreated(await dashboard.CreateStudyAsync(ValidSpecs[1].ToJsonString()));
            for (var i = 0; i < 3; i++)
            {
                var trial = (await dashboard.PostAsync($"/api/studies/{staged}/ask", "")).Body.GetProperty("trialId").GetInt64();
                ledger.trials.Add(trial);
                ledger.studyOf[trial] = staged;
                ledger.Reporting.Add(trial);
                await dashboard.PostAsync($"/api/trials/{trial}/tell", $$"""{ "value": {{0.1 * (i + 1)}} }""");
                ledger.told.Add(trial);
            }

            foreach (var study in ledger.studies)
            {
                ledger.stages[study] = (await dashboard.GetJsonAsync($"/api/studies/{study}/stages")).GetArrayLength();
            }

            return ledger;
        }

        public long StudyCreated(long id)
        {
            Assert.True(studies.Add(id), $"study {id} was created twice");
            stages[id] = -1;
            return id;
        }

        public void TrialCreated(JsonElement answer) => Assert.True(trials.Add(answer.GetProperty("id").GetInt64()));

        public async Task EpochReportedAsync(long trial, byte[] sent)
        {
            // Read the way the dashboard reads it (a byte order mark skipped, the last of two equal keys).
            using var body = await JsonDocument.ParseAsync(new MemoryStream(sent));
            var epoch = body.RootElement.GetProperty("epoch").GetInt32();
            (epochs.TryGetValue(trial, out var set) ? set : epochs[trial] = []).Add(epoch);
        }

        public void Told(long trial) => told.Add(trial);

        /// <summary>Starting changes a stage's state, not how many there are.</summary>
        public void StageStarted(long study, JsonElement answer) => started.Add((study, answer.GetProperty("number").GetInt32()));

        /// <summary>Narrowing appends a proposed stage, or replaces the proposal nobody started: either way it is the study's last stage.</summary>
        public void Narrowed(long trial, JsonElement answer) => stages[studyOf[trial]] = answer.GetProperty("number").GetInt32();

        public void Tagged(long trial, JsonElement answer) => tags[trial] = answer.GetProperty("tags").GetRawText();

        public void TrialNoted(long trial, JsonElement answer) => trialNotes[trial] = answer.GetProperty("notes").GetString();

        public void StudyNoted(long study, JsonElement answer) => studyNotes[study] = answer.GetProperty("markdown").GetString()!;


        public async Task AssertDatabaseHoldsExactlyWhatWasAcceptedAsync()
        {
            await using (var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly;Pooling=False"))
            {
                await db.OpenAsync();
                await using var check = db.CreateCommand();
                check.CommandText = "PRAGMA integrity_check";
                Assert.Equal("ok", (string)(await check.ExecuteScalarAsync())!);
                check.CommandText = "PRAGMA foreign_key_check";
                await using var reader = await check.ExecuteReaderAsync();
                Assert.False(await reader.ReadAsync(), "a row points at nothing");
            }

            var listed = (await dashboard.GetJsonAsync("/api/studies")).EnumerateArray().Select(s => s.GetProperty("id").GetInt64()).ToHashSet();
            Assert.Equal(studies.Order(), listed.Order());
            var storedTrials = new HashSet<long>();
            foreach (var study in listed)
            {
                Assert.Equal(HttpStatusCode.OK, (await dashboard.Http.GetAsync($"/api/studies/{study}")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await dashboard.Http.GetAsync($"/api/studies/{study}/epochs.json")).StatusCode);
                var stageList = await dashboard.GetJsonAsync($"/api/studies/{study}/stages");
                var stageCount = stageList.GetArrayLength();
                Assert.All(stageList.EnumerateArray().Where(s => started.Contains((study, s.GetProperty("number").GetInt32()))),
                    s => Assert.NotEqual("proposed", s.GetProperty("state").GetString()));
                Assert.True(stages[study] < 0 || stages[study] == stageCount, $"study {study} has {stageCount} stages, expected {stages[study]}");
                Assert.Equal(studyNotes.GetValueOrDefault(study, ""), (await dashboard.GetJsonAsync($"/api/studies/{study}/notes")).GetProperty("markdown").GetString());
                foreach (var trial in (await dashboard.GetJsonAsync($"/api/studies/{study}/trials")).EnumerateArray())
                {
                    var id = trial.GetProperty("id").GetInt64();
                    storedTrials.Add(id);
                    var stored = trial.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()).Order();
                    Assert.Equal(epochs.GetValueOrDefault(id, []).Order(), stored);
                    Assert.Equal(tags.GetValueOrDefault(id, "[]"), trial.GetProperty("tags").GetRawText());
                    Assert.Equal(trialNotes.GetValueOrDefault(id), trial.GetProperty("notes").GetString());
                    var state = trial.GetProperty("state").GetString();
                    Assert.True(told.Contains(id) == (state is "completed" or "failed"), $"trial {id} is {state}, told: {told.Contains(id)}");
                }
            }

            Assert.Equal(trials.Order(), storedTrials.Order());
        }
    }
}
