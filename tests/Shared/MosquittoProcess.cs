using System.Diagnostics;
using EdgeLam.Gateway.Broker;

namespace EdgeLam.Tests.Shared;

/// <summary>
/// A real mosquitto on a free loopback port, configured with the password and ACL files that
/// <see cref="MosquittoConfigWriter"/> writes for the given identities; it can be killed and started again on the same
/// port (linked into each project that needs it).
/// </summary>
internal sealed class MosquittoProcess : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/sbin/mosquitto";

    private readonly string _configPath;
    private Process? _process;

    private MosquittoProcess(string configPath, int port)
    {
        _configPath = configPath;
        Port = port;
    }

    public int Port { get; }

    public static bool IsInstalled => File.Exists(ExecutablePath);

    /// <summary>Writes mosquitto.conf, the password and the ACL file into <paramref name="directory"/> and starts mosquitto on them.</summary>
    public static async Task<MosquittoProcess> StartAsync(string directory, IEnumerable<CredentialRecord> identities)
    {
        if (!IsInstalled) throw new InvalidOperationException("mosquitto is required (Debian package 'mosquitto'; ./edgelam test installs it)");
        var port = Loopback.FreeTcpPort();
        MosquittoConfigWriter.WriteAll(directory, port, identities);
        var mosquitto = new MosquittoProcess(Path.Combine(directory, "mosquitto.conf"), port);
        await mosquitto.StartProcessAsync().ConfigureAwait(false);
        return mosquitto;
    }

    /// <summary>SIGKILLs mosquitto and starts it again on the same port after <paramref name="down"/> (no persistence: sessions and retained messages are gone).</summary>
    public async Task RestartAsync(TimeSpan down)
    {
        await KillAsync().ConfigureAwait(false);
        await Task.Delay(down).ConfigureAwait(false);
        await StartProcessAsync().ConfigureAwait(false);
    }

    private async Task StartProcessAsync()
    {
        _process = Process.Start(new ProcessStartInfo(ExecutablePath, ["-c", _configPath])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        await Loopback.WaitForPortAsync(Port).ConfigureAwait(false);
    }

    private async Task KillAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync() => new(KillAsync());
}
