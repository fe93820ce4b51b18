using System.Net;
using System.Net.Http.Headers;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Artifacts;

/// <summary>
/// <see cref="IArtifactFetcher"/> over <see cref="HttpClient"/>, synchronous like the device loops that call it (the
/// ESP32 emulator's thread, the agent's deployment task). Used by the firmware emulator and the Pi/Jetson agent.
/// </summary>
public sealed class HttpArtifactFetcher : IArtifactFetcher, IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsClient;
    private HttpResponseMessage? _response;
    private Stream? _body;

    /// <summary>A fetcher with its own client whose requests time out after <paramref name="timeout"/>.</summary>
    public HttpArtifactFetcher(TimeSpan timeout)
        : this(new HttpClient { Timeout = timeout }, ownsClient: true)
    {
    }

    /// <summary>A fetcher over <paramref name="http"/>; <paramref name="ownsClient"/> says whether disposing it disposes the client.</summary>
    public HttpArtifactFetcher(HttpClient http, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsClient = ownsClient;
    }

    /// <inheritdoc/>
    public long Open(string url, long offset)
    {
        ArgumentNullException.ThrowIfNull(url);
        Close();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Absolute));
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
        try
        {
            _response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new ArtifactFetchException($"GET {url} failed: {exception.Message}", transient: true, exception);
        }

        var status = _response.StatusCode;
        if (status == HttpStatusCode.PartialContent)
        {
            long start = _response.Content.Headers.ContentRange?.From ?? -1;
            _body = _response.Content.ReadAsStream();
            return start;
        }

        if (status == HttpStatusCode.OK)
        {
            _body = _response.Content.ReadAsStream();
            return 0;
        }

        // 5xx and 408/429 may pass; anything else (404 unknown artifact, 416 bad range) will not.
        bool transient = (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
        throw new ArtifactFetchException($"GET {url} answered {(int)status} {_response.ReasonPhrase}", transient);
    }

    /// <inheritdoc/>
    public int Read(byte[] buffer, int offset, int count)
    {
        if (_body is null) throw new InvalidOperationException("Open an artifact before reading it.");
        try
        {
            return _body.Read(buffer, offset, count);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            throw new ArtifactFetchException($"connection broke while reading the artifact: {exception.Message}", transient: true, exception);
        }
    }

    /// <inheritdoc/>
    public void Close()
    {
        _body?.Dispose();
        _body = null;
        _response?.Dispose();
        _response = null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Close();
        if (_ownsClient) _http.Dispose();
    }
}
