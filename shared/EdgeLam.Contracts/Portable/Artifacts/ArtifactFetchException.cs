namespace EdgeLam.Contracts.Wire
{
    /// <summary>A request of an artifact failed: <see cref="Transient"/> when a retry from the bytes already received may succeed (connection dropped, timeout, 5xx).</summary>
    public class ArtifactFetchException : System.Exception
    {
        private readonly bool _transient;

        /// <summary>A failure and whether it is worth resuming after.</summary>
        public ArtifactFetchException(string message, bool transient)
            : base(message)
        {
            _transient = transient;
        }

        /// <summary>A failure with its cause.</summary>
        public ArtifactFetchException(string message, bool transient, System.Exception innerException)
            : base(message, innerException)
        {
            _transient = transient;
        }

        /// <summary>A transient failure.</summary>
        public ArtifactFetchException()
            : this("artifact request failed", true)
        {
        }

        /// <summary>A transient failure.</summary>
        public ArtifactFetchException(string message)
            : this(message, true)
        {
        }

        /// <summary>A transient failure with its cause.</summary>
        public ArtifactFetchException(string message, System.Exception innerException)
            : this(message, true, innerException)
        {
        }

        /// <summary>True when resuming the download may succeed.</summary>
        public bool Transient
        {
            get { return _transient; }
        }
    }

    /// <summary>An artifact could not be downloaded or is not the one the deployment names; the message is what the deploy ack reports.</summary>
    public class ArtifactDownloadException : System.Exception
    {
        /// <summary>A download that failed for the reason given.</summary>
        public ArtifactDownloadException(string message)
            : base(message)
        {
        }

        /// <summary>A download that failed, with its cause.</summary>
        public ArtifactDownloadException(string message, System.Exception innerException)
            : base(message, innerException)
        {
        }

        /// <summary>A download that failed.</summary>
        public ArtifactDownloadException()
            : base("artifact download failed")
        {
        }
    }
}
