using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using EdgeLam.Contracts.Transport;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Emulator.Hosting;

/// <summary>
/// The MQTT byte stream over TLS (SslStream on a TCP socket), trusting only the configured CA; on the ESP32 the
/// device project does the same with nanoFramework's SslStream and the CA stored in flash.
/// </summary>
public sealed class TlsByteTransport : IByteTransport, IDisposable
{
    private readonly string _host;
    private readonly int _port;
    private readonly X509Certificate2Collection _anchors;
    private readonly X509Certificate2Collection? _clientCertificates;
    private readonly byte[] _received = new byte[16 * 1024];
    private TcpClient? _tcp;
    private SslStream? _tls;
    private Task<int>? _pendingRead;
    private int _receivedOffset;
    private int _receivedCount;

    /// <summary>A transport to <paramref name="host"/>:<paramref name="port"/> that trusts <paramref name="anchors"/> only.</summary>
    public TlsByteTransport(string host, int port, X509Certificate2Collection anchors, X509Certificate2? clientCertificate = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentNullException.ThrowIfNull(anchors);
        _host = host;
        _port = port;
        _anchors = anchors;
        _clientCertificates = clientCertificate is null ? null : [clientCertificate];
    }

    public bool IsOpen => _tls is not null && _tcp is { Connected: true };

    /// <summary>The last reason the broker's certificate was refused, for the log.</summary>
    public string? LastCertificateRefusal { get; private set; }

    public void Open()
    {
        Close();
        var tcp = new TcpClient { NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        try
        {
            tcp.Connect(_host, _port);
            var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, ValidateServer);
            tls.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = _host,
                ClientCertificates = _clientCertificates,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            });
            _tcp = tcp;
            _tls = tls;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public int Read(byte[] buffer, int offset, int count, int timeoutMilliseconds)
    {
        var tls = _tls ?? throw new InvalidOperationException("The transport is not open.");
        if (_receivedCount == 0)
        {
            // A read that timed out stays pending and is picked up by the next call: SslStream cannot abandon a read.
            _pendingRead ??= tls.ReadAsync(_received, 0, _received.Length);
            if (!_pendingRead.Wait(Math.Max(0, timeoutMilliseconds))) return 0;
            var read = _pendingRead.Result;
            _pendingRead = null;
            if (read == 0) return -1;
            _receivedOffset = 0;
            _receivedCount = read;
        }

        var copied = Math.Min(count, _receivedCount);
        Array.Copy(_received, _receivedOffset, buffer, offset, copied);
        _receivedOffset += copied;
        _receivedCount -= copied;
        return copied;
    }

    public void Write(byte[] buffer, int offset, int count)
    {
        var tls = _tls ?? throw new InvalidOperationException("The transport is not open.");
        tls.Write(buffer, offset, count);
        tls.Flush();
    }

    public void Close()
    {
        var tls = _tls;
        var tcp = _tcp;
        _tls = null;
        _tcp = null;
        _pendingRead = null;
        _receivedCount = 0;
        tls?.Dispose();
        tcp?.Dispose();
    }

    public void Dispose() => Close();

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (CertificateTrust.IsTrustedServer(certificate, errors, _anchors, out var reason)) return true;
        LastCertificateRefusal = reason;
        return false;
    }
}
