namespace EdgeLam.Firmware.Training;

/// <summary>Single-precision helpers without System.Math (nanoFramework's mscorlib has none; the ESP32 FPU is single precision).</summary>
public static class FloatMath
{
    /// <summary>e^x by range reduction x = k·ln2 + r and a degree-6 Taylor polynomial of e^r, |r| ≤ ln2/2.</summary>
    public static float Exp(float x)
    {
        if (x < -87f)
        {
            return 0f;
        }

        if (x > 88f)
        {
            return float.MaxValue;
        }

        const float Ln2 = 0.693147181f;
        int k = (int)((x / Ln2) + (x >= 0 ? 0.5f : -0.5f));
        float r = x - (k * Ln2);
        float p = 1f + (r * (1f + (r * (0.5f + (r * (1f / 6f + (r * (1f / 24f + (r * (1f / 120f + (r / 720f)))))))))));
        float scale = 1f;
        float factor = k >= 0 ? 2f : 0.5f;
        int steps = k >= 0 ? k : -k;
        for (int i = 0; i < steps; i++)
        {
            scale *= factor;
        }

        return p * scale;
    }

    /// <summary>Natural logarithm of a positive value by Newton steps on Exp.</summary>
    public static float Log(float x)
    {
        if (!(x > 0))
        {
            throw new System.ArgumentOutOfRangeException(nameof(x), "Log needs a positive value, got " + x.ToString() + ".");
        }

        // Start from the binary exponent, then Newton: y ← y + 2(x − e^y)/(x + e^y).
        float y = 0f;
        float m = x;
        while (m > 2f)
        {
            m *= 0.5f;
            y += 0.693147181f;
        }

        while (m < 0.5f)
        {
            m *= 2f;
            y -= 0.693147181f;
        }

        for (int i = 0; i < 6; i++)
        {
            float e = Exp(y);
            y += 2f * (x - e) / (x + e);
        }

        return y;
    }

    /// <summary>Square root by Newton iteration.</summary>
    public static float SquareRoot(float x)
    {
        if (x <= 0)
        {
            return 0f;
        }

        float y = x > 1f ? x : 1f;
        for (int i = 0; i < 40; i++)
        {
            float next = 0.5f * (y + (x / y));
            if (next == y)
            {
                break;
            }

            y = next;
        }

        return y;
    }
}
