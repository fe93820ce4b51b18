namespace EdgeLam.Firmware.Memory;

/// <summary>Dimensions of one stage of the tiny ViT, enough to plan its buffers and count its multiply-accumulates.</summary>
public sealed class StageShape
{
    /// <summary>A stage shape; every dimension must be positive and heads must divide the model width.</summary>
    public StageShape(string stageId, StageKind kind, int tokens, int modelDim, int heads, int mlpDim, int patchDim, int classes)
    {
        if (stageId == null || stageId.Length == 0)
        {
            throw new System.ArgumentException("A stage needs an id.", nameof(stageId));
        }

        if (tokens <= 0 || modelDim <= 0 || heads <= 0 || mlpDim <= 0 || patchDim <= 0 || classes <= 0 || modelDim % heads != 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(tokens), "Stage " + stageId + " has an invalid shape: tokens " + tokens.ToString() + ", model " + modelDim.ToString() + ", heads " + heads.ToString() + ", mlp " + mlpDim.ToString() + ", patch " + patchDim.ToString() + ", classes " + classes.ToString() + ".");
        }

        StageId = stageId;
        Kind = kind;
        Tokens = tokens;
        ModelDim = modelDim;
        Heads = heads;
        MlpDim = mlpDim;
        PatchDim = patchDim;
        Classes = classes;
    }

    /// <summary>Stage id on the wire: embed, block{i} or head.</summary>
    public string StageId { get; }

    /// <summary>Kind of the stage.</summary>
    public StageKind Kind { get; }

    /// <summary>Tokens per image (patches).</summary>
    public int Tokens { get; }

    /// <summary>Token width.</summary>
    public int ModelDim { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Hidden width of the MLP.</summary>
    public int MlpDim { get; }

    /// <summary>Pixels per patch.</summary>
    public int PatchDim { get; }

    /// <summary>Classes of the head.</summary>
    public int Classes { get; }

    /// <summary>Elements of one image's stage input.</summary>
    public int InputLength => Kind == StageKind.Embedding ? Tokens * PatchDim : Tokens * ModelDim;

    /// <summary>Elements of one image's stage output.</summary>
    public int OutputLength => Kind == StageKind.Head ? Classes : Tokens * ModelDim;

    /// <summary>Multiply-accumulates of one image through the stage (dense layers and attention products).</summary>
    public long MultiplyAccumulates
    {
        get
        {
            long t = Tokens;
            long d = ModelDim;
            switch (Kind)
            {
                case StageKind.Embedding:
                    return t * PatchDim * d;
                case StageKind.Block:
                    // q, k, v, o projections, QKᵀ and PV over all heads, and the two MLP layers.
                    return (4 * t * d * d) + (2 * t * t * d) + (2 * t * d * MlpDim);
                default:
                    return d * Classes;
            }
        }
    }
}
