using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;

namespace EdgeLam.Model.Tests.Lora;

public sealed class LoraAdapterSetTests
{
    private static readonly TinyVitConfig Config = TinyVitConfig.Tiny;

    private static LoraAdapterSet TrainedLookingAdapters(int rank = 4, IEnumerable<int>? layers = null, IEnumerable<string>? projections = null)
    {
        LoraAdapterSet adapters = LoraAdapterSet.Create(Config, rank, alpha: 8, seed: 21, layers, projections);
        var random = new SeededRandom(22);
        foreach (LoraAdapter adapter in adapters.Adapters)
        {
            for (int i = 0; i < adapter.B.Length; i++)
                adapter.B[i] = (float)(random.NextGaussian() * 0.05);
        }
        return adapters;
    }

    private static float[] Pixels(int images) => FashionMnistSample.Pixels(images);

    [Fact]
    public void Names_order_and_parameter_count_are_stable()
    {
        LoraAdapterSet adapters = LoraAdapterSet.Create(Config, rank: 4, alpha: 8, seed: 1, layers: [1, 0], projections: ["v", "q", "fc2"]);
        string[] names = adapters.Tensors().Select(t => t.Name).ToArray();
        Assert.Equal(
            ["blocks.0.q.A", "blocks.0.q.B", "blocks.0.v.A", "blocks.0.v.B", "blocks.0.fc2.A", "blocks.0.fc2.B",
             "blocks.1.q.A", "blocks.1.q.B", "blocks.1.v.A", "blocks.1.v.B", "blocks.1.fc2.A", "blocks.1.fc2.B"],
            names);
        int d = Config.ModelDim, mlp = Config.MlpDim;
        Assert.Equal(2 * ((4 * d) + (d * 4) + (4 * d) + (d * 4) + (4 * mlp) + (d * 4)), adapters.ParameterCount);
        Assert.Equal([4, mlp], adapters.Tensors().First(t => t.Name == "blocks.1.fc2.A").Shape);
        Assert.Equal(2, adapters.Adapters[0].Scaling);
    }

