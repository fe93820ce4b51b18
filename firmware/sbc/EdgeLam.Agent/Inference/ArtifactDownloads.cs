using EdgeLam.Contracts.Artifacts;
using EdgeLam.Contracts.Wire;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Agent.Inference;

/// <summary>
/// Variants deployed by url: streamed over HTTP into a file in chunks (memory stays bounded by the chunk, not the
/// model), resumed with a range request after a dropped connection, size- and SHA-256-checked, then named by hash.
/// </summary>
public sealed partial class ArtifactDownloads : IDisposable
{
    /// <summary>Bytes read per step of a download.</summary>
    public const int ChunkBytes = 64 * 1024;

    /// <summary>Requests per artifact: the first and three resumptions.</summary>
    public const int Attempts = 4;

    private readonly string _directory;
    private readonly HttpArtifactFetcher _fetcher;
    private readonly ArtifactDownloader _downloader;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    /// <summary>Downloads into <paramref name="directory"/> (created on first use) with requests that time out after <paramref name="timeout"/>.</summary>
    public ArtifactDownloads(string directory, TimeSpan timeout, ILogger logger)
    {
        _directory = directory;
        _logger = logger;
        _fetcher = new HttpArtifactFetcher(timeout);
        _downloader = new ArtifactDownloader(_fetcher, ChunkBytes, Attempts);
    }

    /// <summary>Downloads the artifact and returns the path of the verified file; throws <see cref="ArtifactDownloadException"/> saying why not.</summary>
    public string Download(string url, long sizeBytes, string sha256)
    {
        lock (_gate)
        {
            Directory.CreateDirectory(_directory);
            string partial = Path.Combine(_directory, sha256 + ".part");
            string complete = Path.Combine(_directory, sha256 + ".onnx");
            try
            {
                using (var file = new ArtifactFile(partial))
                    _downloader.Download(url, sizeBytes, sha256, file);
                File.Move(partial, complete, overwrite: true);
            }
            catch (IOException exception)
            {
                throw new ArtifactDownloadException($"cannot write the download to {partial}: {exception.Message}", exception);
            }
            finally
            {
                if (File.Exists(partial)) File.Delete(partial);
            }

            LogDownloaded(_logger, url, sizeBytes, _downloader.Attempts, _downloader.Resumes);
            return complete;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _fetcher.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Downloaded {Url}: {Bytes} bytes, SHA-256 verified, {Attempts} requests ({Resumes} resumed with a range request)")]
    private static partial void LogDownloaded(ILogger logger, string url, long bytes, int attempts, int resumes);

    /// <summary>The file a download streams into.</summary>
    private sealed class ArtifactFile(string path) : IArtifactSink, IDisposable
    {
        private readonly FileStream _stream = new(path, FileMode.Create, FileAccess.Write, FileShare.None);

        public void Write(byte[] buffer, int offset, int count) => _stream.Write(buffer, offset, count);

        public void Truncate() => _stream.SetLength(0);

        public void Dispose() => _stream.Dispose();
    }
}
