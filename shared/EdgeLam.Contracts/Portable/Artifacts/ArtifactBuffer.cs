namespace EdgeLam.Contracts.Wire
{
    /// <summary>A fixed-size region that receives a download (RAM on the emulator, a flash partition on the board); it never grows.</summary>
    public sealed class ArtifactBuffer : IArtifactSink
    {
        private readonly byte[] _bytes;
        private int _length;

        /// <summary>A region of <paramref name="capacity"/> bytes.</summary>
        public ArtifactBuffer(int capacity)
        {
            if (capacity < 0)
            {
                throw new System.ArgumentOutOfRangeException(nameof(capacity), "capacity cannot be negative");
            }

            _bytes = new byte[capacity];
        }

        /// <summary>Bytes the region holds at most.</summary>
        public int Capacity
        {
            get { return _bytes.Length; }
        }

        /// <summary>Bytes written so far.</summary>
        public int Length
        {
            get { return _length; }
        }

        /// <summary>The whole region; the first <see cref="Length"/> bytes are the download.</summary>
        public byte[] Bytes
        {
            get { return _bytes; }
        }

        /// <inheritdoc />
        public void Write(byte[] buffer, int offset, int count)
        {
            if (count > _bytes.Length - _length)
            {
                throw new ArtifactDownloadException("artifact does not fit the " + _bytes.Length.ToString() + "-byte download region");
            }

            System.Array.Copy(buffer, offset, _bytes, _length, count);
            _length += count;
        }

        /// <inheritdoc />
        public void Truncate()
        {
            _length = 0;
        }
    }
}
