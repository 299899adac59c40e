using System.Security.Cryptography;
using System.Text;
using HyperTune.Dashboard.Extensions;
using Microsoft.AspNetCore.Identity;

namespace HyperTune.Dashboard.Security;

/// <summary>
/// There is no default password: while no user exists, a one-time setup token (from Dashboard:SetupToken, or generated,
/// printed to the log and written to {DataDir}/setup-token) lets one person create the first admin on /setup. Once a
/// user exists the token stops working and its file is deleted.
/// </summary>
public sealed class FirstAdminSetup(DashboardOptions options, IServiceScopeFactory scopes, ILogger<FirstAdminSetup> logger) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private string? token;

    /// <summary>Whether the first admin is still to be created.</summary>
    public bool Pending => Volatile.Read(ref token) is not null;

    /// <summary>Where a generated token was written; null when it came from configuration.</summary>
    public string? TokenFile => string.IsNullOrEmpty(options.SetupToken) ? options.SetupTokenFilePath : null;

    /// <summary>At start: a token when no user exists yet, none (and no file) otherwise.</summary>
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        if (users.Users.Any())
        {
            token = null;
            File.Delete(options.SetupTokenFilePath);
            return;
        }

        if (!string.IsNullOrEmpty(options.SetupToken))
        {
            token = options.SetupToken;
            logger.LogWarning("No user yet: open /setup and enter the setup token from Dashboard:SetupToken to create the first admin");
            return;
        }

        token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await WriteOwnerOnlyAsync(options.SetupTokenFilePath, token, ct);
        logger.LogWarning("No user yet. Setup token: {Token} (also in {File}); open /setup and enter it to create the first admin. It works once.",
            token, options.SetupTokenFilePath);
    }

    /// <summary>Creates the first admin when <paramref name="presented"/> is the setup token and no user exists; else says why not.</summary>
    public async Task<IReadOnlyList<string>> CreateAdminAsync(string presented, string userName, string password, CancellationToken ct = default)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (token is null)
            {
                return ["Setup is done: the first admin exists. Sign in instead."];
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented.Trim()), Encoding.UTF8.GetBytes(token)))
            {
                logger.LogWarning("Refused a setup attempt with a wrong setup token");
                return ["The setup token is wrong: copy it from the dashboard's log or from its setup-token file."];
            }

            using var scope = scopes.CreateScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
            var user = new IdentityUser(userName.Trim());
            var created = await users.CreateAsync(user, password);
            if (!created.Succeeded)
            {
                return [.. created.Errors.Select(e => e.Description)];
            }

            await users.AddToRoleAsync(user, Roles.Admin);
            token = null;
            File.Delete(options.SetupTokenFilePath);
            logger.LogInformation("First admin {User} created; the setup token no longer works", user.UserName);
            return [];
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    private static async Task WriteOwnerOnlyAsync(string path, string text, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var writer = new StreamWriter(path, Encoding.ASCII, create);
        await writer.WriteAsync(text.AsMemory(), ct);
    }
}
