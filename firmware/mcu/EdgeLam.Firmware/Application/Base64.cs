namespace EdgeLam.Firmware.Application;

/// <summary>Strict RFC 4648 base64 decoding of inline deployments; a bad character or length is a clear error.</summary>
public static class Base64
{
    /// <summary>Decodes padded base64; throws <see cref="System.FormatException"/> naming the first defect.</summary>
    public static byte[] Decode(string text)
    {
        if (text == null || text.Length % 4 != 0)
        {
            throw new System.FormatException("base64 text must be a multiple of 4 characters long.");
        }

        int padding = text.Length == 0 ? 0 : text[text.Length - 1] != '=' ? 0 : text[text.Length - 2] == '=' ? 2 : 1;
        var result = new byte[(text.Length / 4 * 3) - padding];
        int written = 0;
        for (int i = 0; i < text.Length; i += 4)
        {
            int quad = 0;
            for (int j = 0; j < 4; j++)
            {
                char c = text[i + j];
                int value = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : c == '=' && i + j >= text.Length - padding ? 0 : -1;
                if (value < 0)
                {
                    throw new System.FormatException("base64 character '" + c + "' at " + (i + j).ToString() + " is not allowed.");
                }

                quad = (quad << 6) | value;
            }

            for (int shift = 16; shift >= 0 && written < result.Length; shift -= 8)
            {
                result[written++] = (byte)(quad >> shift);
            }
        }

        return result;
    }
}
