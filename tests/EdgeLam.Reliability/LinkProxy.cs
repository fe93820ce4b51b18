using System.Net;
using System.Net.Sockets;

namespace EdgeLam.Reliability;

/// <summary>
/// A TCP relay between one device and the broker whose link can be cut: while down it drops every connection
/// and refuses new ones, as a Wi-Fi outage does.
/// </summary>
public sealed class LinkProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private readonly Task _accepting;
    private DateTimeOffset _downUntil = DateTimeOffset.MinValue;

    public LinkProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>Cuts every connection now and refuses new ones for <paramref name="duration"/>.</summary>
    public void Drop(TimeSpan duration)
    {
        lock (_gate)
        {
            _downUntil = DateTimeOffset.UtcNow + duration;
            foreach (var client in _open) client.Client.Close(0);
            _open.Clear();
        }
    }

    private bool IsDown { get { lock (_gate) return DateTimeOffset.UtcNow < _downUntil; } }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient device;
            try { device = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { return; }
            if (IsDown)
            {
                device.Client.Close(0);
                device.Dispose();
                continue;
            }

            _ = Task.Run(() => RelayAsync(device));
        }
    }

    private async Task RelayAsync(TcpClient device)
    {
        using var broker = new TcpClient();
        try
        {
            await broker.ConnectAsync(IPAddress.Loopback, _target).ConfigureAwait(false);
            lock (_gate) _open.AddRange([device, broker]);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = device.GetStream().CopyToAsync(broker.GetStream(), linked.Token);
            var down = broker.GetStream().CopyToAsync(device.GetStream(), linked.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            await linked.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A cut link ends the relay; the device reconnects.
        }
        finally
        {
            lock (_gate) { _open.Remove(device); _open.Remove(broker); }
            device.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Drop(TimeSpan.Zero);
        try { await _accepting.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
