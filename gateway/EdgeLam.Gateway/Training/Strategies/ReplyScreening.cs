using EdgeLam.Gateway.Training.Aggregation;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>
/// Checks replies before any averaging, so that one malformed or diverged device (wrong shape,
/// NaN/infinity, an update norm above the bound, a second reply) is rejected with a reason instead of
/// poisoning the aggregate.
/// </summary>
public static class ReplyScreening
{
    /// <summary>Relative tolerance when checking a reply's LoRA scale against alpha / rank.</summary>
    public const double ScaleTolerance = 1e-5;

    public static (IReadOnlyList<TrainingReply> Accepted, IReadOnlyList<RejectedReply> Rejected) ScreenAdapters(
        RoundContext context, IReadOnlyList<TrainingReply> replies)
    {
        var accepted = new List<TrainingReply>();
        var rejected = new List<RejectedReply>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reply in replies)
        {
            var reason = CommonProblem(reply, seen) ?? AdapterProblem(context, reply) ?? AdapterNormProblem(context, reply);
            if (reason is null)
                accepted.Add(reply);
            else
                rejected.Add(new RejectedReply(reply?.DeviceId ?? "", reason));
        }
        return (accepted, rejected);
    }

    public static (IReadOnlyList<TrainingReply> Accepted, IReadOnlyList<RejectedReply> Rejected) ScreenFullWeights(
        RoundContext context, IReadOnlyList<TrainingReply> replies)
    {
        var accepted = new List<TrainingReply>();
        var rejected = new List<RejectedReply>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Tensor lengths come from the model layout, else the global model, else the first reply that carries the tensor.
        var expectedLengths = context.Global.Parameters.FullWeights.ToDictionary(w => w.Key, w => w.Value.Length, StringComparer.Ordinal);
        foreach (var (name, shape) in context.Layout.WeightShapes)
            expectedLengths[name] = shape.Aggregate(1, (product, dim) => product * dim);
        foreach (var reply in replies)
        {
            var reason = CommonProblem(reply, seen) ?? FullWeightProblem(context, reply, expectedLengths) ?? FullWeightNormProblem(context, reply);
            if (reason is null)
            {
                accepted.Add(reply);
                foreach (var (name, weights) in reply.Trained.FullWeights)
                    expectedLengths.TryAdd(name, weights.Length);
            }
            else
            {
                rejected.Add(new RejectedReply(reply?.DeviceId ?? "", reason));
            }
        }
        return (accepted, rejected);
    }

    private static string? CommonProblem(TrainingReply? reply, HashSet<string> seen)
    {
        if (reply is null)
            return "The reply is missing.";
        if (string.IsNullOrWhiteSpace(reply.DeviceId))
            return "The reply names no device.";
        if (!seen.Add(reply.DeviceId))
            return $"Device {reply.DeviceId} replied more than once in this round; only its first reply is used.";
        if (reply.ExampleCount <= 0)
            return $"Device {reply.DeviceId} reports {reply.ExampleCount} training examples; FedAvg weights must be positive.";
        if (reply.UplinkBytes < 0)
            return $"Device {reply.DeviceId} reports {reply.UplinkBytes} uplink bytes.";
        if (reply.Trained is null)
            return $"Device {reply.DeviceId} sent no parameters.";
        return null;
    }

    private static string? AdapterProblem(RoundContext context, TrainingReply reply)
    {
        var trained = reply.Trained;
        if (trained.FullWeights.Count > 0)
            return $"Device {reply.DeviceId} sent full model weights; this strategy aggregates LoRA adapters.";
        if (trained.Adapters.Count == 0)
            return $"Device {reply.DeviceId} sent no adapters.";
        foreach (var (name, factors) in trained.Adapters)
        {
            if (!context.Layout.TryGet(name, out var projection))
                return $"Device {reply.DeviceId} sent adapter {name}, which is not an adapted projection of the model.";
            if (factors is null)
                return $"Device {reply.DeviceId} sent an empty entry for {name}.";
            if (factors.InFeatures != projection.InFeatures || factors.OutFeatures != projection.OutFeatures)
                return $"Device {reply.DeviceId}: {name} is {factors.OutFeatures}x{factors.InFeatures}, the model's is {projection.OutFeatures}x{projection.InFeatures}.";
            if (factors.Rank < 1)
                return $"Device {reply.DeviceId}: {name} has rank {factors.Rank}; a trained adapter has rank at least 1.";
            if (factors.ValidationError(name) is { } error)
                return $"Device {reply.DeviceId}: {error}";
            var expectedScale = context.Hyperparameters.LoraAlpha / factors.Rank;
            if (Math.Abs(factors.Scale - expectedScale) > ScaleTolerance * expectedScale)
                return $"Device {reply.DeviceId}: {name} has scale {factors.Scale}, alpha {context.Hyperparameters.LoraAlpha} / rank {factors.Rank} is {expectedScale}.";
        }
        return null;
    }

    /// <summary>‖Σ_p s·B_p·A_p‖ over the reply's projections, against the round's bound.</summary>
    private static string? AdapterNormProblem(RoundContext context, TrainingReply reply)
    {
        var norm = Math.Sqrt(reply.Trained.Adapters.Values.Sum(f => Math.Pow(LowRankNorm.Frobenius(f), 2)));
        var bound = context.Hyperparameters.MaximumUpdateNorm;
        return norm <= bound ? null
            : $"Device {reply.DeviceId}: adapter update norm {norm:G4} exceeds the bound {bound:G4}.";
    }

    /// <summary>‖w − w_global‖ over the tensors the global model already holds (devices start round 1 from the base they hold).</summary>
    private static string? FullWeightNormProblem(RoundContext context, TrainingReply reply)
    {
        var global = context.Global.Parameters.FullWeights;
        var squared = 0.0;
        foreach (var (name, weights) in reply.Trained.FullWeights)
        {
            if (!global.TryGetValue(name, out var reference) || reference.Length != weights.Length)
                continue;
            for (var i = 0; i < weights.Length; i++)
                squared += Math.Pow((double)weights[i] - reference[i], 2);
        }
        var norm = Math.Sqrt(squared);
        var bound = context.Hyperparameters.MaximumUpdateNorm;
        return norm <= bound ? null
            : $"Device {reply.DeviceId}: weight update norm {norm:G4} exceeds the bound {bound:G4}.";
    }

    private static string? FullWeightProblem(RoundContext context, TrainingReply reply, Dictionary<string, int> expectedLengths)
    {
        var trained = reply.Trained;
        if (trained.Adapters.Count > 0)
            return $"Device {reply.DeviceId} sent LoRA adapters; full-model FedAvg aggregates full weights.";
        if (trained.FullWeights.Count == 0)
            return $"Device {reply.DeviceId} sent no weights.";
        var shapes = context.Layout.WeightShapes;
        if (shapes.Count > 0 && shapes.Keys.FirstOrDefault(name => !trained.FullWeights.ContainsKey(name)) is { } missing)
            return $"Device {reply.DeviceId} sent {trained.FullWeights.Count} of the model's {shapes.Count} tensors; {missing} is missing and a full update carries every trainable weight.";
        foreach (var (name, weights) in trained.FullWeights)
        {
            if (weights is null)
                return $"Device {reply.DeviceId} sent an empty entry for {name}.";
            if (shapes.Count > 0 && !shapes.ContainsKey(name))
                return $"Device {reply.DeviceId} sent tensor {name}, which is not a weight of the model.";
            if (expectedLengths.TryGetValue(name, out var length) && weights.Length != length)
                return $"Device {reply.DeviceId}: {name} holds {weights.Length} values, expected {length}.";
            if (LoraFactors.FirstNonFinite(weights) is { } index)
                return $"Device {reply.DeviceId}: {name}[{index}] is {weights[index]}; non-finite values are not aggregated.";
        }
        return null;
    }
}
