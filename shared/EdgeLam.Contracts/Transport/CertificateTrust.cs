using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace EdgeLam.Contracts.Transport;

/// <summary>
/// Trust decisions for MQTT over TLS, shared by the broker (client certificates) and every client (the broker's
/// certificate): a certificate is trusted when it chains to one of the configured anchors, not to the system store.
/// </summary>
public static class CertificateTrust
{
    /// <summary>Reads every certificate in a PEM file (one or more "BEGIN CERTIFICATE" blocks) or a DER file.</summary>
    public static X509Certificate2Collection LoadAnchors(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"trusted certificate file '{path}' does not exist", path);
        var anchors = new X509Certificate2Collection();
        var text = File.ReadAllText(path);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            anchors.ImportFromPem(text);
        else
            anchors.Add(X509CertificateLoader.LoadCertificateFromFile(path));
        if (anchors.Count == 0)
            throw new InvalidDataException($"trusted certificate file '{path}' holds no certificate");
        return anchors;
    }

    /// <summary>
    /// True when <paramref name="certificate"/> chains to one of <paramref name="anchors"/> (custom root trust, no
    /// revocation lookup: an edge network has no CRL/OCSP endpoint). Otherwise <paramref name="reason"/> says why.
    /// </summary>
    public static bool IsTrusted(X509Certificate? certificate, X509Certificate2Collection anchors, out string reason)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        if (certificate is null)
        {
            reason = "no certificate was presented";
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(leaf))
        {
            reason = string.Empty;
            return true;
        }

        var problems = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct(StringComparer.Ordinal);
        reason = $"certificate '{leaf.Subject}' does not chain to a trusted certificate ({string.Join(", ", problems)})";
        return false;
    }

    /// <summary>A server-certificate check for a TLS client: chain to the anchors, and a name that matches the host.</summary>
    public static bool IsTrustedServer(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection anchors, out string reason)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            reason = "the broker's certificate does not name the host connected to";
            return false;
        }

        return IsTrusted(certificate, anchors, out reason);
    }

    /// <summary>The subject's common name (CN), or null when it has none.</summary>
    public static string? CommonName(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return string.IsNullOrEmpty(name) ? null : name;
    }
}
