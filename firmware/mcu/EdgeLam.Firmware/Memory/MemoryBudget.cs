namespace EdgeLam.Firmware.Memory;

/// <summary>What a board allows the model, from its profile (hardware/boards/*.json, memory.*).</summary>
public sealed class MemoryBudget
{
    /// <summary>A budget in bytes; every figure must be positive.</summary>
    public MemoryBudget(string boardId, long modelRamBytes, long storageBytes, long trainingRamBytes)
    {
        if (boardId == null || boardId.Length == 0)
        {
            throw new System.ArgumentException("A budget names its board.", nameof(boardId));
        }

        if (modelRamBytes <= 0 || storageBytes <= 0 || trainingRamBytes <= 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(modelRamBytes), "Board " + boardId + " memory budgets must be positive.");
        }

        BoardId = boardId;
        ModelRamBytes = modelRamBytes;
        StorageBytes = storageBytes;
        TrainingRamBytes = trainingRamBytes;
    }

    /// <summary>Board profile id.</summary>
    public string BoardId { get; }

    /// <summary>RAM for deployed stages (memory.modelBudgetBytes).</summary>
    public long ModelRamBytes { get; }

    /// <summary>Flash (or PSRAM) that stores stage blobs (memory.flashBytes).</summary>
    public long StorageBytes { get; }

    /// <summary>RAM for LoRA training (memory.trainingBudgetBytes).</summary>
    public long TrainingRamBytes { get; }

    /// <summary>Bytes as whole KiB rounded up, e.g. "412 KiB"; below 10 KiB as exact bytes, e.g. "1010 bytes".</summary>
    public static string Kibibytes(long bytes)
    {
        return bytes < 10240 ? bytes.ToString() + " bytes" : ((bytes + 1023) / 1024).ToString() + " KiB";
    }
}
