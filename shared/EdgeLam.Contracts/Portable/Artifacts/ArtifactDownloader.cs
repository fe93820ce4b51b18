namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// Streams an artifact named by a deployment (url, sizeBytes, sha256) into a sink through fixed-size chunks, resumes
    /// an interrupted transfer with a range request from the bytes already received, and checks size and SHA-256 as it goes.
    /// </summary>
    public sealed class ArtifactDownloader
    {
        private readonly IArtifactFetcher _fetcher;
        private readonly byte[] _chunk;
        private readonly int _maximumAttempts;
        private readonly Sha256 _hash = new Sha256();
        private int _attempts;
        private int _resumes;
        private long _received;

        /// <summary>A downloader reading <paramref name="chunkBytes"/> at a time and trying at most <paramref name="maximumAttempts"/> requests per artifact.</summary>
        public ArtifactDownloader(IArtifactFetcher fetcher, int chunkBytes, int maximumAttempts)
        {
            if (fetcher == null)
            {
                throw new System.ArgumentNullException(nameof(fetcher));
            }

            if (chunkBytes < 1 || maximumAttempts < 1)
            {
                throw new System.ArgumentOutOfRangeException(nameof(chunkBytes), "chunk size and attempts must be at least 1");
            }

            _fetcher = fetcher;
            _chunk = new byte[chunkBytes];
            _maximumAttempts = maximumAttempts;
        }

        /// <summary>Requests made for the last artifact.</summary>
        public int Attempts
        {
            get { return _attempts; }
        }

        /// <summary>Range requests of the last artifact that continued from bytes already received.</summary>
        public int Resumes
        {
            get { return _resumes; }
        }

        /// <summary>
        /// Downloads <paramref name="url"/> into <paramref name="sink"/>; returns when exactly <paramref name="sizeBytes"/> bytes
        /// hashing to <paramref name="sha256Hex"/> were written, otherwise throws <see cref="ArtifactDownloadException"/> saying why.
        /// </summary>
        public void Download(string url, long sizeBytes, string sha256Hex, IArtifactSink sink)
        {
            if (url == null || sha256Hex == null || sink == null)
            {
                throw new System.ArgumentNullException(nameof(url), "url, sha256 and sink are required");
            }

            _hash.Reset();
            sink.Truncate();
            _attempts = 0;
            _resumes = 0;
            _received = 0;
            string lastFailure = string.Empty;
            while (_received < sizeBytes || _attempts == 0)
            {
                if (_attempts == _maximumAttempts)
                {
                    throw new ArtifactDownloadException("download of " + url + " stopped at byte " + _received.ToString() + " of " + sizeBytes.ToString()
                        + " after " + _attempts.ToString() + " attempts: " + lastFailure);
                }

                _attempts++;
                try
                {
                    long start = _fetcher.Open(url, _received);
                    if (start != _received)
                    {
                        if (start != 0)
                        {
                            throw new ArtifactDownloadException("server resumed " + url + " at byte " + start.ToString() + ", not at the requested " + _received.ToString());
                        }

                        // The server ignored the range and sends the whole artifact again: start over.
                        _hash.Reset();
                        sink.Truncate();
                        _received = 0;
                    }
                    else if (_received > 0)
                    {
                        _resumes++;
                    }

                    Receive(url, sizeBytes, sink);
                    if (_received < sizeBytes)
                    {
                        lastFailure = "the body ended at byte " + _received.ToString();
                    }
                }
                catch (ArtifactFetchException failure)
                {
                    if (!failure.Transient)
                    {
                        throw new ArtifactDownloadException("download of " + url + " failed: " + failure.Message, failure);
                    }

                    lastFailure = failure.Message;
                }
                finally
                {
                    _fetcher.Close();
                }
            }

            string actual = Sha256.ToHex(_hash.Finish());
            if (actual != sha256Hex)
            {
                throw new ArtifactDownloadException("SHA-256 mismatch: the deployment says " + sha256Hex + ", the " + sizeBytes.ToString()
                    + " downloaded bytes hash to " + actual);
            }
        }

        /// <summary>Reads the body to its end; <see cref="_received"/> counts what arrived even when the connection breaks.</summary>
        private void Receive(string url, long sizeBytes, IArtifactSink sink)
        {
            while (true)
            {
                int read = _fetcher.Read(_chunk, 0, _chunk.Length);
                if (read == 0)
                {
                    return;
                }

                if (_received + read > sizeBytes)
                {
                    throw new ArtifactDownloadException("server sent more than the " + sizeBytes.ToString() + " bytes the deployment declares for " + url);
                }

                _hash.Append(_chunk, 0, read);
                sink.Write(_chunk, 0, read);
                _received += read;
            }
        }
    }
}
