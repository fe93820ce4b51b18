using EdgeLam.Contracts.Wire;

namespace EdgeLam.Firmware.Training;

/// <summary>
/// Rank-r LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") of one projection of the last
/// encoder block — ΔW = (α/r)·B·A, A [r, in] random, B [out, r] zero — trained in float32 on the device through the
/// frozen head (LayerNorm, mean over tokens, linear) with softmax cross-entropy and SGD with momentum. Everything
/// before the projection is frozen and comes from <see cref="ITrainingShard"/>. No allocation per step.
/// </summary>
public sealed class LoraProjectionTrainer
{
    private readonly FrozenHead head;
    private readonly int tokens;
    private readonly float scaling;
    private readonly float[] a;
    private readonly float[] b;
    private readonly float[] gradientA;
    private readonly float[] gradientB;
    private readonly float[] velocityA;
    private readonly float[] velocityB;
    private readonly float[] hidden;
    private readonly float[] output;
    private readonly float[] lowRank;
    private readonly float[] normalized;
    private readonly float[] inverseDeviation;
    private readonly float[] pooled;
    private readonly float[] logits;
    private readonly float[] outputGradient;
    private readonly float[] lowRankGradient;

    /// <summary>A trainer for a projection in → out of a block with tokens tokens, seeded initialization of A.</summary>
    public LoraProjectionTrainer(int layer, string projection, int inFeatures, int outFeatures, int tokens, int rank, float alpha, FrozenHead head, int seed)
    {
        if (head == null)
        {
            throw new System.ArgumentNullException(nameof(head));
        }

        if (rank < 1 || inFeatures < 1 || outFeatures != head.ModelDim || tokens < 1)
        {
            throw new System.ArgumentOutOfRangeException(nameof(rank), "LoRA needs rank ≥ 1, in ≥ 1, tokens ≥ 1 and out equal to the head width " + head.ModelDim.ToString() + ".");
        }

        Layer = layer;
        Projection = projection;
        In = inFeatures;
        Out = outFeatures;
        Rank = rank;
        this.tokens = tokens;
        this.head = head;
        scaling = alpha / rank;
        a = new float[rank * inFeatures];
        b = new float[outFeatures * rank];
        gradientA = new float[a.Length];
        gradientB = new float[b.Length];
        velocityA = new float[a.Length];
        velocityB = new float[b.Length];
        hidden = new float[tokens * inFeatures];
        output = new float[tokens * outFeatures];
        lowRank = new float[tokens * rank];
        normalized = new float[tokens * outFeatures];
        inverseDeviation = new float[tokens];
        pooled = new float[outFeatures];
        logits = new float[head.Classes];
        outputGradient = new float[tokens * outFeatures];
        lowRankGradient = new float[tokens * rank];

        // Kaiming-uniform-like A in ±1/√in from a xorshift32 stream, B zero: the adapter starts as the identity change.
        uint state = (uint)seed * 2654435761u + 1u;
        float bound = 1f / FloatMath.SquareRoot(inFeatures);
        for (int i = 0; i < a.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            a[i] = ((state / 4294967296f * 2f) - 1f) * bound;
        }
    }

    /// <summary>Encoder layer adapted.</summary>
    public int Layer { get; }

    /// <summary>Projection adapted (e.g. "fc2").</summary>
    public string Projection { get; }

    /// <summary>Input features of the projection.</summary>
    public int In { get; }

    /// <summary>Output features of the projection.</summary>
    public int Out { get; }

    /// <summary>LoRA rank.</summary>
    public int Rank { get; }

    /// <summary>Factor A [rank, in].</summary>
    public float[] A => a;

    /// <summary>Factor B [out, rank].</summary>
    public float[] B => b;

    /// <summary>Bytes of training state: factors, gradients, momentum and the per-example activation buffers.</summary>
    public long TrainingStateBytes => 4L * ((3L * a.Length) + (3L * b.Length) + hidden.Length + output.Length + lowRank.Length + normalized.Length + outputGradient.Length + lowRankGradient.Length + inverseDeviation.Length + pooled.Length + logits.Length);

    /// <summary>Multiply-accumulates of one training example (forward and backward of the adapter and head).</summary>
    public long MultiplyAccumulatesPerExample => (long)tokens * ((3L * Rank * (In + Out)) + (4L * Out)) + (2L * Out * head.Classes);

    /// <summary>Mean cross-entropy over the examples at the indices, without updating.</summary>
    public float Loss(ITrainingShard shard, int[] indices)
    {
        float total = 0f;
        for (int i = 0; i < indices.Length; i++)
        {
            total += Forward(shard, indices[i]);
        }

        return total / indices.Length;
    }

    /// <summary>Share of the examples at the indices whose arg-max logit is their label.</summary>
    public float Accuracy(ITrainingShard shard, int[] indices)
    {
        int correct = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            Forward(shard, indices[i]);
            int best = 0;
            for (int c = 1; c < logits.Length; c++)
            {
                best = logits[c] > logits[best] ? c : best;
            }

            correct += best == shard.LabelOf(indices[i]) ? 1 : 0;
        }

