namespace EdgeLam.Firmware.Quantization;

/// <summary>
/// The few real functions the kernels need at Prepare time (lookup tables, scales), written without System.Math,
/// which nanoFramework lacks. Never called on an Eval hot path.
/// </summary>
public static class PortableMath
{
    private const double NaturalLogarithmOfTwo = 0.6931471805599453;
    private const double TwoOverSquareRootOfPi = 1.1283791670955126;
    private const double OneOverSquareRootOfPi = 0.5641895835477563;

    /// <summary>Absolute value.</summary>
    public static double Abs(double value)
    {
        return value < 0 ? -value : value;
    }

    /// <summary>e^x to about 1e-15 relative error: x = k·ln2 + r with |r| ≤ ln2/2, a Taylor series for e^r, 2^k put into the exponent bits.</summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        if (x > 709)
        {
            return double.PositiveInfinity;
        }

        if (x < -745)
        {
            return 0;
        }

        long k = FloatingPointBits.RoundHalfToEven(x / NaturalLogarithmOfTwo);
        double r = x - (k * NaturalLogarithmOfTwo);
        double term = 1;
        double sum = 1;
        for (int n = 1; n <= 18; n++)
        {
            term *= r / n;
            sum += term;
        }

        return ScaleByPowerOfTwo(sum, (int)k);
    }

    /// <summary>Error function to about 1e-12 absolute: Maclaurin series below 2.5, the erfc continued fraction above (A&amp;S 7.1.5, 7.1.14).</summary>
    public static double Erf(double x)
    {
        double z = Abs(x);
        double result;
        if (z < 2.5)
        {
            // erf z = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1)).
            double zz = z * z;
            double power = z;
            double sum = z;
            for (int n = 1; n < 80; n++)
            {
                power *= -zz / n;
                double term = power / ((2 * n) + 1);
                sum += term;
                if (Abs(term) < 1e-17)
                {
                    break;
                }
            }

            result = TwoOverSquareRootOfPi * sum;
        }
        else if (z < 6)
        {
            // erfc z = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))), evaluated from the tail.
            double tail = z;
            for (int k = 160; k >= 1; k--)
            {
                tail = z + (k * 0.5 / tail);
            }

            result = 1 - (Exp(-z * z) * OneOverSquareRootOfPi / tail);
        }
        else
        {
            result = 1;
        }

        return x < 0 ? -result : result;
    }

    /// <summary>Exact GELU, x·Φ(x) = x/2 · (1 + erf(x/√2)) (Hendrycks &amp; Gimpel 2016), the function the model's float path uses.</summary>
    public static double Gelu(double x)
    {
        return 0.5 * x * (1 + Erf(x * 0.7071067811865476));
    }

    /// <summary>√x by Newton's method from an exponent-halved start; exact to the last bit or one below.</summary>
    public static double SquareRoot(double x)
    {
        if (x < 0 || double.IsNaN(x))
        {
            throw new System.ArgumentOutOfRangeException(nameof(x), "Square root of a negative number " + x.ToString() + ".");
        }

        if (x == 0 || double.IsInfinity(x))
        {
            return x;
        }

        long bits = System.BitConverter.DoubleToInt64Bits(x);
        double guess = System.BitConverter.Int64BitsToDouble((bits >> 1) + (1023L << 51));
        for (int i = 0; i < 8; i++)
        {
            guess = 0.5 * (guess + (x / guess));
        }

        return guess;
    }

    /// <summary>⌊√value⌋ for a non-negative 64-bit integer, bit by bit (no floating point).</summary>
    public static long IntegerSquareRoot(long value)
    {
        if (value < 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(value), "Integer square root of a negative number " + value.ToString() + ".");
        }

        long remainder = value;
        long root = 0;
        long bit = 1L << 62;
        while (bit > remainder)
        {
            bit >>= 2;
        }

        while (bit != 0)
        {
            if (remainder >= root + bit)
            {
                remainder -= root + bit;
                root = (root >> 1) + bit;
            }
            else
            {
                root >>= 1;
            }

            bit >>= 2;
        }

        return root;
    }

    /// <summary>value · 2^power through the exponent bits (value is a normal double near 1).</summary>
    private static double ScaleByPowerOfTwo(double value, int power)
    {
        double result = value;
        while (power > 1000)
        {
            result *= 8.98846567431158E307;
            power -= 1023;
        }

        while (power < -1000)
        {
            result *= 1.1125369292536007E-308;
            power += 1022;
        }

        return result * System.BitConverter.Int64BitsToDouble((long)(power + 1023) << 52);
    }
}
