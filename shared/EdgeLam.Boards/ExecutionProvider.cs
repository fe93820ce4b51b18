namespace EdgeLam.Boards;

/// <summary>An ONNX Runtime execution provider; the JSON spells it "cpu" or "cuda".</summary>
public enum ExecutionProvider
{
    Cpu,
    Cuda,
}
