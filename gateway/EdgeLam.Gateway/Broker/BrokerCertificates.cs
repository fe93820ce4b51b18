using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeLam.Gateway.Broker;

/// <summary>
/// The embedded broker's TLS material: loads the server certificate (PFX, or PEM certificate + key), creates and
/// saves a self-signed one on a first run, and issues CA-signed certificates (device client certificates, tests).
/// </summary>
public static class BrokerCertificates
{
    /// <summary>How long a generated certificate is valid.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(730);

    /// <summary>Loads the server certificate with its private key from a PFX file, or a PEM certificate and key.</summary>
    public static X509Certificate2 LoadServerCertificate(string certificatePath, string? password, string? keyPath)
    {
        if (!File.Exists(certificatePath))
            throw new FileNotFoundException($"broker certificate '{certificatePath}' does not exist", certificatePath);
        X509Certificate2 certificate;
        if (IsPem(certificatePath))
        {
            var key = keyPath ?? certificatePath;
            using var pem = string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPemFile(certificatePath, key)
                : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, key);
            // A PEM-built certificate's key is ephemeral; round-tripping through PKCS#12 gives SslStream a persisted one.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        else
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password);
        }

        if (!certificate.HasPrivateKey)
            throw new InvalidDataException($"broker certificate '{certificatePath}' has no private key");
        return certificate;
    }

    /// <summary>
    /// Creates a self-signed server certificate (ECDSA P-256, serverAuth) naming localhost, the loopback addresses,
    /// this machine and <paramref name="extraNames"/>; saves it as PFX at <paramref name="pfxPath"/> and its public
    /// part as PEM beside it (<see cref="PublicPemPath"/>) for devices to trust.
    /// </summary>
    public static X509Certificate2 CreateSelfSignedServerCertificate(string pfxPath, string? password, params string[] extraNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Dns.GetHostName()} EdgeLam broker", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(SubjectAlternativeNames(["localhost", Dns.GetHostName(), .. extraNames]));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now + Validity);
        return Save(created, pfxPath, password);
    }

    /// <summary>Creates a certificate authority that can sign client (or server) certificates.</summary>
    public static X509Certificate2 CreateAuthority(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now + Validity);
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// Issues a certificate signed by <paramref name="authority"/>: a client certificate whose CN is the MQTT user
    /// name (the broker binds the two), or a server certificate naming the hosts in <paramref name="serverNames"/>.
    /// </summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, string commonName, bool server = false, params string[] serverNames)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usage = server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2";
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (server) request.CertificateExtensions.Add(SubjectAlternativeNames(["localhost", .. serverNames]));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + Validity < authority.NotAfter ? now + Validity : new DateTimeOffset(authority.NotAfter.ToUniversalTime());
        using var issued = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Where the public PEM of a saved PFX goes: same name, ".crt".</summary>
    public static string PublicPemPath(string pfxPath) => Path.ChangeExtension(pfxPath, ".crt");

    /// <summary>Writes the public certificate as PEM.</summary>
    public static void WritePublicPem(X509Certificate2 certificate, string path)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        EnsureDirectory(path);
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n");
    }

    private static X509Certificate2 Save(X509Certificate2 certificate, string pfxPath, string? password)
    {
        EnsureDirectory(pfxPath);
        var pfx = certificate.Export(X509ContentType.Pkcs12, password);
        // Write then rename so a crash never leaves a half-written key file.
        var temporary = pfxPath + ".tmp";
        File.WriteAllBytes(temporary, pfx);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, pfxPath, overwrite: true);
        WritePublicPem(certificate, PublicPemPath(pfxPath));
        return X509CertificateLoader.LoadPkcs12(pfx, password);
    }

    private static X509Extension SubjectAlternativeNames(IEnumerable<string> names)
    {
        var builder = new SubjectAlternativeNameBuilder();
        builder.AddIpAddress(IPAddress.Loopback);
        builder.AddIpAddress(IPAddress.IPv6Loopback);
        foreach (var name in names.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(name, out var address)) builder.AddIpAddress(address);
            else builder.AddDnsName(name);
        }

        return builder.Build();
    }

    private static bool IsPem(string path)
    {
        Span<byte> head = stackalloc byte[11];
        using var file = File.OpenRead(path);
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return head[..read].SequenceEqual("-----BEGIN "u8[..Math.Min(read, 11)]);
    }

    private static void EnsureDirectory(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
    }
}
