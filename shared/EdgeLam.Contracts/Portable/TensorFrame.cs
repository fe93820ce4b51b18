namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// One tensor as it travels on the wire: element type, shape, optional quantization and the raw
    /// little-endian payload. A constructed frame is always valid (the constructor enforces WIRE.md's
    /// rules), so encoding never fails. <see cref="TensorFrameCodec"/> turns frames into bytes and back.
    /// </summary>
    public sealed partial class TensorFrame
    {
        private static readonly float[] NoScales = new float[0];
        private static readonly int[] NoZeroPoints = new int[0];

        private readonly TensorDataType _dataType;
        private readonly int[] _shape;
        private readonly QuantizationKind _quantization;
        private readonly int _quantizationAxis;
        private readonly float[] _scales;
        private readonly int[] _zeroPoints;
        private readonly byte[] _payload;
        private readonly int _elementCount;

        /// <summary>An unquantized frame; <paramref name="payload"/> is kept, not copied.</summary>
        public TensorFrame(TensorDataType dataType, int[] shape, byte[] payload)
            : this(dataType, shape, QuantizationKind.None, 0, NoScales, NoZeroPoints, payload)
        {
        }

        /// <summary>
        /// A frame with quantization parameters (real = scale * (q - zeroPoint)); arrays are kept, not copied.
        /// Per-tensor takes one scale and zero point, per-channel one per index of <paramref name="quantizationAxis"/>.
        /// </summary>
        public TensorFrame(TensorDataType dataType, int[] shape, QuantizationKind quantization, int quantizationAxis, float[] scales, int[] zeroPoints, byte[] payload)
        {
            if (shape == null)
            {
                throw new System.ArgumentNullException(nameof(shape));
            }

            if (payload == null)
            {
                throw new System.ArgumentNullException(nameof(payload));
            }

            if (scales == null)
            {
                throw new System.ArgumentNullException(nameof(scales));
            }

            if (zeroPoints == null)
            {
                throw new System.ArgumentNullException(nameof(zeroPoints));
            }

            int elementSize = ElementSizeOf(dataType);
            _elementCount = CountElements(shape);
            if ((long)_elementCount * elementSize != payload.Length)
            {
                throw new WireFormatException(
                    WireErrorCode.ShapePayloadMismatch,
                    "payload",
                    "shape " + ShapeText(shape) + " of " + DataTypeName(dataType) + " needs " + ((long)_elementCount * elementSize).ToString() + " bytes but the payload has " + payload.Length.ToString());
            }

            ValidateQuantization(dataType, shape, quantization, quantizationAxis, scales, zeroPoints);
            ValidateFinite(dataType, payload);

            _dataType = dataType;
            _shape = shape;
            _quantization = quantization;
            _quantizationAxis = quantization == QuantizationKind.PerChannel ? quantizationAxis : 0;
            _scales = scales;
            _zeroPoints = zeroPoints;
            _payload = payload;
        }

        /// <summary>Element type.</summary>
        public TensorDataType DataType
        {
            get { return _dataType; }
        }

        /// <summary>Dimensions, outermost first (row-major payload). Do not modify.</summary>
        public int[] Shape
        {
            get { return _shape; }
        }

        /// <summary>Quantization scheme.</summary>
        public QuantizationKind Quantization
        {
            get { return _quantization; }
        }

        /// <summary>Axis of per-channel quantization; 0 otherwise.</summary>
        public int QuantizationAxis
        {
            get { return _quantizationAxis; }
        }

        /// <summary>Scales: none, one (per-tensor) or one per channel. Do not modify.</summary>
        public float[] Scales
        {
            get { return _scales; }
        }

        /// <summary>Zero points, parallel to <see cref="Scales"/>. Do not modify.</summary>
        public int[] ZeroPoints
        {
            get { return _zeroPoints; }
        }

        /// <summary>Raw little-endian elements, row-major. Do not modify.</summary>
        public byte[] Payload
        {
            get { return _payload; }
        }

        /// <summary>Product of the dimensions (1 for rank 0).</summary>
        public int ElementCount
        {
            get { return _elementCount; }
        }

        /// <summary>Bytes per element of a dtype.</summary>
        public static int ElementSizeOf(TensorDataType dataType)
        {
            switch (dataType)
            {
                case TensorDataType.Float32: return 4;
                case TensorDataType.Float16: return 2;
                case TensorDataType.Int8: return 1;
                case TensorDataType.UInt8: return 1;
                case TensorDataType.Int32: return 4;
                default: throw new WireFormatException(WireErrorCode.UnknownDtype, "dtype", "unknown dtype " + ((int)dataType).ToString());
            }
        }

        /// <summary>Wire name of a dtype (f32, f16, i8, u8, i32).</summary>
        public static string DataTypeName(TensorDataType dataType)
        {
            switch (dataType)
            {
                case TensorDataType.Float32: return "f32";
                case TensorDataType.Float16: return "f16";
                case TensorDataType.Int8: return "i8";
                case TensorDataType.UInt8: return "u8";
                case TensorDataType.Int32: return "i32";
                default: return "dtype " + ((int)dataType).ToString();
            }
        }

        /// <summary>Element count of a shape, enforcing rank and size limits.</summary>
        public static int CountElements(int[] shape)
        {
            if (shape.Length > WireLimits.MaxRank)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "shape", "rank " + shape.Length.ToString() + " exceeds " + WireLimits.MaxRank.ToString());
            }

            long count = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] < 0)
                {
                    throw new WireFormatException(WireErrorCode.Oversize, "shape", "dimension " + i.ToString() + " is negative");
                }

                count *= shape[i];
                if (count > WireLimits.MaxElementCount)
                {
                    throw new WireFormatException(WireErrorCode.Oversize, "shape", "shape " + ShapeText(shape) + " exceeds " + WireLimits.MaxElementCount.ToString() + " elements");
                }
            }

            return (int)count;
        }

        /// <summary>Shape as text, e.g. [4,16].</summary>
        public static string ShapeText(int[] shape)
        {
            string text = "[";
            for (int i = 0; i < shape.Length; i++)
            {
                text = i == 0 ? text + shape[i].ToString() : text + "," + shape[i].ToString();
            }

            return text + "]";
        }

        /// <summary>Element i of an f32 or f16 frame (f16 widened exactly).</summary>
        public float GetFloat(int index)
        {
            if (_dataType == TensorDataType.Float32)
            {
                return LittleEndian.ReadSingle(_payload, index * 4);
            }

            if (_dataType == TensorDataType.Float16)
            {
                return HalfPrecision.ToSingle((ushort)LittleEndian.ReadUInt16(_payload, index * 2));
            }

            throw new System.InvalidOperationException(DataTypeName(_dataType) + " frame has no float elements");
        }

        /// <summary>Element i of an integer frame as stored (not dequantized).</summary>
        public int GetInteger(int index)
        {
            switch (_dataType)
            {
                case TensorDataType.Int8: return (sbyte)_payload[index];
                case TensorDataType.UInt8: return _payload[index];
                case TensorDataType.Int32: return LittleEndian.ReadInt32(_payload, index * 4);
                default: throw new System.InvalidOperationException(DataTypeName(_dataType) + " frame has no integer elements");
            }
        }

        /// <summary>Elements of an i8 frame as a new array (for integer kernels).</summary>
        public sbyte[] ToInt8Array()
        {
            RequireType(TensorDataType.Int8);
            sbyte[] values = new sbyte[_elementCount];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (sbyte)_payload[i];
            }

            return values;
        }

        /// <summary>Elements of an i32 frame as a new array.</summary>
        public int[] ToInt32Array()
        {
            RequireType(TensorDataType.Int32);
            int[] values = new int[_elementCount];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = LittleEndian.ReadInt32(_payload, i * 4);
            }

            return values;
        }

        /// <summary>Elements of an f32 or f16 frame as a new float array.</summary>
        public float[] ToFloatArray()
        {
            float[] values = new float[_elementCount];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = GetFloat(i);
            }

            return values;
        }

        /// <summary>An i8 frame from integer values, quantized or not.</summary>
        public static TensorFrame FromInt8(sbyte[] values, int[] shape, QuantizationKind quantization, int quantizationAxis, float[] scales, int[] zeroPoints)
        {
            byte[] payload = new byte[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                payload[i] = (byte)values[i];
            }

            return new TensorFrame(TensorDataType.Int8, shape, quantization, quantizationAxis, scales, zeroPoints, payload);
        }

        /// <summary>An i32 frame from integer values, quantized or not.</summary>
        public static TensorFrame FromInt32(int[] values, int[] shape, QuantizationKind quantization, int quantizationAxis, float[] scales, int[] zeroPoints)
        {
            byte[] payload = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++)
            {
                LittleEndian.WriteInt32(payload, i * 4, values[i]);
            }

            return new TensorFrame(TensorDataType.Int32, shape, quantization, quantizationAxis, scales, zeroPoints, payload);
        }

        /// <summary>An unquantized f32 or f16 frame from float values (f16 rounds to nearest even).</summary>
        public static TensorFrame FromFloatArray(float[] values, int[] shape, TensorDataType dataType)
        {
            byte[] payload;
            if (dataType == TensorDataType.Float32)
            {
                payload = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++)
                {
                    LittleEndian.WriteSingle(payload, i * 4, values[i]);
                }
            }
            else if (dataType == TensorDataType.Float16)
            {
                payload = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++)
                {
                    LittleEndian.WriteUInt16(payload, i * 2, HalfPrecision.FromSingle(values[i]));
                }
            }
            else
            {
                throw new System.ArgumentException("FromFloatArray makes f32 or f16 frames, not " + DataTypeName(dataType), nameof(dataType));
            }

            return new TensorFrame(dataType, shape, payload);
        }

        private void RequireType(TensorDataType expected)
        {
            if (_dataType != expected)
            {
                throw new System.InvalidOperationException("frame is " + DataTypeName(_dataType) + ", not " + DataTypeName(expected));
            }
        }

        private static void ValidateQuantization(TensorDataType dataType, int[] shape, QuantizationKind quantization, int axis, float[] scales, int[] zeroPoints)
        {
            if (quantization == QuantizationKind.None)
            {
                if (scales.Length != 0 || zeroPoints.Length != 0)
                {
                    throw new WireFormatException(WireErrorCode.BadQuantization, "quantization", "unquantized frame carries scales or zero points");
                }

                return;
            }

            if (quantization != QuantizationKind.PerTensor && quantization != QuantizationKind.PerChannel)
            {
                throw new WireFormatException(WireErrorCode.BadQuantization, "quantization", "unknown quantization kind " + ((int)quantization).ToString());
            }

            if (dataType != TensorDataType.Int8 && dataType != TensorDataType.UInt8 && dataType != TensorDataType.Int32)
            {
                throw new WireFormatException(WireErrorCode.BadQuantization, "quantization", DataTypeName(dataType) + " elements cannot be quantized");
            }

            int expected = 1;
            if (quantization == QuantizationKind.PerChannel)
            {
                if (axis < 0 || axis >= shape.Length)
                {
                    throw new WireFormatException(WireErrorCode.BadQuantization, "quantization.axis", "axis " + axis.ToString() + " outside rank " + shape.Length.ToString());
                }

                expected = shape[axis];
            }

            if (scales.Length != expected || zeroPoints.Length != expected)
            {
                throw new WireFormatException(WireErrorCode.BadQuantization, "quantization", "expected " + expected.ToString() + " scales and zero points, got " + scales.Length.ToString() + " and " + zeroPoints.Length.ToString());
            }

            int minimum = dataType == TensorDataType.Int8 ? -128 : 0;
            int maximum = dataType == TensorDataType.Int8 ? 127 : (dataType == TensorDataType.UInt8 ? 255 : 0);
            for (int i = 0; i < expected; i++)
            {
                // NaN fails the comparison too, so non-finite scales are refused here.
                if (!(scales[i] > 0f) || !FloatBits.IsFinite(scales[i]))
                {
                    throw new WireFormatException(WireErrorCode.BadQuantization, "quantization.scale[" + i.ToString() + "]", "scale must be finite and positive");
                }

                if (zeroPoints[i] < minimum || zeroPoints[i] > maximum)
                {
                    throw new WireFormatException(WireErrorCode.BadQuantization, "quantization.zeroPoint[" + i.ToString() + "]", "zero point " + zeroPoints[i].ToString() + " outside [" + minimum.ToString() + "," + maximum.ToString() + "] for " + DataTypeName(dataType));
                }
            }
        }

        private static void ValidateFinite(TensorDataType dataType, byte[] payload)
        {
            if (dataType == TensorDataType.Float32)
            {
                for (int offset = 0; offset < payload.Length; offset += 4)
                {
                    // Exponent bits all ones: NaN or infinity (byte 3 holds the sign and top 7 exponent bits).
                    if ((payload[offset + 3] & 0x7F) == 0x7F && (payload[offset + 2] & 0x80) != 0)
                    {
                        throw new WireFormatException(WireErrorCode.NonFinite, "payload", "element " + (offset / 4).ToString() + " is NaN or infinite");
                    }
                }
            }
            else if (dataType == TensorDataType.Float16)
            {
                for (int offset = 0; offset < payload.Length; offset += 2)
                {
                    if ((payload[offset + 1] & 0x7C) == 0x7C)
                    {
                        throw new WireFormatException(WireErrorCode.NonFinite, "payload", "element " + (offset / 2).ToString() + " is NaN or infinite");
                    }
                }
            }
        }
    }
}