    [Fact]
    public void Fresh_adapters_leave_the_model_unchanged_and_are_deterministic()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 2);
        float[] pixels = Pixels(5);
        float[] plain = model.Forward(pixels, 5);
        model.Adapters = LoraAdapterSet.Create(Config, rank: 4, alpha: 8, seed: 3);
        Assert.Equal(plain, model.Forward(pixels, 5));
        Assert.All(model.Adapters.Adapters, adapter => Assert.All(adapter.B, value => Assert.Equal(0f, value)));
        Assert.Contains(model.Adapters.Adapters[0].A, value => value != 0f);
        Assert.Equal(model.Adapters.Adapters[3].A, LoraAdapterSet.Create(Config, rank: 4, alpha: 8, seed: 3).Adapters[3].A);
    }

    [Fact]
    public void Merged_forward_equals_adapted_forward_and_unmerge_restores_the_base()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 4);
        TinyVitWeights original = model.Weights.Clone();
        LoraAdapterSet adapters = TrainedLookingAdapters();
        float[] pixels = Pixels(8);

        model.Adapters = adapters;
        float[] adapted = model.Forward(pixels, 8);
        model.Adapters = null;
        float[] plain = model.Forward(pixels, 8);
        adapters.MergeInto(model.Weights);
        float[] merged = model.Forward(pixels, 8);

        Assert.True(MaxDifference(adapted, plain) > 1e-3, "the adapters should change the logits");
        Assert.True(MaxDifference(adapted, merged) < 1e-5, $"merged vs adapted {MaxDifference(adapted, merged)}");

        adapters.UnmergeFrom(model.Weights);
        foreach (var (restored, before) in model.Weights.Tensors().Zip(original.Tensors()))
            Assert.True(MaxDifference(restored.Values, before.Values) < 1e-6, $"{restored.Name} not restored");
    }

    [Fact]
    public void Partial_coverage_adapts_only_the_chosen_layers_and_projections()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 5);
        LoraAdapterSet adapters = TrainedLookingAdapters(layers: [1], projections: ["q", "fc1"]);
        Assert.Null(adapters.Find(0, "q"));
        Assert.Null(adapters.Find(1, "v"));
        Assert.NotNull(adapters.Find(1, "fc1"));
        Assert.Equal(1, adapters.LowestAdaptedLayer);

        float[] pixels = Pixels(4);
        float[] tokens = model.PatchEmbeddingForward(pixels, 4);
        float[] plainLayer0 = model.BlockForward(0, tokens, 4);
        float[] plainLayer1 = model.BlockForward(1, plainLayer0, 4);
        model.Adapters = adapters;
        Assert.Equal(plainLayer0, model.BlockForward(0, tokens, 4));
        Assert.True(MaxDifference(plainLayer1, model.BlockForward(1, plainLayer0, 4)) > 1e-4);
    }

    [Theory]
    [InlineData(Precision.Fp32, 0.0)]
    [InlineData(Precision.Fp16, 1e-3)]
    [InlineData(Precision.Int8, 1.5e-2)]
    public void Adapter_set_round_trips_through_a_tensor_bundle(Precision precision, double relativeTolerance)
    {
        LoraAdapterSet adapters = TrainedLookingAdapters(rank: 2, layers: [0, 1], projections: ["k", "o", "fc1"]);
        byte[] encoded = TensorBundleCodec.Encode(LoraAdapterFrames.ToBundle(adapters, precision));
        TensorBundle decoded = TensorBundleCodec.Decode(encoded);
        Assert.Equal("layers.0.k.a", decoded.GetName(0));
        Assert.Equal(2 * adapters.Adapters.Count, decoded.Count);

        LoraAdapterSet restored = LoraAdapterFrames.FromBundle(Config, adapters.Alpha, decoded);
        Assert.Equal(adapters.Rank, restored.Rank);
        Assert.Equal(adapters.Targets, restored.Targets);
        foreach (var (after, before) in restored.Tensors().Zip(adapters.Tensors()))
        {
            Assert.Equal(before.Name, after.Name);
            Assert.Equal(before.Shape, after.Shape);
            double scale = before.Values.Max(v => Math.Abs(v));
            Assert.True(MaxDifference(before.Values, after.Values) <= relativeTolerance * scale, $"{before.Name} differs by {MaxDifference(before.Values, after.Values)}");
        }
    }

    [Fact]
    public void Int8_per_tensor_frames_round_trip_within_one_quantization_step()
    {
        LoraAdapterSet adapters = TrainedLookingAdapters(rank: 2, layers: [0]);
        var frames = LoraAdapterFrames.ToFrames(adapters, Precision.Int8, int8PerTensor: true).ToArray();
        Assert.All(frames, frame => Assert.Equal(QuantizationKind.PerTensor, frame.Value.Quantization));
        LoraAdapterSet restored = LoraAdapterFrames.FromFrames(Config, adapters.Alpha, frames);
        foreach (var (after, before) in restored.Tensors().Zip(adapters.Tensors()))
        {
            double step = (Math.Max(0, before.Values.Max()) - Math.Min(0, before.Values.Min())) / 255;
            Assert.True(MaxDifference(before.Values, after.Values) <= (0.5 * step) + 1e-7);
        }
    }

    [Fact]
    public void Malformed_frames_are_rejected_with_the_frame_name()
    {
        LoraAdapterSet adapters = TrainedLookingAdapters(rank: 2, layers: [0], projections: ["q"]);
        var frames = LoraAdapterFrames.ToFrames(adapters, Precision.Fp32).ToList();
        var missingB = Assert.Throws<ArgumentException>(() => LoraAdapterFrames.FromFrames(Config, 4, frames.Take(1)));
        Assert.Contains("layers.0.q", missingB.Message);

        var wrongShape = new KeyValuePair<string, TensorFrame>("layers.0.q.b", TensorFrame.FromFloats(new float[6], [3, 2]));
        var shapeError = Assert.Throws<ArgumentException>(() => LoraAdapterFrames.FromFrames(Config, 4, [frames[0], wrongShape]));
        Assert.Contains("blocks.0.q.B", shapeError.Message);

        var unknownLayer = new KeyValuePair<string, TensorFrame>("layers.9.q.a", frames[0].Value);
        Assert.Contains("layer 9", Assert.Throws<ArgumentException>(() => LoraAdapterFrames.FromFrames(Config, 4, [unknownLayer])).Message);
    }

    [Fact]
    public void Import_rejects_unknown_and_missing_tensors()
    {
        LoraAdapterSet adapters = TrainedLookingAdapters(rank: 2, layers: [0], projections: ["q"]);
        var tensors = adapters.Clone().Tensors().ToList();
        adapters.CloneEmpty().ImportTensors(tensors);
        Assert.Contains("Missing", Assert.Throws<ArgumentException>(() => adapters.CloneEmpty().ImportTensors(tensors.Take(1))).Message);
        Assert.Contains("blocks.3.q.A", Assert.Throws<ArgumentException>(() => adapters.ImportTensors([("blocks.3.q.A", [2, 16], new float[32])])).Message);
    }

    private static double MaxDifference(float[] first, float[] second) =>
        first.Zip(second).Max(pair => Math.Abs((double)pair.First - pair.Second));
}
