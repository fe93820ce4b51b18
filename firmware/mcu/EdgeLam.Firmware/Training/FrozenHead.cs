namespace EdgeLam.Firmware.Training;

/// <summary>The frozen classifier head in float: LayerNorm per token (ε = 1e-5), mean over tokens, linear [classes, d].</summary>
public sealed class FrozenHead
{
    /// <summary>Copies nothing: the arrays are the base model's.</summary>
    public FrozenHead(int modelDim, int classes, float[] normGamma, float[] normBeta, float[] weight, float[] bias)
    {
        if (normGamma == null || normBeta == null || weight == null || bias == null
            || normGamma.Length != modelDim || normBeta.Length != modelDim || weight.Length != modelDim * classes || bias.Length != classes)
        {
            throw new System.ArgumentException("The head needs gamma and beta [" + modelDim.ToString() + "], weight [" + classes.ToString() + ", " + modelDim.ToString() + "] and bias [" + classes.ToString() + "].", nameof(weight));
        }

        ModelDim = modelDim;
        Classes = classes;
        NormGamma = normGamma;
        NormBeta = normBeta;
        Weight = weight;
        Bias = bias;
    }

    /// <summary>Token width.</summary>
    public int ModelDim { get; }

    /// <summary>Classes.</summary>
    public int Classes { get; }

    /// <summary>LayerNorm scale.</summary>
    public float[] NormGamma { get; }

    /// <summary>LayerNorm shift.</summary>
    public float[] NormBeta { get; }

    /// <summary>Classifier weights [classes, d].</summary>
    public float[] Weight { get; }

    /// <summary>Classifier bias.</summary>
    public float[] Bias { get; }
}
