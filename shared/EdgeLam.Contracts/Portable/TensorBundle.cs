using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// Several named tensor frames with a small JSON header (a LoRA update, a global adapter, an inference
    /// request or result). The header bytes are kept as received so that re-encoding reproduces them.
    /// Entry names are 1..<see cref="WireLimits.MaxNameLength"/> characters of [A-Za-z0-9._/-], unique.
    /// </summary>
    public sealed class TensorBundle
    {
        private readonly byte[] _headerJson;
        private readonly JsonObject _header;
        private readonly System.Collections.ArrayList _names = new System.Collections.ArrayList();
        private readonly System.Collections.ArrayList _frames = new System.Collections.ArrayList();

        /// <summary>Creates an empty bundle whose header is the given UTF-8 JSON object (validated now).</summary>
        public TensorBundle(byte[] headerJson)
        {
            if (headerJson == null)
            {
                throw new System.ArgumentNullException(nameof(headerJson));
            }

            _header = JsonReader.ParseObject(headerJson, 0, headerJson.Length);
            _headerJson = headerJson;
        }

        /// <summary>The header as UTF-8 JSON bytes, exactly as encoded. Do not modify.</summary>
        public byte[] HeaderJson
        {
            get { return _headerJson; }
        }

        /// <summary>The parsed header object.</summary>
        public JsonObject Header
        {
            get { return _header; }
        }

        /// <summary>Number of frames.</summary>
        public int Count
        {
            get { return _names.Count; }
        }

        /// <summary>Name of entry <paramref name="index"/>.</summary>
        public string GetName(int index)
        {
            return (string)_names[index]!;
        }

        /// <summary>Frame of entry <paramref name="index"/>.</summary>
        public TensorFrame GetFrame(int index)
        {
            return (TensorFrame)_frames[index]!;
        }

        /// <summary>The frame with this name, or null.</summary>
        public TensorFrame? Find(string name)
        {
            for (int i = 0; i < _names.Count; i++)
            {
                if ((string)_names[i]! == name)
                {
                    return (TensorFrame)_frames[i]!;
                }
            }

            return null;
        }

        /// <summary>The frame with this name; absent is a MissingField error naming it.</summary>
        public TensorFrame GetRequired(string name)
        {
            TensorFrame? frame = Find(name);
            if (frame == null)
            {
                throw new WireFormatException(WireErrorCode.MissingField, name, "bundle has no frame with this name");
            }

            return frame;
        }

        /// <summary>Appends a frame; the name must be valid and new, and the bundle below its frame limit.</summary>
        public void Add(string name, TensorFrame frame)
        {
            if (frame == null)
            {
                throw new System.ArgumentNullException(nameof(frame));
            }

            ValidateName(name);
            if (Find(name) != null)
            {
                throw new WireFormatException(WireErrorCode.DuplicateName, name, "bundle already has a frame with this name");
            }

            if (_names.Count == WireLimits.MaxBundleFrames)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "frames", "a bundle holds at most " + WireLimits.MaxBundleFrames.ToString() + " frames");
            }

            _names.Add(name);
            _frames.Add(frame);
        }

        /// <summary>Checks an entry name: 1..MaxNameLength characters of [A-Za-z0-9._/-].</summary>
        public static void ValidateName(string name)
        {
            if (name == null)
            {
                throw new System.ArgumentNullException(nameof(name));
            }

            if (name.Length == 0 || name.Length > WireLimits.MaxNameLength)
            {
                throw new WireFormatException(WireErrorCode.BadName, "name", "entry name length " + name.Length.ToString() + " outside [1," + WireLimits.MaxNameLength.ToString() + "]");
            }

            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' || c == '-';
                if (!allowed)
                {
                    throw new WireFormatException(WireErrorCode.BadName, "name", "character " + ((int)c).ToString() + " not allowed in entry name");
                }
            }
        }
    }
}
