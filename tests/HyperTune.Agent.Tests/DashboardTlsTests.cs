using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using HyperTune.Agent.Hub;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;

namespace HyperTune.Agent.Tests;

/// <summary>The dashboard over TLS with certificates made in the test; the agent's channel verifies, or pins, the certificate.</summary>
public sealed class DashboardTlsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("hypertune-tls-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task Connect_PinnedSelfSignedCertificate_RealAgentJoins()
    {
        using var certificate = TestCertificates.SelfSigned();
        await using var dashboard = await StartAsync(certificate);
        var pin = string.Join(':', TestCertificates.Sha256(certificate).Chunk(2).Select(pair => new string(pair))).ToLowerInvariant();

        await using var agent = await RunningAgent.StartAsync(dashboard, "tls-agent", extra: new Dictionary<string, string?> { ["Agent:CertificateThumbprint"] = pin });

        Assert.Equal(Uri.UriSchemeHttps, dashboard.GrpcUri.Scheme);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await dashboard.GetJsonAsync("/api/agents")).EnumerateArray().Any(a => a.GetProperty("id").GetString() == "tls-agent" && a.GetProperty("online").GetBoolean()))
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent with the right pin never came online over TLS");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Connect_WrongPin_IsRefusedNamingExpectedAndActualThumbprints()
    {
        using var certificate = TestCertificates.SelfSigned();
        using var other = TestCertificates.SelfSigned("CN=some-other-server");
        await using var dashboard = await StartAsync(certificate);

        var refusal = await RefusalAsync(dashboard, new AgentOptions { CertificateThumbprint = TestCertificates.Sha256(other) });

        Assert.Contains($"expected {TestCertificates.Sha256(other)}, got {TestCertificates.Sha256(certificate)}", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/agents")).GetArrayLength());
    }

    [Fact]
    public async Task Connect_UntrustedSelfSignedCertificate_IsRefusedSuggestingTheCaFileOrPin()
    {
        using var certificate = TestCertificates.SelfSigned();
        await using var dashboard = await StartAsync(certificate);

        var refusal = await RefusalAsync(dashboard, new AgentOptions());

        Assert.Contains("is not trusted by this machine", refusal.Message, StringComparison.Ordinal);
        Assert.Contains($"Agent:CertificateThumbprint={TestCertificates.Sha256(certificate)}", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/agents")).GetArrayLength());
    }

    [Fact]
    public async Task Connect_CertificateIssuedByTheCaFile_IsWelcomed()
    {
        var (authority, server) = TestCertificates.IssuedByTestCa();
        using (authority)
        using (server)
        {
            await using var dashboard = await StartAsync(server);
            var caFile = TestCertificates.WritePem(authority, Path.Combine(folder, "ca.pem"));

            var first = await ConnectAsync(dashboard.GrpcUri, new AgentOptions { CaFile = caFile });

            Assert.Equal(HubMessage.KindOneofCase.Welcome, first.KindCase);
        }
    }

    [Fact]
    public async Task Connect_CaFileOfAnotherCa_IsRefused()
    {
        var (authority, server) = TestCertificates.IssuedByTestCa();
        var (otherAuthority, otherServer) = TestCertificates.IssuedByTestCa();
        using (authority)
        using (server)
        using (otherAuthority)
        using (otherServer)
        {
            await using var dashboard = await StartAsync(server);
            var caFile = TestCertificates.WritePem(otherAuthority, Path.Combine(folder, "other-ca.pem"));

            var refusal = await RefusalAsync(dashboard, new AgentOptions { CaFile = caFile });

            Assert.Contains($"is not issued by a CA in Agent:CaFile \"{caFile}\"", refusal.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OnePort_HttpsWebAndGrpcOnTheSameUrl_ServesThePageAndTheAgentStream()
    {
        using var certificate = TestCertificates.SelfSigned();
        await using var dashboard = await StartAsync(certificate, new Dictionary<string, string?> { ["Dashboard:WebUrl"] = "https://127.0.0.1:0" });
        var pin = TestCertificates.Sha256(certificate);

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && TestCertificates.Sha256(cert) == pin };
        using var http = new HttpClient(handler) { BaseAddress = dashboard.WebUri };
        using var page = await http.GetAsync("/agents/tokens");
        var first = await ConnectAsync(dashboard.GrpcUri, new AgentOptions { CertificateThumbprint = pin });

        Assert.Equal(dashboard.WebUri, dashboard.GrpcUri);
        Assert.True(page.IsSuccessStatusCode, $"GET /agents/tokens over https answered {(int)page.StatusCode}");
        Assert.Equal(HubMessage.KindOneofCase.Welcome, first.KindCase);
    }

    [Fact]
    public void Verify_PinWithColonsAndLowerCase_AcceptsExactlyThatCertificate()
    {
        using var certificate = TestCertificates.SelfSigned();
        using var other = TestCertificates.SelfSigned("CN=some-other-server");
        var pin = string.Join(':', TestCertificates.Sha256(certificate).Chunk(2).Select(pair => new string(pair))).ToLowerInvariant();
        var check = new DashboardCertificateCheck(pin, caFile: null);

        Assert.True(check.Verify(certificate, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
        var refused = Assert.Throws<DashboardCertificateException>(() => check.Verify(other, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));

        Assert.Contains($"expected {TestCertificates.Sha256(certificate)}", refused.Message, StringComparison.Ordinal);
    }

    private Task<RunningDashboard> StartAsync(X509Certificate2 certificate, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dashboard:GrpcUrl"] = "https://127.0.0.1:0",
            ["Dashboard:CertificateFile"] = TestCertificates.WritePfx(certificate, folder),
            ["Dashboard:CertificatePassword"] = TestCertificates.Password,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return RunningDashboard.StartAsync(extra: settings);
    }

    /// <summary>Opens the agent stream through the agent's own channel and returns the dashboard's first message.</summary>
    private static async Task<HubMessage> ConnectAsync(Uri grpc, AgentOptions options)
    {
        options.DashboardUrl = grpc.ToString();
        using var channel = DashboardChannel.Create(options);
        using var call = new AgentHub.AgentHubClient(channel).Connect(new Metadata { { "authorization", $"Bearer {RunningDashboard.Token}" } });
        await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { AgentId = "tls-probe", HostName = "test-host", Slots = 1, Version = "test" } });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return call.ResponseStream.Current;
    }

    /// <summary>The agent's refusal of the dashboard's certificate, from inside the failed call.</summary>
    private static async Task<DashboardCertificateException> RefusalAsync(RunningDashboard dashboard, AgentOptions options)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(dashboard.GrpcUri, options));
        for (Exception? e = error; e is not null; e = e is RpcException rpc ? rpc.Status.DebugException : e.InnerException)
        {
            if (e is DashboardCertificateException refusal)
            {
                return refusal;
            }
        }

        throw new Xunit.Sdk.XunitException($"the call failed without a certificate refusal: {error}");
    }
}
