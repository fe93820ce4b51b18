using CsCheck;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Wire;

public sealed class TensorFrameTests
{
    // Scales that fall into the subnormal range lose relative precision; no real weight is that small.
    private const float SubnormalSlack = 1e-37f;

    private static readonly Gen<(float[] Values, int Rows, int Columns)> Matrix =
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 6]).SelectMany((rows, columns) =>
            Gen.Float[-50f, 50f].Array[rows * columns].Select(values => (values, rows, columns)));

    [Fact]
    public void Per_channel_int8_dequantizes_within_half_a_step_of_each_channel() =>
        Gen.Select(Matrix, Gen.Int[0, 1]).Sample((matrix, axis) =>
        {
            TensorFrame frame = TensorFrame.QuantizePerChannel(matrix.Values, [matrix.Rows, matrix.Columns], axis);
            TensorFrame decoded = TensorFrameCodec.Decode(TensorFrameCodec.Encode(frame));
            float[] restored = decoded.Dequantize();
            for (int i = 0; i < restored.Length; i++)
            {
                int channel = axis == 0 ? i / matrix.Columns : i % matrix.Columns;
                Assert.True(Math.Abs(restored[i] - matrix.Values[i]) <= (decoded.Scales[channel] / 2 * 1.0001f) + SubnormalSlack, $"element {i}: {matrix.Values[i]} -> {restored[i]}");
                Assert.Equal(0, decoded.ZeroPoints[channel]);
            }
        }, iter: 500);

    [Fact]
    public void Per_tensor_int8_dequantizes_within_half_a_step_and_keeps_zero_exact() =>
        Matrix.Sample(matrix =>
        {
            float[] values = [.. matrix.Values, 0f];
            TensorFrame frame = TensorFrame.QuantizePerTensor(values, [values.Length]);
            float[] restored = TensorFrameCodec.Decode(TensorFrameCodec.Encode(frame)).Dequantize();
            float step = frame.Scales[0];
            for (int i = 0; i < values.Length; i++)
            {
                Assert.True(Math.Abs(restored[i] - values[i]) <= (step / 2 * 1.0001f) + SubnormalSlack, $"element {i}: {values[i]} -> {restored[i]}");
            }

            Assert.Equal(0f, restored[^1]);
        }, iter: 500);

    [Fact]
    public void Float_frames_keep_f32_exactly_and_f16_to_nearest() =>
        Gen.Float[-60000f, 60000f].Array[0, 20].Sample(values =>
        {
            Assert.Equal(values, TensorFrameCodec.Decode(TensorFrameCodec.Encode(TensorFrame.FromFloats(values, [values.Length]))).Dequantize());
            float[] halves = TensorFrameCodec.Decode(TensorFrameCodec.Encode(TensorFrame.FromFloats(values, [values.Length], TensorDataType.Float16))).Dequantize();
            Assert.Equal(values.Select(value => (float)(Half)value), halves);
        }, iter: 500);

    [Fact]
    public void Unquantized_integers_dequantize_to_themselves()
    {
        TensorFrame frame = TensorFrame.FromInt32([-7, 0, 123456], [3], QuantizationKind.None, 0, [], []);
        Assert.Equal([-7f, 0f, 123456f], frame.Dequantize());
        Assert.Equal([-7, 0, 123456], frame.ToInt32Array());
    }

    [Fact]
    public void Non_finite_input_and_invalid_frames_are_refused_with_their_code()
    {
        Assert.Equal(WireErrorCode.NonFinite, Assert.Throws<WireFormatException>(() => TensorFrame.FromFloats([1f, float.NaN], [2])).Code);
        Assert.Equal(WireErrorCode.NonFinite, Assert.Throws<WireFormatException>(() => TensorFrame.QuantizePerTensor([float.PositiveInfinity], [1])).Code);
        Assert.Equal(WireErrorCode.ShapePayloadMismatch, Assert.Throws<WireFormatException>(() => new TensorFrame(TensorDataType.Float32, [2], new byte[4])).Code);
        Assert.Equal(WireErrorCode.Oversize, Assert.Throws<WireFormatException>(() => new TensorFrame(TensorDataType.Int8, [1, 1, 1, 1, 1, 1, 1, 1, 1], new byte[1])).Code);
        Assert.Equal(WireErrorCode.BadQuantization, Assert.Throws<WireFormatException>(
            () => new TensorFrame(TensorDataType.Int32, [1], QuantizationKind.PerTensor, 0, [1f], [5], new byte[4])).Code);
        Assert.Equal(WireErrorCode.UnknownDtype, Assert.Throws<WireFormatException>(() => new TensorFrame((TensorDataType)42, [1], new byte[1])).Code);
    }

    [Fact]
    public void Bundle_names_must_be_valid_and_unique()
    {
        var bundle = new TensorBundle("{}"u8.ToArray());
        bundle.Add("layers.0.query.a", TensorFrame.FromFloats([1f], [1]));
        Assert.Equal(WireErrorCode.DuplicateName, Assert.Throws<WireFormatException>(() => bundle.Add("layers.0.query.a", TensorFrame.FromFloats([1f], [1]))).Code);
        Assert.Equal(WireErrorCode.BadName, Assert.Throws<WireFormatException>(() => bundle.Add("", TensorFrame.FromFloats([1f], [1]))).Code);
        Assert.Equal(WireErrorCode.BadName, Assert.Throws<WireFormatException>(() => bundle.Add(new string('a', 129), TensorFrame.FromFloats([1f], [1]))).Code);
        Assert.Equal(WireErrorCode.MalformedJson, Assert.Throws<WireFormatException>(() => new TensorBundle("[]"u8.ToArray())).Code);
    }
}
