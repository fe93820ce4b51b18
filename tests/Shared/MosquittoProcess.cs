using System.Diagnostics;
using EdgeLam.Gateway.Broker;

namespace EdgeLam.Tests.Shared;

/// <summary>
/// A real mosquitto on a free loopback port, configured with the password and ACL files that
/// <see cref="MosquittoConfigWriter"/> writes for the given identities (linked into each test project that needs it).
/// </summary>
internal sealed class MosquittoProcess : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/sbin/mosquitto";

    private readonly Process _process;

    private MosquittoProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Writes mosquitto.conf, the password and the ACL file into <paramref name="directory"/> and starts mosquitto on them.</summary>
    public static async Task<MosquittoProcess> StartAsync(string directory, IEnumerable<CredentialRecord> identities)
    {
        Assert.True(File.Exists(ExecutablePath), "mosquitto is required (Debian package 'mosquitto'; ./edgelam test installs it)");
        var port = Loopback.FreeTcpPort();
        MosquittoConfigWriter.WriteAll(directory, port, identities);
        var process = Process.Start(new ProcessStartInfo(ExecutablePath, ["-c", Path.Combine(directory, "mosquitto.conf")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var mosquitto = new MosquittoProcess(process, port);
        await Loopback.WaitForPortAsync(port);
        return mosquitto;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
