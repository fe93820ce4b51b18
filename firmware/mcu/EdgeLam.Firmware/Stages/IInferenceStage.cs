using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Memory;

namespace EdgeLam.Firmware.Stages;

/// <summary>A loaded stage variant that turns one input frame into one output frame.</summary>
public interface IInferenceStage
{
    /// <summary>Shape of the stage.</summary>
    StageShape Shape { get; }

    /// <summary>Static buffer plan of the stage.</summary>
    StageMemoryPlan MemoryPlan { get; }

    /// <summary>
    /// Runs images through the stage. The input is float32 or per-tensor int8 with the stage's input length per image
    /// (leading batch dimension optional); the output is per-tensor int8.
    /// </summary>
    TensorFrame Run(TensorFrame frame);
}
