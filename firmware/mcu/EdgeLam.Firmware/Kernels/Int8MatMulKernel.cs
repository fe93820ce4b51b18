using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// int8 × int8 matrix product of two activation tensors, for attention: scores = Q·Kᵀ (right operand transposed,
/// rows of K) and context = P·V. Both operands are asymmetric per tensor; acc = Σ_k (l − z_l)·(r − z_r) in int32,
/// requantized per tensor with the multiplier s_l·s_r/s_out (fixed point, or ONNX Runtime QLinearMatMul-compatible).
/// Row strides let one call address one attention head inside a [tokens, model] tensor without copies.
/// </summary>
public sealed class Int8MatMulKernel
{
    private Requantizer? requantizer;
    private int leftZeroPoint;
    private int rightZeroPoint;
    private int rows;
    private int depth;
    private int columns;
    private bool rightTransposed;

    /// <summary>Rows of the left operand and of the output.</summary>
    public int Rows => rows;

    /// <summary>Inner dimension.</summary>
    public int Depth => depth;

    /// <summary>Columns of the output.</summary>
    public int Columns => columns;

    /// <summary>
    /// Fixes shapes [rows, depth] × [depth, columns] (or, with rightTransposed, a right operand stored as
    /// [columns, depth]) and precomputes the requantizer.
    /// </summary>
    public void Prepare(QuantizationParameters left, QuantizationParameters right, QuantizationParameters output, int rows, int depth, int columns, bool rightTransposed, RequantizationMode mode)
    {
        if (left == null || right == null || output == null)
        {
            throw new System.ArgumentNullException(left == null ? nameof(left) : right == null ? nameof(right) : nameof(output));
        }

        if (rows <= 0 || depth <= 0 || columns <= 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(rows), "MatMul shapes must be positive, got [" + rows.ToString() + ", " + depth.ToString() + "] x [" + depth.ToString() + ", " + columns.ToString() + "].");
        }

        requantizer = Requantizer.Create(mode, left.Scale, new float[] { right.Scale }, output);
        leftZeroPoint = left.ZeroPoint;
        rightZeroPoint = right.ZeroPoint;
        this.rows = rows;
        this.depth = depth;
        this.columns = columns;
        this.rightTransposed = rightTransposed;
    }

    /// <summary>Product of densely stored operands into a dense [rows, columns] output.</summary>
    public void Eval(sbyte[] left, int leftOffset, sbyte[] right, int rightOffset, sbyte[] output, int outputOffset)
    {
        Eval(left, leftOffset, depth, right, rightOffset, rightTransposed ? depth : columns, output, outputOffset, columns);
    }

    /// <summary>Product with explicit row strides (elements between consecutive rows) of each operand and the output.</summary>
    public void Eval(sbyte[] left, int leftOffset, int leftRowStride, sbyte[] right, int rightOffset, int rightRowStride, sbyte[] output, int outputOffset, int outputRowStride)
    {
        Requantizer scale = requantizer ?? throw new System.InvalidOperationException("MatMul kernel: Eval before Prepare.");
        int rightRows = rightTransposed ? columns : depth;
        int rightColumns = rightTransposed ? depth : columns;
        CheckStrided(left, leftOffset, rows, depth, leftRowStride, nameof(left));
        CheckStrided(right, rightOffset, rightRows, rightColumns, rightRowStride, nameof(right));
        CheckStrided(output, outputOffset, rows, columns, outputRowStride, nameof(output));
        for (int r = 0; r < rows; r++)
        {
            int l = leftOffset + (r * leftRowStride);
            for (int c = 0; c < columns; c++)
            {
                int accumulator = 0;
                if (rightTransposed)
                {
                    int rr = rightOffset + (c * rightRowStride);
                    for (int k = 0; k < depth; k++)
                    {
                        accumulator += (left[l + k] - leftZeroPoint) * (right[rr + k] - rightZeroPoint);
                    }
                }
                else
                {
                    int rc = rightOffset + c;
                    for (int k = 0; k < depth; k++)
                    {
                        accumulator += (left[l + k] - leftZeroPoint) * (right[rc + (k * rightRowStride)] - rightZeroPoint);
                    }
                }

                output[outputOffset + (r * outputRowStride) + c] = scale.Requantize(accumulator, 0);
            }
        }
    }

    private static void CheckStrided(sbyte[] buffer, int offset, int rowCount, int columnCount, int stride, string name)
    {
        if (buffer == null)
        {
            throw new System.ArgumentNullException(name);
        }

        if (stride < columnCount || offset < 0 || (long)offset + ((long)(rowCount - 1) * stride) + columnCount > buffer.Length)
        {
            throw new System.ArgumentOutOfRangeException(name, "Tensor '" + name + "' needs " + rowCount.ToString() + " rows of " + columnCount.ToString() + " values with stride " + stride.ToString() + " from offset " + offset.ToString() + " but holds " + buffer.Length.ToString() + ".");
        }
    }
}
