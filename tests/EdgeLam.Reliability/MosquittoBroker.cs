using System.Diagnostics;
using System.Net.Sockets;
using EdgeLam.Gateway.Broker;
using EdgeLam.Tests.Shared;

namespace EdgeLam.Reliability;

/// <summary>A real Mosquitto on a free loopback port, configured by the files <see cref="MosquittoConfigWriter"/> writes; it can be killed and started again.</summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/sbin/mosquitto";
    private readonly string _configPath;
    private Process? _process;

    private MosquittoBroker(string configPath, int port)
    {
        _configPath = configPath;
        Port = port;
    }

    public int Port { get; }

    public static bool IsInstalled => File.Exists(ExecutablePath);

    /// <summary>Writes the password, ACL and config files for the enrolled identities into <paramref name="directory"/> and starts Mosquitto.</summary>
    public static async Task<MosquittoBroker> StartAsync(string directory, IEnumerable<CredentialRecord> identities)
    {
        if (!IsInstalled) throw new InvalidOperationException($"{ExecutablePath} is missing: install the Debian package 'mosquitto'");
        var port = Loopback.FreeTcpPort();
        MosquittoConfigWriter.WriteAll(directory, port, identities);
        var broker = new MosquittoBroker(Path.Combine(directory, "mosquitto.conf"), port);
        await broker.StartProcessAsync().ConfigureAwait(false);
        return broker;
    }

    /// <summary>SIGKILLs Mosquitto and starts it again on the same port (no persistence: sessions and retained messages are gone).</summary>
    public async Task RestartAsync(TimeSpan down)
    {
        Kill();
        await Task.Delay(down).ConfigureAwait(false);
        await StartProcessAsync().ConfigureAwait(false);
    }

    private async Task StartProcessAsync()
    {
        _process = Process.Start(new ProcessStartInfo(ExecutablePath, ["-c", _configPath]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("mosquitto did not start");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(25).ConfigureAwait(false);
            }
        }
    }

    private void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
