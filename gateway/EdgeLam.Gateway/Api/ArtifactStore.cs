using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace EdgeLam.Gateway.Api;

/// <summary>
/// Content-addressed byte blobs (stage models, adapters) that devices fetch over HTTP by their SHA-256;
/// the hash is both the name and the ETag, so a blob never changes under its name.
/// </summary>
public sealed class ArtifactStore
{
    /// <summary>Path of the artifact endpoint under the API's base address.</summary>
    public const string RoutePrefix = "/artifacts/";

    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private volatile Uri? _baseAddress;

    /// <summary>Where devices reach the artifact endpoint, or null while no HTTP server serves it (API disabled or stopped).</summary>
    public Uri? BaseAddress => _baseAddress;

    /// <summary>Set by the API host once Kestrel listens (null when it stops).</summary>
    public void ServeAt(Uri? baseAddress) => _baseAddress = baseAddress;

    /// <summary>Registers <paramref name="content"/> and returns the URL devices download it from, or null while nothing serves artifacts.</summary>
    public Uri? Publish(ReadOnlySpan<byte> content)
    {
        var baseAddress = _baseAddress;
        if (baseAddress is null) return null;
        return new Uri(baseAddress, RoutePrefix + Register(content));
    }

    /// <summary>Registers a copy of <paramref name="content"/> and returns its SHA-256 as lowercase hex.</summary>
    public string Register(ReadOnlySpan<byte> content)
    {
        var copy = content.ToArray();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(copy));
        _blobs.TryAdd(sha256, copy);
        return sha256;
    }

    /// <summary>Finds a blob by its SHA-256 hex (either case).</summary>
    public bool TryGet(string sha256, out ReadOnlyMemory<byte> content)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        if (_blobs.TryGetValue(sha256.ToLowerInvariant(), out var blob))
        {
            content = blob;
            return true;
        }

        content = default;
        return false;
    }

    public int Count => _blobs.Count;

    /// <summary>True when <paramref name="text"/> has the shape of a SHA-256 hex digest (64 hex digits).</summary>
    public static bool IsSha256Hex(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigit);
}
