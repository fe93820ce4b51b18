using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Stages;

namespace EdgeLam.Gateway.Inference;

/// <summary>
/// The firmware's static memory plan (<see cref="DeviceMemoryPlan"/>) as the gateway sees an L-tier device from its
/// hello: a stage blob is admitted when the device would admit it. The firmware holds one variant per stage (a
/// second deployment of a stage replaces the first), so a stage already planned is not admitted again.
/// </summary>
public static class McuMemory
{
    /// <summary>An empty plan against the RAM and flash the device announced.</summary>
    public static DeviceMemoryPlan PlanFor(DeviceHello device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new DeviceMemoryPlan(new MemoryBudget(device.BoardId, device.MemoryBytes, Math.Max(1, device.FlashBytes), 1));
    }

    /// <summary>Admits an INT8 stage blob into the plan; false when it is no firmware blob, its stage is planned already, or it does not fit.</summary>
    public static bool TryAdmit(DeviceMemoryPlan plan, byte[] artifact)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(artifact);
        Int8StageBlob blob;
        try
        {
            blob = Int8StageBlob.Decode(artifact);
        }
        catch (Exception exception) when (exception is WireFormatException or ArgumentException)
        {
            return false;
        }

        for (var i = 0; i < plan.Count; i++)
        {
            if (plan.Get(i).Shape.StageId == blob.Shape.StageId) return false;
        }

        try
        {
            plan.Admit(StageMemoryPlan.ForInt8(blob.Shape, artifact.Length));
            return true;
        }
        catch (MemoryBudgetExceededException)
        {
            return false;
        }
    }
}
