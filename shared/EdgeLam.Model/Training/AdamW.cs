namespace EdgeLam.Model.Training;

/// <summary>One trainable tensor, its gradient buffer, and whether weight decay applies to it.</summary>
public sealed record TrainableTensor(string Name, float[] Values, float[] Gradient, bool Decay);

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter 2019): θ ← θ − lr·(m̂/(√v̂ + ε) + λ·θ),
/// bias-corrected moments as in Kingma and Ba 2015.
/// </summary>
public sealed class AdamW
{
    private readonly IReadOnlyList<TrainableTensor> _tensors;
    private readonly float[][] _firstMoment;
    private readonly float[][] _secondMoment;

    public AdamW(IReadOnlyList<TrainableTensor> tensors, float weightDecay = 0.01f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (TrainableTensor tensor in tensors)
        {
            if (tensor.Values.Length != tensor.Gradient.Length)
                throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Values.Length} values but {tensor.Gradient.Length} gradients.", nameof(tensors));
        }
        _tensors = tensors;
        WeightDecay = weightDecay;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _firstMoment = tensors.Select(t => new float[t.Values.Length]).ToArray();
        _secondMoment = tensors.Select(t => new float[t.Values.Length]).ToArray();
    }

    public float WeightDecay { get; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public int StepCount { get; private set; }

    /// <summary>Applies one update from the current gradients.</summary>
    public void Step(float learningRate)
    {
        StepCount++;
        float correction1 = 1f - MathF.Pow(Beta1, StepCount);
        float correction2 = 1f - MathF.Pow(Beta2, StepCount);
        for (int t = 0; t < _tensors.Count; t++)
        {
            TrainableTensor tensor = _tensors[t];
            float[] values = tensor.Values, gradient = tensor.Gradient, m = _firstMoment[t], v = _secondMoment[t];
            float decay = tensor.Decay ? WeightDecay : 0f;
            for (int i = 0; i < values.Length; i++)
            {
                float g = gradient[i];
                m[i] = (Beta1 * m[i]) + ((1f - Beta1) * g);
                v[i] = (Beta2 * v[i]) + ((1f - Beta2) * g * g);
                float update = (m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + Epsilon);
                values[i] -= learningRate * (update + (decay * values[i]));
            }
        }
    }

    /// <summary>Scales all gradients so that their joint L2 norm is at most <paramref name="maximumNorm"/>; returns the norm before.</summary>
    public double ClipGradientNorm(float maximumNorm)
    {
        double squared = 0;
        foreach (TrainableTensor tensor in _tensors)
            squared += System.Numerics.Tensors.TensorPrimitives.Dot(tensor.Gradient, tensor.Gradient);
        double norm = Math.Sqrt(squared);
        if (norm > maximumNorm && norm > 0)
        {
            float scale = (float)(maximumNorm / norm);
            foreach (TrainableTensor tensor in _tensors)
                System.Numerics.Tensors.TensorPrimitives.Multiply(tensor.Gradient, scale, tensor.Gradient);
        }
        return norm;
    }
}
