namespace EdgeLam.Firmware.Memory;

/// <summary>A deployment or training plan does not fit the board; the message gives both numbers.</summary>
public class MemoryBudgetExceededException : System.Exception
{
    /// <summary>A refusal with the needed and allowed bytes.</summary>
    public MemoryBudgetExceededException(string message, long neededBytes, long allowedBytes)
        : base(message)
    {
        NeededBytes = neededBytes;
        AllowedBytes = allowedBytes;
    }

    /// <summary>A refusal without numbers.</summary>
    public MemoryBudgetExceededException()
        : base("memory budget exceeded")
    {
    }

    /// <summary>A refusal with a message.</summary>
    public MemoryBudgetExceededException(string message)
        : base(message)
    {
    }

    /// <summary>A refusal caused by another error.</summary>
    public MemoryBudgetExceededException(string message, System.Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Bytes the plan needs.</summary>
    public long NeededBytes { get; }

    /// <summary>Bytes the board allows.</summary>
    public long AllowedBytes { get; }
}
