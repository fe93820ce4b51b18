namespace EdgeLam.Gateway.Training.LinearAlgebra;

/// <summary>
/// A dense row-major matrix of doubles. Aggregation math runs in double so that sums of many
/// FP16/INT8-derived products do not lose the digits that the exactness tests look at.
/// </summary>
public sealed class Matrix
{
    public Matrix(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        Rows = rows;
        Columns = columns;
        Values = new double[rows * columns];
    }

    private Matrix(int rows, int columns, double[] values)
    {
        Rows = rows;
        Columns = columns;
        Values = values;
    }

    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Row-major storage: element (i, j) is at i·Columns + j.</summary>
    public double[] Values { get; }

    public double this[int row, int column]
    {
        get => Values[(row * Columns) + column];
        set => Values[(row * Columns) + column] = value;
    }

    /// <summary>Wraps (copies) a row-major float buffer.</summary>
    public static Matrix FromRowMajor(int rows, int columns, ReadOnlySpan<float> values)
    {
        if (values.Length != rows * columns)
            throw new ArgumentException($"A {rows}x{columns} matrix needs {rows * columns} values, got {values.Length}.", nameof(values));
        var result = new Matrix(rows, columns);
        for (var i = 0; i < values.Length; i++)
            result.Values[i] = values[i];
        return result;
    }

    public static Matrix FromRowMajor(int rows, int columns, double[] values)
    {
        if (values.Length != rows * columns)
            throw new ArgumentException($"A {rows}x{columns} matrix needs {rows * columns} values, got {values.Length}.", nameof(values));
        return new Matrix(rows, columns, (double[])values.Clone());
    }

    public static Matrix Identity(int size)
    {
        var result = new Matrix(size, size);
        for (var i = 0; i < size; i++)
            result[i, i] = 1;
        return result;
    }

    public float[] ToFloatArray()
    {
        var result = new float[Values.Length];
        for (var i = 0; i < Values.Length; i++)
            result[i] = (float)Values[i];
        return result;
    }

    public Matrix Clone() => new(Rows, Columns, (double[])Values.Clone());

    public Matrix Transpose()
    {
        var result = new Matrix(Columns, Rows);
        for (var i = 0; i < Rows; i++)
            for (var j = 0; j < Columns; j++)
                result[j, i] = this[i, j];
        return result;
    }

    public Matrix Multiply(Matrix right)
    {
        if (Columns != right.Rows)
            throw new ArgumentException($"Cannot multiply {Rows}x{Columns} by {right.Rows}x{right.Columns}.", nameof(right));
        var result = new Matrix(Rows, right.Columns);
        for (var i = 0; i < Rows; i++)
        {
            var resultRow = result.Values.AsSpan(i * right.Columns, right.Columns);
            for (var k = 0; k < Columns; k++)
            {
                var factor = this[i, k];
                if (factor == 0)
                    continue;
                var rightRow = right.Values.AsSpan(k * right.Columns, right.Columns);
                for (var j = 0; j < resultRow.Length; j++)
                    resultRow[j] += factor * rightRow[j];
            }
        }
        return result;
    }

    /// <summary>this += scale · other, in place.</summary>
    public void AddScaled(Matrix other, double scale)
    {
        if (other.Rows != Rows || other.Columns != Columns)
            throw new ArgumentException($"Cannot add {other.Rows}x{other.Columns} to {Rows}x{Columns}.", nameof(other));
        for (var i = 0; i < Values.Length; i++)
            Values[i] += scale * other.Values[i];
    }

    public Matrix Scale(double factor)
    {
        var result = Clone();
        for (var i = 0; i < result.Values.Length; i++)
            result.Values[i] *= factor;
        return result;
    }

    public Matrix Subtract(Matrix other)
    {
        var result = Clone();
        result.AddScaled(other, -1);
        return result;
    }

    public double FrobeniusNorm()
    {
        var sum = 0.0;
        foreach (var value in Values)
            sum += value * value;
        return Math.Sqrt(sum);
    }

    /// <summary>The first <paramref name="count"/> columns.</summary>
    public Matrix LeadingColumns(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Columns);
        var result = new Matrix(Rows, count);
        for (var i = 0; i < Rows; i++)
            Array.Copy(Values, i * Columns, result.Values, i * count, count);
        return result;
    }

    /// <summary>The first <paramref name="count"/> rows.</summary>
    public Matrix LeadingRows(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Rows);
        var result = new Matrix(count, Columns);
        Array.Copy(Values, result.Values, count * Columns);
        return result;
    }

    /// <summary>[left | right], side by side.</summary>
    public static Matrix ConcatenateColumns(IReadOnlyList<Matrix> blocks)
    {
        if (blocks.Count == 0)
            throw new ArgumentException("At least one block is needed.", nameof(blocks));
        var rows = blocks[0].Rows;
        var columns = 0;
        foreach (var block in blocks)
        {
            if (block.Rows != rows)
                throw new ArgumentException($"Blocks have {rows} and {block.Rows} rows.", nameof(blocks));
            columns += block.Columns;
        }
        var result = new Matrix(rows, columns);
        var offset = 0;
        foreach (var block in blocks)
        {
            for (var i = 0; i < rows; i++)
                Array.Copy(block.Values, i * block.Columns, result.Values, (i * columns) + offset, block.Columns);
            offset += block.Columns;
        }
        return result;
    }

    /// <summary>Blocks stacked on top of each other.</summary>
    public static Matrix ConcatenateRows(IReadOnlyList<Matrix> blocks)
    {
        if (blocks.Count == 0)
            throw new ArgumentException("At least one block is needed.", nameof(blocks));
        var columns = blocks[0].Columns;
        var rows = 0;
        foreach (var block in blocks)
        {
            if (block.Columns != columns)
                throw new ArgumentException($"Blocks have {columns} and {block.Columns} columns.", nameof(blocks));
            rows += block.Rows;
        }
        var result = new Matrix(rows, columns);
        var offset = 0;
        foreach (var block in blocks)
        {
            Array.Copy(block.Values, 0, result.Values, offset, block.Values.Length);
            offset += block.Values.Length;
        }
        return result;
    }
}
