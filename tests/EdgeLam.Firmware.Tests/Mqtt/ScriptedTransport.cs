using EdgeLam.Firmware.Application;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>An in-memory transport: records what the client writes and hands it bytes queued by the test.</summary>
public sealed class ScriptedTransport : IByteTransport
{
    private readonly Queue<byte[]> _incoming = new();

    public List<byte[]> Written { get; } = [];
    public bool IsOpen { get; private set; }
    public int OpenCount { get; private set; }
    public bool ClosedByPeer { get; set; }

    /// <summary>Called after each write, so a test can answer like a broker would.</summary>
    public Action<byte[]>? OnWrite { get; set; }

    public void Enqueue(params byte[] bytes) => _incoming.Enqueue(bytes);

    public void Open()
    {
        IsOpen = true;
        ClosedByPeer = false;
        OpenCount++;
    }

    public int Read(byte[] buffer, int offset, int count, int timeoutMilliseconds)
    {
        if (_incoming.Count == 0) return ClosedByPeer ? -1 : 0;
        var next = _incoming.Dequeue();
        var length = Math.Min(count, next.Length);
        Array.Copy(next, 0, buffer, offset, length);
        if (length < next.Length) _incoming.Enqueue(next[length..]);
        return length;
    }

    public void Write(byte[] buffer, int offset, int count)
    {
        if (!IsOpen) throw new IOException("closed");
        var copy = buffer.AsSpan(offset, count).ToArray();
        Written.Add(copy);
        OnWrite?.Invoke(copy);
    }

    public void Close() => IsOpen = false;
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock : IClock
{
    public long MonotonicMilliseconds { get; set; }
    public long UnixMilliseconds => 1_800_000_000_000 + MonotonicMilliseconds;
    public void Sleep(int milliseconds) => MonotonicMilliseconds += milliseconds;
}
