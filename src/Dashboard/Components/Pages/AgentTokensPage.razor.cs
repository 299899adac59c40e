using System.Globalization;
using System.Text.Json;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>
/// Per-agent tokens: create one for an agent id (shown once, with the agent's command line and configuration), see
/// when each was last used, revoke one. Every change goes through <see cref="AgentTokens"/>.
/// </summary>
public sealed partial class AgentTokensPage : IDisposable
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private readonly CancellationTokenSource disposed = new();
    private IReadOnlyList<AgentTokenView>? tokens;
    private IReadOnlyList<AgentView> agents = [];
    private HashSet<string> online = [];
    private IssuedAgentToken? issued;
    private string? agentId;
    private string? createError;
    private bool busy;
    private IDisposable? subscription;

    [Inject]
    private AgentTokens Tokens { get; set; } = null!;

    [Inject]
    private AgentDirectory Directory { get; set; } = null!;

    [Inject]
    private Endpoints Endpoints { get; set; } = null!;

    [Inject]
    private StudyEvents Events { get; set; } = null!;

    [Inject]
    private IDialogService Dialogs { get; set; } = null!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = null!;

    /// <summary>Agents the dashboard has seen that no token (active or revoked) names: the likely next ones to get a token.</summary>
    private List<string> WithoutOwnToken =>
        tokens is null ? [] : [.. agents.Select(a => a.Id).Except(tokens.Select(t => t.AgentId), StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    protected override async Task OnInitializedAsync()
    {
        subscription = Events.Subscribe(e =>
        {
            if (e is AgentsChanged)
            {
                _ = InvokeAsync(ReloadAsync);
            }
        });
        await ReloadAsync();
    }

    public void Dispose()
    {
        subscription?.Dispose();
        disposed.Cancel();
        disposed.Dispose();
    }

    private async Task ReloadAsync()
    {
        try
        {
            tokens = await Tokens.ListAsync(disposed.Token);
            agents = await Directory.ListAsync(disposed.Token);
            online = [.. agents.Where(a => a.Online).Select(a => a.Id)];
            StateHasChanged();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The page was closed.
        }
    }

    private async Task CreateOnEnterAsync(KeyboardEventArgs e)
    {
        if (e.Key == "Enter" && !busy && !string.IsNullOrWhiteSpace(agentId))
        {
            await CreateAsync();
        }
    }

    private async Task CreateAsync()
    {
        busy = true;
        createError = null;
        try
        {
            issued = await Tokens.CreateAsync(agentId ?? "", disposed.Token);
            agentId = null;
            await ReloadAsync();
        }
        catch (ArgumentException e)
        {
            createError = e.Message.Split(" (Parameter", 2)[0];
        }
        finally
        {
            busy = false;
        }
    }

    private async Task RevokeAsync(AgentTokenView token)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Revoke token {token.Hint}… of agent {token.AgentId}?",
            $"Agent {token.AgentId} is disconnected at once if it is connected, its running trials are handled as those of a lost agent, and it cannot connect again until it is given a new token.",
            yesText: "Revoke", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        busy = true;
        try
        {
            await Tokens.RevokeAsync(token.Id, disposed.Token);
            if (issued?.Token.Id == token.Id)
            {
                issued = null;
            }

            Snackbar.Add($"Token {token.Hint}… of agent {token.AgentId} revoked", Severity.Success);
            await ReloadAsync();
        }
        finally
        {
            busy = false;
        }
    }

    private string CommandLine(IssuedAgentToken token) =>
        $"Agent__Id={Shell(token.Token.AgentId)} Agent__DashboardUrl={Endpoints.GrpcUri.ToString().TrimEnd('/')} Agent__Token={token.Secret} \\\n" +
        "    dotnet src/Agent/bin/Release/net10.0/HyperTune.Agent.dll";

    private string ConfigJson(IssuedAgentToken token) => JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, string>>
    {
        ["Agent"] = new() { ["Id"] = token.Token.AgentId, ["DashboardUrl"] = Endpoints.GrpcUri.ToString().TrimEnd('/'), ["Token"] = token.Secret },
    }, IndentedJson);

    /// <summary>Quotes an agent id for a POSIX shell unless it is plainly safe.</summary>
    private static string Shell(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Utc(DateTimeOffset at) => at.ToString("u", CultureInfo.InvariantCulture);

    private static string Local(DateTimeOffset at) => at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
