namespace EdgeLam.Boards;

/// <summary>Numeric precision of a model variant; the JSON spells it "fp32", "fp16" or "int8".</summary>
public enum NumericPrecision
{
    Fp32,
    Fp16,
    Int8,
}
