using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Persistence;

namespace EdgeLam.Gateway.Training.Rounds;

/// <summary>Turns a round's instructions into stored assignment rows and back, so a restarted gateway re-sends exactly what it sent.</summary>
public static class RoundPlanCodec
{
    private sealed record StoredInstruction(int Rank, int[] Layers, Precision Precision, int LocalSteps, double LearningRate, int BatchSize, float LoraAlpha, bool TrainsFullModel);

    public static AssignmentRecord ToRecord(TrainingInstruction instruction)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        var stored = new StoredInstruction(instruction.Rank, [.. instruction.Layers], instruction.Precision, instruction.LocalSteps,
            instruction.LearningRate, instruction.BatchSize, instruction.LoraAlpha, instruction.TrainsFullModel);
        return new AssignmentRecord(instruction.DeviceId, JsonSerializer.Serialize(stored), ModelParametersCodec.Encode(instruction.StartFrom));
    }

    public static TrainingInstruction FromRecord(AssignmentRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var stored = JsonSerializer.Deserialize<StoredInstruction>(record.InstructionJson)
            ?? throw new InvalidDataException($"stored assignment of {record.DeviceId} is empty");
        var (startFrom, _) = ModelParametersCodec.Decode(record.StartFrom);
        return new TrainingInstruction(record.DeviceId, stored.Rank, stored.Layers, stored.Precision, stored.LocalSteps, stored.LearningRate,
            stored.BatchSize, stored.LoraAlpha, stored.TrainsFullModel, startFrom);
    }
}
