namespace EdgeLam.Firmware.Memory;

/// <summary>
/// The device's whole memory plan: the deployed stages keep their weights resident, and one task runs at a time,
/// so the peak RAM is all resident weights plus the largest activation arena and scratch of any one stage.
/// Stored blobs must fit the flash. A stage that would break either limit is refused before it is loaded.
/// </summary>
public sealed class DeviceMemoryPlan
{
    private StageMemoryPlan[] stages = new StageMemoryPlan[0];

    /// <summary>An empty plan against a budget.</summary>
    public DeviceMemoryPlan(MemoryBudget budget)
    {
        if (budget == null)
        {
            throw new System.ArgumentNullException(nameof(budget));
        }

        Budget = budget;
    }

    /// <summary>The board's budget.</summary>
    public MemoryBudget Budget { get; }

    /// <summary>Deployed stages.</summary>
    public int Count => stages.Length;

    /// <summary>Peak RAM of the current deployments.</summary>
    public long PeakRamBytes => PeakOf(stages);

    /// <summary>Stored blob bytes of the current deployments.</summary>
    public long StorageBytes => StorageOf(stages);

    /// <summary>The deployed stage at an index.</summary>
    public StageMemoryPlan Get(int index)
    {
        return stages[index];
    }

    /// <summary>Throws <see cref="MemoryBudgetExceededException"/> unless the stage fits next to the deployed ones (replacing one of the same id).</summary>
    public void CheckFits(StageMemoryPlan stage)
    {
        StageMemoryPlan[] candidate = With(stage);
        long peak = PeakOf(candidate);
        if (stage.PeakBytes > Budget.ModelRamBytes)
        {
            throw new MemoryBudgetExceededException("stage " + stage.Shape.StageId + " int8 needs " + MemoryBudget.Kibibytes(stage.PeakBytes) + " RAM, board " + Budget.BoardId + " allows " + MemoryBudget.Kibibytes(Budget.ModelRamBytes), stage.PeakBytes, Budget.ModelRamBytes);
        }

        if (peak > Budget.ModelRamBytes)
        {
            throw new MemoryBudgetExceededException("stage " + stage.Shape.StageId + " int8 with " + (candidate.Length - 1).ToString() + " deployed stages needs " + MemoryBudget.Kibibytes(peak) + " RAM, board " + Budget.BoardId + " allows " + MemoryBudget.Kibibytes(Budget.ModelRamBytes), peak, Budget.ModelRamBytes);
        }

        long storage = StorageOf(candidate);
        if (storage > Budget.StorageBytes)
        {
            throw new MemoryBudgetExceededException("stage " + stage.Shape.StageId + " int8 brings stored blobs to " + MemoryBudget.Kibibytes(storage) + ", board " + Budget.BoardId + " stores " + MemoryBudget.Kibibytes(Budget.StorageBytes), storage, Budget.StorageBytes);
        }
    }

    /// <summary>Checks and records a deployment.</summary>
    public void Admit(StageMemoryPlan stage)
    {
        CheckFits(stage);
        stages = With(stage);
    }

    /// <summary>Forgets a stage; false when it was not deployed.</summary>
    public bool Remove(string stageId)
    {
        int index = IndexOf(stages, stageId);
        if (index < 0)
        {
            return false;
        }

        var kept = new StageMemoryPlan[stages.Length - 1];
        System.Array.Copy(stages, 0, kept, 0, index);
        System.Array.Copy(stages, index + 1, kept, index, stages.Length - index - 1);
        stages = kept;
        return true;
    }

    /// <summary>Throws unless a training plan of that many bytes fits the training budget.</summary>
    public void CheckTrainingFits(string what, long neededBytes)
    {
        if (neededBytes > Budget.TrainingRamBytes)
        {
            throw new MemoryBudgetExceededException(what + " needs " + MemoryBudget.Kibibytes(neededBytes) + " RAM, board " + Budget.BoardId + " allows " + MemoryBudget.Kibibytes(Budget.TrainingRamBytes) + " for training", neededBytes, Budget.TrainingRamBytes);
        }
    }

    private StageMemoryPlan[] With(StageMemoryPlan stage)
    {
        if (stage == null)
        {
            throw new System.ArgumentNullException(nameof(stage));
        }

        int index = IndexOf(stages, stage.Shape.StageId);
        StageMemoryPlan[] result;
        if (index >= 0)
        {
            result = (StageMemoryPlan[])stages.Clone();
            result[index] = stage;
            return result;
        }

        result = new StageMemoryPlan[stages.Length + 1];
        System.Array.Copy(stages, result, stages.Length);
        result[stages.Length] = stage;
        return result;
    }

    private static int IndexOf(StageMemoryPlan[] plans, string stageId)
    {
        for (int i = 0; i < plans.Length; i++)
        {
            if (plans[i].Shape.StageId == stageId)
            {
                return i;
            }
        }

        return -1;
    }

    private static long PeakOf(StageMemoryPlan[] plans)
    {
        long resident = 0;
        long largestWorkingSet = 0;
        for (int i = 0; i < plans.Length; i++)
        {
            resident += plans[i].WeightBytes;
            long working = plans[i].ActivationBytes + plans[i].ScratchBytes;
            largestWorkingSet = working > largestWorkingSet ? working : largestWorkingSet;
        }

        return resident + largestWorkingSet;
    }

    private static long StorageOf(StageMemoryPlan[] plans)
    {
        long total = 0;
        for (int i = 0; i < plans.Length; i++)
        {
            total += plans[i].BlobBytes;
        }

        return total;
    }
}
