using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HyperTune.Agent.Hub;

/// <summary>The agent refused an https dashboard's certificate; the message says why and what to configure.</summary>
public sealed class DashboardCertificateException(string message) : AuthenticationException(message);

/// <summary>
/// Whether the agent trusts an https dashboard: with Agent:CertificateThumbprint, exactly the certificate of that SHA-256
/// thumbprint (a self-signed one, typically); else with Agent:CaFile, a certificate for the host issued by one of its CAs;
/// else one the system's trust store accepts for the host.
/// </summary>
public sealed class DashboardCertificateCheck
{
    private readonly string? pin;
    private readonly string? caFile;
    private readonly X509Certificate2Collection? authorities;

    public DashboardCertificateCheck(string? thumbprint, string? caFile)
    {
        if (thumbprint is not null)
        {
            pin = NormalizeThumbprint(thumbprint)
                ?? throw new ArgumentException($"Agent:{nameof(AgentOptions.CertificateThumbprint)} must be 64 hex digits, got \"{thumbprint}\"", nameof(thumbprint));
        }

        if (caFile is not null)
        {
            this.caFile = Path.GetFullPath(caFile);
            authorities = [];
            authorities.ImportFromPemFile(this.caFile);
            if (authorities.Count == 0)
            {
                throw new ArgumentException($"Agent:{nameof(AgentOptions.CaFile)} \"{this.caFile}\" holds no PEM certificate", nameof(caFile));
            }
        }
    }

    public static DashboardCertificateCheck FromOptions(AgentOptions options) => new(options.CertificateThumbprint, options.CaFile);

    /// <summary>Upper-case hex without separators, or null when it is not a SHA-256 thumbprint.</summary>
    public static string? NormalizeThumbprint(string value)
    {
        var hex = value.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : null;
    }

    /// <summary>For SslClientAuthenticationOptions.RemoteCertificateValidationCallback: throws <see cref="DashboardCertificateException"/> to refuse, saying why.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            throw new DashboardCertificateException("the dashboard presented no TLS certificate");
        }

        return Verify(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), chain, errors);
    }

    /// <summary>True when the certificate is trusted; throws <see cref="DashboardCertificateException"/> naming the reason otherwise.</summary>
    public bool Verify(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var actual = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var described = $"the dashboard's certificate \"{certificate.Subject}\" (SHA-256 {actual})";
        if (pin is not null)
        {
            if (actual == pin)
            {
                return true;
            }

            throw new DashboardCertificateException(
                $"{described} does not match Agent:{nameof(AgentOptions.CertificateThumbprint)}: expected {pin}, got {actual}; refusing to connect");
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            throw new DashboardCertificateException($"{described} is not issued for the host of Agent:{nameof(AgentOptions.DashboardUrl)}; refusing to connect");
        }

        if (authorities is not null)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(authorities);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            foreach (var element in chain?.ChainElements ?? Enumerable.Empty<X509ChainElement>())
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }

            if (!custom.Build(certificate))
            {
                throw new DashboardCertificateException(
                    $"{described} is not issued by a CA in Agent:{nameof(AgentOptions.CaFile)} \"{caFile}\" ({Statuses(custom)}); refusing to connect");
            }

            return true;
        }

        if (errors != SslPolicyErrors.None)
        {
            throw new DashboardCertificateException(
                $"{described} is not trusted by this machine ({(chain is null ? errors.ToString() : Statuses(chain))}); trust its CA with Agent:{nameof(AgentOptions.CaFile)}, or pin it with Agent:{nameof(AgentOptions.CertificateThumbprint)}={actual}");
        }

        return true;
    }

    private static string Statuses(X509Chain chain)
    {
        var statuses = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct().ToList();
        return statuses.Count == 0 ? "no chain to a trusted root" : string.Join("; ", statuses);
    }
}
