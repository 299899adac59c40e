using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HyperTune.Dashboard.Extensions;

/// <summary>Loads the TLS certificate of the https endpoints from Dashboard:CertificateFile (PKCS#12, or PEM with its key).</summary>
public static class DashboardCertificate
{
    public static X509Certificate2 Load(DashboardOptions options)
    {
        var file = Path.GetFullPath(options.CertificateFile ?? throw new InvalidOperationException($"{DashboardOptions.Section}:{nameof(DashboardOptions.CertificateFile)} is not set"));
        X509Certificate2 certificate;
        try
        {
            if (Path.GetExtension(file).ToLowerInvariant() is ".pfx" or ".p12")
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(file, options.CertificatePassword);
            }
            else
            {
                var key = options.CertificateKeyFile is { } keyFile ? Path.GetFullPath(keyFile) : file;
                certificate = string.IsNullOrEmpty(options.CertificatePassword)
                    ? X509Certificate2.CreateFromPemFile(file, key)
                    : X509Certificate2.CreateFromEncryptedPemFile(file, options.CertificatePassword, key);
            }
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{DashboardOptions.Section}:{nameof(DashboardOptions.CertificateFile)} \"{file}\" could not be loaded (wrong password, or no private key beside it?): {e.Message}", e);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"{DashboardOptions.Section}:{nameof(DashboardOptions.CertificateFile)} \"{file}\" holds no private key; give it in the file or in {DashboardOptions.Section}:{nameof(DashboardOptions.CertificateKeyFile)}");
        }

        return certificate;
    }
}
