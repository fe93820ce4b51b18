namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// SHA-256 (FIPS 180-4), incremental, for verifying deployed artifacts while they stream in; portable because
    /// nanoFramework's mscorlib has no System.Security.Cryptography. Tested against System.Security.Cryptography.SHA256.
    /// </summary>
    public sealed class Sha256
    {
        /// <summary>Bytes of a digest.</summary>
        public const int DigestBytes = 32;

        private static readonly uint[] RoundConstants = new uint[]
        {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
        };

        private readonly uint[] _state = new uint[8];
        private readonly uint[] _schedule = new uint[64];
        private readonly byte[] _block = new byte[64];
        private int _blockLength;
        private long _totalBytes;

        /// <summary>A hash of nothing yet.</summary>
        public Sha256()
        {
            Reset();
        }

        /// <summary>Bytes appended since the last reset.</summary>
        public long TotalBytes
        {
            get { return _totalBytes; }
        }

        /// <summary>Starts over as if nothing had been appended.</summary>
        public void Reset()
        {
            _state[0] = 0x6a09e667;
            _state[1] = 0xbb67ae85;
            _state[2] = 0x3c6ef372;
            _state[3] = 0xa54ff53a;
            _state[4] = 0x510e527f;
            _state[5] = 0x9b05688c;
            _state[6] = 0x1f83d9ab;
            _state[7] = 0x5be0cd19;
            _blockLength = 0;
            _totalBytes = 0;
        }

        /// <summary>Feeds <paramref name="count"/> bytes of <paramref name="data"/> from <paramref name="offset"/>.</summary>
        public void Append(byte[] data, int offset, int count)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            if (offset < 0 || count < 0 || offset > data.Length - count)
            {
                throw new System.ArgumentOutOfRangeException(nameof(count), "offset and count must lie within the data");
            }

            _totalBytes += count;
            while (count > 0)
            {
                int take = 64 - _blockLength < count ? 64 - _blockLength : count;
                System.Array.Copy(data, offset, _block, _blockLength, take);
                _blockLength += take;
                offset += take;
                count -= take;
                if (_blockLength == 64)
                {
                    Compress();
                    _blockLength = 0;
                }
            }
        }

        /// <summary>Pads, returns the 32-byte digest of everything appended, and resets for the next message.</summary>
        public byte[] Finish()
        {
            long bitLength = _totalBytes * 8;
            _block[_blockLength++] = 0x80;
            if (_blockLength > 56)
            {
                while (_blockLength < 64)
                {
                    _block[_blockLength++] = 0;
                }

                Compress();
                _blockLength = 0;
            }

            while (_blockLength < 56)
            {
                _block[_blockLength++] = 0;
            }

            for (int i = 0; i < 8; i++)
            {
                _block[56 + i] = (byte)(bitLength >> (8 * (7 - i)));
            }

            Compress();
            var digest = new byte[DigestBytes];
            for (int i = 0; i < 8; i++)
            {
                digest[4 * i] = (byte)(_state[i] >> 24);
                digest[(4 * i) + 1] = (byte)(_state[i] >> 16);
                digest[(4 * i) + 2] = (byte)(_state[i] >> 8);
                digest[(4 * i) + 3] = (byte)_state[i];
            }

            Reset();
            return digest;
        }

        /// <summary>The 32-byte digest of <paramref name="data"/>.</summary>
        public static byte[] Hash(byte[] data)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            var hash = new Sha256();
            hash.Append(data, 0, data.Length);
            return hash.Finish();
        }

        /// <summary>The digest of <paramref name="data"/> as 64 lowercase hex digits.</summary>
        public static string HashHex(byte[] data)
        {
            return ToHex(Hash(data));
        }

        /// <summary>Bytes as lowercase hex digits, two per byte.</summary>
        public static string ToHex(byte[] bytes)
        {
            if (bytes == null)
            {
                throw new System.ArgumentNullException(nameof(bytes));
            }

            const string Digits = "0123456789abcdef";
            var text = new char[2 * bytes.Length];
            for (int i = 0; i < bytes.Length; i++)
            {
                text[2 * i] = Digits[bytes[i] >> 4];
                text[(2 * i) + 1] = Digits[bytes[i] & 0xF];
            }

            return new string(text);
        }

        private void Compress()
        {
            uint[] w = _schedule;
            for (int i = 0; i < 16; i++)
            {
                w[i] = ((uint)_block[4 * i] << 24) | ((uint)_block[(4 * i) + 1] << 16) | ((uint)_block[(4 * i) + 2] << 8) | _block[(4 * i) + 3];
            }

            for (int i = 16; i < 64; i++)
            {
                uint s0 = Rotate(w[i - 15], 7) ^ Rotate(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint s1 = Rotate(w[i - 2], 17) ^ Rotate(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = unchecked(w[i - 16] + s0 + w[i - 7] + s1);
            }

            uint a = _state[0], b = _state[1], c = _state[2], d = _state[3], e = _state[4], f = _state[5], g = _state[6], h = _state[7];
            for (int i = 0; i < 64; i++)
            {
                uint t1 = unchecked(h + (Rotate(e, 6) ^ Rotate(e, 11) ^ Rotate(e, 25)) + ((e & f) ^ (~e & g)) + RoundConstants[i] + w[i]);
                uint t2 = unchecked((Rotate(a, 2) ^ Rotate(a, 13) ^ Rotate(a, 22)) + ((a & b) ^ (a & c) ^ (b & c)));
                h = g;
                g = f;
                f = e;
                e = unchecked(d + t1);
                d = c;
                c = b;
                b = a;
                a = unchecked(t1 + t2);
            }

            _state[0] = unchecked(_state[0] + a);
            _state[1] = unchecked(_state[1] + b);
            _state[2] = unchecked(_state[2] + c);
            _state[3] = unchecked(_state[3] + d);
            _state[4] = unchecked(_state[4] + e);
            _state[5] = unchecked(_state[5] + f);
            _state[6] = unchecked(_state[6] + g);
            _state[7] = unchecked(_state[7] + h);
        }

        private static uint Rotate(uint value, int bits)
        {
            return (value >> bits) | (value << (32 - bits));
        }
    }
}
