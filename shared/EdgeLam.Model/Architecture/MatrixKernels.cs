using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// Dense row-major matrix products for the model. Every output element is one fused multiply-add chain
/// over k in ascending order, whether it lands in a SIMD lane or the scalar tail, so results are
/// bit-identical across vector widths. The inner kernel keeps a 4-row by 2-vector block of C in
/// registers and streams rows of B (the register blocking of Goto and van de Geijn 2008).
/// </summary>
public static class MatrixKernels
{
    /// <summary>C[M,N] = A[M,K]·B[K,N], or C += A·B when <paramref name="accumulate"/>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        CheckSizes(a.Length, m * k, b.Length, k * n, c.Length, m * n);
        if (m == 0 || n == 0)
            return;
        if (k == 0)
        {
            if (!accumulate)
                c[..(m * n)].Clear();
            return;
        }
        ref float aRef = ref MemoryMarshal.GetReference(a);
        ref float bRef = ref MemoryMarshal.GetReference(b);
        ref float cRef = ref MemoryMarshal.GetReference(c);
        int width = Vector.IsHardwareAccelerated ? Vector<float>.Count : int.MaxValue;
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            int j = 0;
            for (; j + (2 * width) <= n; j += 2 * width)
                Block4x2(ref aRef, ref bRef, ref cRef, i, j, k, n, accumulate);
            for (; j + width <= n; j += width)
                Block4x1(ref aRef, ref bRef, ref cRef, i, j, k, n, accumulate);
            for (int row = i; row < i + 4; row++)
                ScalarTail(ref aRef, ref bRef, ref cRef, row, j, k, n, accumulate);
        }
        for (; i < m; i++)
        {
            int j = 0;
            for (; j + width <= n; j += width)
                Block1x1(ref aRef, ref bRef, ref cRef, i, j, k, n, accumulate);
            ScalarTail(ref aRef, ref bRef, ref cRef, i, j, k, n, accumulate);
        }
    }

    /// <summary>C[M,N] = A[M,K]·B[N,K]ᵀ (B given row-major as [N,K], like a Linear weight [Out, In]).</summary>
    public static void MultiplyTransposedB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        CheckSizes(a.Length, m * k, b.Length, k * n, c.Length, m * n);
        float[] transposed = ArrayPool<float>.Shared.Rent(k * n);
        try
        {
            Transpose(b, n, k, transposed);
            Multiply(a, transposed.AsSpan(0, k * n), c, m, k, n, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }
    }

    /// <summary>C[K,N] = A[M,K]ᵀ·B[M,N] (the weight-gradient product dW = dYᵀ·X).</summary>
    public static void MultiplyTransposedA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        CheckSizes(a.Length, m * k, b.Length, m * n, c.Length, k * n);
        float[] transposed = ArrayPool<float>.Shared.Rent(m * k);
        try
        {
            Transpose(a, m, k, transposed);
            Multiply(transposed.AsSpan(0, m * k), b, c, k, m, n, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }
    }

    /// <summary>destination[cols, rows] = source[rows, cols]ᵀ.</summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        const int tile = 16;
        for (int r0 = 0; r0 < rows; r0 += tile)
        {
            int r1 = Math.Min(rows, r0 + tile);
            for (int c0 = 0; c0 < columns; c0 += tile)
            {
                int c1 = Math.Min(columns, c0 + tile);
                for (int r = r0; r < r1; r++)
                {
                    for (int col = c0; col < c1; col++)
                        destination[(col * rows) + r] = source[(r * columns) + col];
                }
            }
        }
    }

    private static void CheckSizes(int aLength, int aNeeded, int bLength, int bNeeded, int cLength, int cNeeded)
    {
        if (aLength < aNeeded || bLength < bNeeded || cLength < cNeeded)
            throw new ArgumentException($"Matrix buffers too small: A {aLength}/{aNeeded}, B {bLength}/{bNeeded}, C {cLength}/{cNeeded}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ref float origin, int offset) => Vector.LoadUnsafe(ref origin, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> value, ref float origin, int offset, bool accumulate)
    {
        if (accumulate)
            value = Load(ref origin, offset) + value;
        value.StoreUnsafe(ref origin, (nuint)offset);
    }

    private static void Block4x2(ref float a, ref float b, ref float c, int i, int j, int k, int n, bool accumulate)
    {
        int width = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        for (int p = 0; p < k; p++)
        {
            Vector<float> b0 = Load(ref b, (p * n) + j);
            Vector<float> b1 = Load(ref b, (p * n) + j + width);
            var x0 = new Vector<float>(Unsafe.Add(ref a, a0 + p));
            var x1 = new Vector<float>(Unsafe.Add(ref a, a1 + p));
            var x2 = new Vector<float>(Unsafe.Add(ref a, a2 + p));
            var x3 = new Vector<float>(Unsafe.Add(ref a, a3 + p));
            c00 = Vector.FusedMultiplyAdd(x0, b0, c00);
            c01 = Vector.FusedMultiplyAdd(x0, b1, c01);
            c10 = Vector.FusedMultiplyAdd(x1, b0, c10);
            c11 = Vector.FusedMultiplyAdd(x1, b1, c11);
            c20 = Vector.FusedMultiplyAdd(x2, b0, c20);
            c21 = Vector.FusedMultiplyAdd(x2, b1, c21);
            c30 = Vector.FusedMultiplyAdd(x3, b0, c30);
            c31 = Vector.FusedMultiplyAdd(x3, b1, c31);
        }
        int row = i * n;
        Store(c00, ref c, row + j, accumulate);
        Store(c01, ref c, row + j + width, accumulate);
        row += n;
        Store(c10, ref c, row + j, accumulate);
        Store(c11, ref c, row + j + width, accumulate);
        row += n;
        Store(c20, ref c, row + j, accumulate);
        Store(c21, ref c, row + j + width, accumulate);
        row += n;
        Store(c30, ref c, row + j, accumulate);
        Store(c31, ref c, row + j + width, accumulate);
    }

    private static void Block4x1(ref float a, ref float b, ref float c, int i, int j, int k, int n, bool accumulate)
    {
        Vector<float> c0 = default, c1 = default, c2 = default, c3 = default;
        int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        for (int p = 0; p < k; p++)
        {
            Vector<float> b0 = Load(ref b, (p * n) + j);
            c0 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a0 + p)), b0, c0);
            c1 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a1 + p)), b0, c1);
            c2 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a2 + p)), b0, c2);
            c3 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a3 + p)), b0, c3);
        }
        Store(c0, ref c, (i * n) + j, accumulate);
        Store(c1, ref c, ((i + 1) * n) + j, accumulate);
        Store(c2, ref c, ((i + 2) * n) + j, accumulate);
        Store(c3, ref c, ((i + 3) * n) + j, accumulate);
    }

    private static void Block1x1(ref float a, ref float b, ref float c, int i, int j, int k, int n, bool accumulate)
    {
        Vector<float> c0 = default;
        int a0 = i * k;
        for (int p = 0; p < k; p++)
            c0 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a0 + p)), Load(ref b, (p * n) + j), c0);
        Store(c0, ref c, (i * n) + j, accumulate);
    }

    private static void ScalarTail(ref float a, ref float b, ref float c, int i, int jStart, int k, int n, bool accumulate)
    {
        for (int j = jStart; j < n; j++)
        {
            float sum = 0;
            for (int p = 0; p < k; p++)
                sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, (i * k) + p), Unsafe.Add(ref b, (p * n) + j), sum);
            ref float target = ref Unsafe.Add(ref c, (i * n) + j);
            target = accumulate ? target + sum : sum;
        }
    }
}
