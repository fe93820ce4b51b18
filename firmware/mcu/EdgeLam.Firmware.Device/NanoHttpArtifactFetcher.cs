using System;
using System.IO;
using System.Net.Http;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Firmware.Device
{
    /// <summary>
    /// Artifact downloads on the ESP32 through nanoFramework.System.Net.Http: a GET with a Range header from the bytes
    /// already received, the body read in chunks straight from the socket (HttpCompletionOption.ResponseHeadersRead).
    /// </summary>
    public sealed class NanoHttpArtifactFetcher : IArtifactFetcher
    {
        private readonly HttpClient http;
        private HttpResponseMessage response;
        private Stream body;

        public NanoHttpArtifactFetcher(TimeSpan timeout)
        {
            http = new HttpClient();
            http.Timeout = timeout;
        }

        public long Open(string url, long offset)
        {
            Close();
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (offset > 0)
            {
                // RFC 9110 section 14.2: bytes from offset to the end.
                request.Headers.Add("Range", "bytes=" + offset.ToString() + "-");
            }

            try
            {
                response = http.Send(request, HttpCompletionOption.ResponseHeadersRead);
            }
            catch (Exception error)
            {
                throw new ArtifactFetchException("GET " + url + " failed: " + error.Message, true);
            }

            int status = (int)response.StatusCode;
            if (status == 206 || status == 200)
            {
                body = response.Content.ReadAsStream();
                return status == 206 ? offset : 0;
            }

            throw new ArtifactFetchException("GET " + url + " answered " + status.ToString(), status >= 500 || status == 408 || status == 429);
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return body.Read(buffer, offset, count);
            }
            catch (Exception error)
            {
                throw new ArtifactFetchException("connection broke while reading the artifact: " + error.Message, true);
            }
        }

        public void Close()
        {
            if (body != null)
            {
                body.Dispose();
                body = null;
            }

            if (response != null)
            {
                response.Dispose();
                response = null;
            }
        }
    }
}
