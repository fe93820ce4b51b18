using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Training;

/// <summary>Softmax cross-entropy over class logits.</summary>
public static class CrossEntropy
{
    /// <summary>
    /// Returns Σ −log softmax(logits)[label] over the rows and writes d(loss / <paramref name="normalizer"/>)/dlogits
    /// = (softmax − onehot) / normalizer into <paramref name="logitGradient"/>.
    /// </summary>
    public static double LossAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, int rows, int classes, float normalizer, Span<float> logitGradient)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if (label >= classes)
                throw new ArgumentException($"Label {label} is outside the {classes} classes.", nameof(labels));
            Span<float> gradient = logitGradient.Slice(r * classes, classes);
            logits.Slice(r * classes, classes).CopyTo(gradient);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(gradient);
            double logSumExp = 0;
            for (int c = 0; c < classes; c++)
                logSumExp += Math.Exp(gradient[c] - max);
            logSumExp = Math.Log(logSumExp) + max;
            total += logSumExp - logits[(r * classes) + label];
            MultiHeadAttention.Softmax(gradient);
            gradient[label] -= 1f;
            System.Numerics.Tensors.TensorPrimitives.Multiply(gradient, 1f / normalizer, gradient);
        }
        return total;
    }
}