        return (float)correct / indices.Length;
    }

    /// <summary>One SGD-with-momentum step on a batch; returns the batch's mean loss before the step.</summary>
    public float Step(ITrainingShard shard, int[] batch, float learningRate, float momentum)
    {
        if (batch == null || batch.Length == 0)
        {
            throw new System.ArgumentException("A training step needs at least one example.", nameof(batch));
        }

        System.Array.Clear(gradientA, 0, gradientA.Length);
        System.Array.Clear(gradientB, 0, gradientB.Length);
        float total = 0f;
        for (int i = 0; i < batch.Length; i++)
        {
            total += Forward(shard, batch[i]);
            Backward(shard.LabelOf(batch[i]), 1f / batch.Length);
        }

        Update(a, gradientA, velocityA, learningRate, momentum);
        Update(b, gradientB, velocityB, learningRate, momentum);
        return total / batch.Length;
    }

    /// <summary>The factors as INT8 per-tensor symmetric frames named as the contract says (layers.{layer}.{projection}.a / .b).</summary>
    public void AddQuantizedFactors(TensorBundle bundle)
    {
        string prefix = "layers." + Layer.ToString() + "." + Projection + ".";
        bundle.Add(prefix + "a", LoraFactorQuantizer.ToInt8Frame(a, Rank, In));
        bundle.Add(prefix + "b", LoraFactorQuantizer.ToInt8Frame(b, Out, Rank));
    }

    private float Forward(ITrainingShard shard, int index)
    {
        shard.ActivationsOf(index, hidden, output);
        int d = Out;
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < Rank; r++)
            {
                float sum = 0f;
                for (int k = 0; k < In; k++)
                {
                    sum += a[(r * In) + k] * hidden[(t * In) + k];
                }

                lowRank[(t * Rank) + r] = sum;
            }

            for (int o = 0; o < d; o++)
            {
                float delta = 0f;
                for (int r = 0; r < Rank; r++)
                {
                    delta += b[(o * Rank) + r] * lowRank[(t * Rank) + r];
                }

                output[(t * d) + o] += scaling * delta;
            }
        }

        System.Array.Clear(pooled, 0, pooled.Length);
        for (int t = 0; t < tokens; t++)
        {
            float mean = 0f;
            for (int o = 0; o < d; o++)
            {
                mean += output[(t * d) + o];
            }

            mean /= d;
            float variance = 0f;
            for (int o = 0; o < d; o++)
            {
                float centered = output[(t * d) + o] - mean;
                variance += centered * centered;
            }

            float inverse = 1f / FloatMath.SquareRoot((variance / d) + 1e-5f);
            inverseDeviation[t] = inverse;
            for (int o = 0; o < d; o++)
            {
                float value = (output[(t * d) + o] - mean) * inverse;
                normalized[(t * d) + o] = value;
                pooled[o] += ((value * head.NormGamma[o]) + head.NormBeta[o]) / tokens;
            }
        }

        float largest = float.MinValue;
        for (int c = 0; c < head.Classes; c++)
        {
            float sum = head.Bias[c];
            for (int o = 0; o < d; o++)
            {
                sum += head.Weight[(c * d) + o] * pooled[o];
            }

            logits[c] = sum;
            largest = sum > largest ? sum : largest;
        }

        float partition = 0f;
        for (int c = 0; c < head.Classes; c++)
        {
            logits[c] = FloatMath.Exp(logits[c] - largest);
            partition += logits[c];
        }

        for (int c = 0; c < head.Classes; c++)
        {
            logits[c] /= partition;
        }

        int label = shard.LabelOf(index);
        float probability = logits[label] > 1e-30f ? logits[label] : 1e-30f;
        return -FloatMath.Log(probability);
    }

    private void Backward(int label, float weight)
    {
        int d = Out;

        // logits now hold softmax probabilities; dL/dz = p − onehot.
        for (int o = 0; o < d; o++)
        {
            float sum = 0f;
            for (int c = 0; c < head.Classes; c++)
            {
                float gradient = logits[c] - (c == label ? 1f : 0f);
                sum += head.Weight[(c * d) + o] * gradient;
            }

            pooled[o] = sum * weight / tokens * head.NormGamma[o];
        }

        // LayerNorm backward per token: dy = inv/d · (d·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)), with dx̂ the same for every token.
        for (int t = 0; t < tokens; t++)
        {
            float sumGradient = 0f;
            float sumProduct = 0f;
            for (int o = 0; o < d; o++)
            {
                sumGradient += pooled[o];
                sumProduct += pooled[o] * normalized[(t * d) + o];
            }

            for (int o = 0; o < d; o++)
            {
                outputGradient[(t * d) + o] = inverseDeviation[t] / d * ((d * pooled[o]) - sumGradient - (normalized[(t * d) + o] * sumProduct));
            }
        }

        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < Rank; r++)
            {
                float sum = 0f;
                for (int o = 0; o < d; o++)
                {
                    float gradient = outputGradient[(t * d) + o] * scaling;
                    gradientB[(o * Rank) + r] += gradient * lowRank[(t * Rank) + r];
                    sum += gradient * b[(o * Rank) + r];
                }

                lowRankGradient[(t * Rank) + r] = sum;
                for (int k = 0; k < In; k++)
                {
                    gradientA[(r * In) + k] += sum * hidden[(t * In) + k];
                }
            }
        }
    }

    private static void Update(float[] parameters, float[] gradients, float[] velocity, float learningRate, float momentum)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            velocity[i] = (momentum * velocity[i]) + gradients[i];
            parameters[i] -= learningRate * velocity[i];
        }
    }
}
