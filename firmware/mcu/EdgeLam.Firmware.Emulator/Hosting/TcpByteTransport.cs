using System.Net.Sockets;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Emulator.Hosting;

/// <summary>The emulator's byte transport: a plain TCP socket to the broker, like the ESP32's lwIP socket.</summary>
public sealed class TcpByteTransport : IByteTransport, IDisposable
{
    private readonly string _host;
    private readonly int _port;
    private Socket? _socket;

    public TcpByteTransport(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _host = host;
        _port = port;
    }

    public bool IsOpen => _socket is { Connected: true };

    public void Open()
    {
        Close();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Connect(_host, _port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
    }

    public int Read(byte[] buffer, int offset, int count, int timeoutMilliseconds)
    {
        var socket = _socket ?? throw new InvalidOperationException("The transport is not open.");
        if (!socket.Poll(TimeSpan.FromMilliseconds(Math.Max(0, timeoutMilliseconds)), SelectMode.SelectRead))
            return 0;
        var read = socket.Receive(buffer, offset, count, SocketFlags.None);
        return read == 0 ? -1 : read;
    }

    public void Write(byte[] buffer, int offset, int count)
    {
        var socket = _socket ?? throw new InvalidOperationException("The transport is not open.");
        while (count > 0)
        {
            var sent = socket.Send(buffer, offset, count, SocketFlags.None);
            offset += sent;
            count -= sent;
        }
    }

    public void Close()
    {
        var socket = _socket;
        _socket = null;
        if (socket is null) return;
        try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        socket.Dispose();
    }

    public void Dispose() => Close();
}
