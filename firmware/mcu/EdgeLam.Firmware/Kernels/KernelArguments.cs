namespace EdgeLam.Firmware.Kernels;

/// <summary>Argument checks shared by the kernels' Eval entry points (no allocation on success).</summary>
public static class KernelArguments
{
    /// <summary>Throws unless buffer holds rows·columns values from offset.</summary>
    public static void CheckTensor(sbyte[] buffer, int offset, int rows, int columns, string name)
    {
        if (buffer == null)
        {
            throw new System.ArgumentNullException(name);
        }

        if (rows < 0 || offset < 0 || (long)offset + ((long)rows * columns) > buffer.Length)
        {
            throw new System.ArgumentOutOfRangeException(name, "Tensor '" + name + "' needs " + rows.ToString() + "x" + columns.ToString() + " values from offset " + offset.ToString() + " but holds " + buffer.Length.ToString() + ".");
        }
    }
}
