namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// The network door of an artifact download (WIRE.md section 5, Deployment by url): open the artifact from a byte
    /// offset, read the body chunk by chunk. HttpClient implements it on .NET, nanoFramework.System.Net.Http on the ESP32.
    /// </summary>
    public interface IArtifactFetcher
    {
        /// <summary>
        /// Requests <paramref name="url"/> from byte <paramref name="offset"/> on (HTTP Range: bytes=offset-, RFC 9110
        /// section 14.2, when offset &gt; 0). Returns the offset the body starts at: <paramref name="offset"/> when the server
        /// honoured the range (206), 0 when it sends the whole artifact (200). Throws <see cref="ArtifactFetchException"/>.
        /// </summary>
        long Open(string url, long offset);

        /// <summary>Reads up to <paramref name="count"/> body bytes; 0 at the end of the body. Throws <see cref="ArtifactFetchException"/> when the connection breaks.</summary>
        int Read(byte[] buffer, int offset, int count);

        /// <summary>Ends the current request (also after a failure); a later <see cref="Open"/> starts a new one.</summary>
        void Close();
    }

    /// <summary>Where downloaded bytes go: a fixed buffer or flash region on the MCU, a file on the agent.</summary>
    public interface IArtifactSink
    {
        /// <summary>Appends bytes after those already written.</summary>
        void Write(byte[] buffer, int offset, int count);

        /// <summary>Forgets everything written (the server restarted the body from byte 0).</summary>
        void Truncate();
    }
}
