using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Golden;

/// <summary>
/// Produces every golden vector deterministically. The committed files under tests/golden must equal this output
/// (checked by <see cref="GoldenFilesTests"/>); set EDGELAM_WRITE_GOLDEN=1 and run that test to rewrite them.
/// Malformed frames are written byte by byte (<see cref="RawFrame"/>) so that a defect can carry a valid CRC.
/// </summary>
public static class GoldenVectorGenerator
{
    /// <summary>Operator key used only for the golden command's signature (16 ASCII bytes "golden-test-key!").</summary>
    public static readonly byte[] GoldenOperatorKey = Encoding.ASCII.GetBytes("golden-test-key!");

    private static readonly DateTimeOffset GoldenTime = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>All vectors with their bytes, in manifest order.</summary>
    public static IReadOnlyList<(GoldenVector Vector, byte[] Data)> Generate()
    {
        var vectors = new List<(GoldenVector, byte[])>();
        AddValidFrames(vectors);
        AddMalformedFrames(vectors);
        AddBundles(vectors);
        AddMessages(vectors);
        AddMalformedMessages(vectors);
        return vectors;
    }

    private static void AddValidFrames(List<(GoldenVector, byte[])> vectors)
    {
        void Frame(string name, string description, TensorFrame frame)
        {
            double[] elements = Enumerable.Range(0, frame.ElementCount)
                .Select(i => frame.DataType is TensorDataType.Float32 or TensorDataType.Float16 ? (double)frame.GetFloat(i) : frame.GetInteger(i))
                .ToArray();
            vectors.Add((new GoldenVector($"frames/{name}.bin", "frame", true, description)
            {
                Dtype = TensorFrame.DataTypeName(frame.DataType),
                Shape = frame.Shape,
                Quantization = GoldenVectors.QuantizationName(frame.Quantization),
                Axis = frame.Quantization == QuantizationKind.PerChannel ? frame.QuantizationAxis : null,
                Scales = frame.Scales.Length > 0 ? frame.Scales : null,
                ZeroPoints = frame.ZeroPoints.Length > 0 ? frame.ZeroPoints : null,
                Elements = elements,
            }, TensorFrameCodec.Encode(frame)));
        }

        Frame("f32-vector", "f32 [6]: signed values, negative zero, largest finite and smallest subnormal",
            TensorFrame.FromFloats([1.5f, -2.25f, -0f, float.MaxValue, float.Epsilon, 0.1f], [6]));
        Frame("f32-scalar", "f32 rank 0: one element, no dims", TensorFrame.FromFloats([42.5f], []));
        Frame("f32-empty", "f32 [0,4]: zero elements, empty payload", TensorFrame.FromFloats([], [0, 4]));
        Frame("f16-matrix", "f16 [2,3]: 0.1 and 1/3 rounded to nearest even, 65504 (largest), 2^-24 (smallest subnormal), -0",
            TensorFrame.FromFloats([0.1f, 1f / 3f, 65504f, 5.9604645e-8f, -0f, -1.5f], [2, 3], TensorDataType.Float16));
        Frame("i8-plain", "i8 [4] without quantization (e.g. token ids)",
            TensorFrame.FromInt8([-128, -1, 0, 127], [4], QuantizationKind.None, 0, [], []));
        Frame("i8-per-tensor", "i8 [2,4] asymmetric per-tensor: scale 0.05, zero point -10",
            TensorFrame.FromInt8([-128, -10, 0, 10, 20, 50, 100, 127], [2, 4], QuantizationKind.PerTensor, 0, [0.05f], [-10]));
        Frame("i8-per-channel-axis0", "i8 [3,2] symmetric per-channel on axis 0 (one scale per output row)",
            TensorFrame.FromInt8([127, -127, 64, -64, 1, 0], [3, 2], QuantizationKind.PerChannel, 0, [0.01f, 0.002f, 0.5f], [0, 0, 0]));
        Frame("i8-per-channel-axis1", "i8 [2,3] per-channel on axis 1 with non-zero zero points",
            TensorFrame.FromInt8([-5, 0, 5, 100, -100, 7], [2, 3], QuantizationKind.PerChannel, 1, [0.25f, 0.125f, 1f], [-3, 0, 3]));
        Frame("u8-per-tensor", "u8 [2,2] asymmetric per-tensor: scale 0.00390625, zero point 128",
            new TensorFrame(TensorDataType.UInt8, [2, 2], QuantizationKind.PerTensor, 0, [0.00390625f], [128], [0, 128, 200, 255]));
        Frame("u8-plain", "u8 [3] without quantization (e.g. pixels)",
            new TensorFrame(TensorDataType.UInt8, [3], [0, 17, 255]));
        Frame("i32-plain", "i32 [2,2] without quantization",
            TensorFrame.FromInt32([int.MinValue, -1, 0, int.MaxValue], [2, 2], QuantizationKind.None, 0, [], []));
        Frame("i32-bias-per-channel", "i32 [3] quantized bias per channel: scale = input scale x weight scale, zero point 0",
            TensorFrame.FromInt32([1000, -2000, 30], [3], QuantizationKind.PerChannel, 0, [0.0001f, 0.0002f, 0.0003f], [0, 0, 0]));
        Frame("i8-quantized-from-floats", "i8 [2,3] from TensorFrame.QuantizePerChannel of real values on axis 0",
            TensorFrame.QuantizePerChannel([0.5f, -1f, 0.25f, 2f, 0f, -0.5f], [2, 3], 0));
    }

    private static void AddMalformedFrames(List<(GoldenVector, byte[])> vectors)
    {
        void Bad(string name, string error, string description, byte[] data, string? field = null)
            => vectors.Add((new GoldenVector($"frames/malformed/{name}.bin", "frame", false, description) { Error = error, Field = field }, data));

        byte[] valid = TensorFrameCodec.Encode(TensorFrame.FromFloats([1f, 2f, 3f, 4f, 5f, 6f], [2, 3]));
        Bad("empty", "Truncated", "zero bytes", []);
        Bad("truncated-header", "Truncated", "the first 6 bytes of a valid f32 frame", valid[..6]);
        Bad("truncated-payload", "Truncated", "a valid f32 frame without its last payload byte", valid[..^1], "payload");
        Bad("bad-magic", "BadMagic", "magic \"ELTX\"", Patched(valid, 3, (byte)'X'), "magic");
        Bad("version-2", "UnsupportedVersion", "version byte 2", Patched(valid, 4, 2), "version");
        Bad("unknown-dtype", "UnknownDtype", "dtype byte 9 with a valid CRC", new RawFrame { DataType = 9, Shape = [2], Payload = new byte[8] }.ToBytes(), "dtype");
        Bad("crc-mismatch", "CrcMismatch", "one payload bit flipped after encoding", Patched(valid, valid.Length - 1, (byte)(valid[^1] ^ 0x01)), "crc");
        Bad("shape-payload-mismatch", "ShapePayloadMismatch", "f32 [2,3] declaring 20 payload bytes (24 needed), valid CRC",
            new RawFrame { DataType = 1, Shape = [2, 3], Payload = new byte[20] }.ToBytes(), "payload");
        Bad("oversize-rank", "Oversize", "rank 9 (limit 8)", new RawFrame { DataType = 3, Shape = [1, 1, 1, 1, 1, 1, 1, 1, 1], Payload = [0] }.ToBytes(), "rank");
        Bad("oversize-elements", "Oversize", "f32 [4096,4096]: 16 Mi elements (limit 4 Mi), header only",
            new RawFrame { DataType = 1, Shape = [4096, 4096], Payload = [] }.ToBytes(), "shape");
        Bad("oversize-payload", "Oversize", "payload length field 0xFFFFFFFF", new RawFrame { DataType = 3, Shape = [4], Payload = new byte[4], DeclaredPayloadLength = uint.MaxValue }.ToBytes(), "payload");
        Bad("nan-f32", "NonFinite", "f32 [3] holding a NaN, valid CRC",
            new RawFrame { DataType = 1, Shape = [3], Payload = FloatBytes(1f, float.NaN, 2f) }.ToBytes(), "payload");
        Bad("infinity-f32", "NonFinite", "f32 [2] holding -infinity, valid CRC",
            new RawFrame { DataType = 1, Shape = [2], Payload = FloatBytes(float.NegativeInfinity, 0f) }.ToBytes(), "payload");
        Bad("infinity-f16", "NonFinite", "f16 [2] holding +infinity (0x7C00), valid CRC",
            new RawFrame { DataType = 2, Shape = [2], Payload = [0x00, 0x3C, 0x00, 0x7C] }.ToBytes(), "payload");
        Bad("quantized-f32", "BadQuantization", "f32 with per-tensor quantization", new RawFrame
        {
            DataType = 1, Quantization = 1, Shape = [1], QuantizationBlock = QuantizationBlock(null, [1f], [0]), Payload = FloatBytes(1f),
        }.ToBytes(), "quantization");
        Bad("zero-scale", "BadQuantization", "i8 per-tensor with scale 0", new RawFrame
        {
            DataType = 3, Quantization = 1, Shape = [2], QuantizationBlock = QuantizationBlock(null, [0f], [0]), Payload = [1, 2],
        }.ToBytes(), "quantization.scale[0]");
        Bad("zero-point-out-of-range", "BadQuantization", "i8 per-tensor with zero point 200", new RawFrame
        {
            DataType = 3, Quantization = 1, Shape = [2], QuantizationBlock = QuantizationBlock(null, [0.5f], [200]), Payload = [1, 2],
        }.ToBytes(), "quantization.zeroPoint[0]");
        Bad("axis-out-of-range", "BadQuantization", "i8 [2,2] per-channel on axis 2", new RawFrame
        {
            DataType = 3, Quantization = 2, Shape = [2, 2], QuantizationBlock = QuantizationBlock(2, [1f, 1f], [0, 0]), Payload = [1, 2, 3, 4],
        }.ToBytes(), "quantization.axis");
        Bad("unknown-quantization", "BadQuantization", "quantization byte 7", new RawFrame { DataType = 3, Quantization = 7, Shape = [1], Payload = [1] }.ToBytes(), "quantization");
        Bad("trailing-data", "TrailingData", "a valid frame followed by one byte", [.. valid, 0x00], "frame");
    }

    private static void AddBundles(List<(GoldenVector, byte[])> vectors)
    {
        void Bundle<THeader>(string name, string topic, string description, MessageBundle<THeader> bundle)
            where THeader : class, IWireMessage
            => vectors.Add((new GoldenVector($"bundles/{name}.bin", "bundle", true, description)
            {
                Message = typeof(THeader).Name,
                Topic = topic,
                Frames = Enumerable.Range(0, bundle.Bundle.Count).Select(bundle.Bundle.GetName).ToArray(),
            }, bundle.Encode()));

        var random = new Random(20260115);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)Math.Round((random.NextDouble() * 2) - 1, 3)).ToArray();

        var int8Update = new LoraUpdateHeader
        {
            Round = 3, Rank = 4, Layers = [0, 1], Precision = Precision.Int8, SampleCount = 1200, LocalSteps = 20, TrainingLoss = 0.8125, BaseModelId = "tinyvit-fmnist-s42",
            Nonce = "5f0c9a7e3b1d42c8a6e0f7b9d3c1e524",
        };
        Bundle("lora-update-int8", "update", "L-tier LoRA update: rank 4, layers 0 and 1, query projection, int8 symmetric per-channel",
            MessageBundle<LoraUpdateHeader>.Create(int8Update, LoraFactors(int8Update.Layers, "query", 4, 8, 8, (values, shape) => TensorFrame.QuantizePerChannel(values, shape, 0), Values)));

        var fp16Update = int8Update with { Rank = 8, Layers = [2], Precision = Precision.Fp16, SampleCount = 4800, TrainingLoss = 0.5, Nonce = "c41e8b2f90d7a3651be4f0c2d9a87e13" };
        Bundle("lora-update-fp16", "update", "M-tier LoRA update: rank 8, layer 2, query and value projections, fp16",
            MessageBundle<LoraUpdateHeader>.Create(fp16Update, [
                .. LoraFactors(fp16Update.Layers, "query", 8, 8, 8, (values, shape) => TensorFrame.FromFloats(values, shape, TensorDataType.Float16), Values),
                .. LoraFactors(fp16Update.Layers, "value", 8, 8, 8, (values, shape) => TensorFrame.FromFloats(values, shape, TensorDataType.Float16), Values),
            ]));

        var adapter = new AdapterHeader { Round = 3, Rank = 4, Layers = [0], Precision = Precision.Fp32, BaseModelId = "tinyvit-fmnist-s42" };
        Bundle("adapter-fp32", "adapter", "global adapter at rank 4 for layer 0, fp32",
            MessageBundle<AdapterHeader>.Create(adapter, LoraFactors(adapter.Layers, "query", 4, 8, 8, (values, shape) => TensorFrame.FromFloats(values, shape), Values)));

        var request = new InferenceRequestHeader { CorrelationId = "req-000017.s1", StageId = "block0", VariantId = "block0-int8", DeadlineUnixMilliseconds = GoldenTime.ToUnixTimeMilliseconds() + 250 };
        Bundle("infer-request", "infer/request", "stage task for block0 with an int8 per-tensor activation [1,4,8]",
            MessageBundle<InferenceRequestHeader>.Create(request, [new("input", TensorFrame.QuantizePerTensor(Values(32), [1, 4, 8]))]));

        var result = new InferenceResultHeader
        {
            CorrelationId = "req-000017.s1", StageId = "block0", VariantId = "block0-int8", Outcome = InferenceOutcome.Ok, ComputeMilliseconds = 12.5, QueueWaitMilliseconds = 3.25, QueueLength = 1,
        };
        Bundle("infer-result", "infer/result", "stage output [1,4,8] int8 per-tensor",
            MessageBundle<InferenceResultHeader>.Create(result, [new("output", TensorFrame.QuantizePerTensor(Values(32), [1, 4, 8]))]));

        Bundle("infer-result-failed", "infer/result", "failed stage task: no output frame",
            MessageBundle<InferenceResultHeader>.Create(result with { Outcome = InferenceOutcome.Failed, Error = "variant block0-int8 is not loaded", ComputeMilliseconds = 0 }, []));

        var plain = new TensorBundle(Encoding.UTF8.GetBytes("{\"note\":\"header of any JSON object\"}"));
        plain.Add("weights", TensorFrame.FromFloats([1f, 2f], [2]));
        plain.Add("bias/0", TensorFrame.FromInt32([7], [1], QuantizationKind.None, 0, [], []));
        vectors.Add((new GoldenVector("bundles/plain.bin", "bundle", true, "bundle with a free-form header and two frames") { Frames = ["weights", "bias/0"] }, TensorBundleCodec.Encode(plain)));

        void Bad(string name, string error, string description, byte[] data, string? message = null, string? field = null)
            => vectors.Add((new GoldenVector($"bundles/malformed/{name}.bin", "bundle", false, description) { Error = error, Message = message, Field = field }, data));

        byte[] valid = TensorBundleCodec.Encode(plain);
        Bad("truncated", "Truncated", "a valid bundle cut in the middle of its first frame", valid[..60]);
        Bad("bad-magic", "BadMagic", "a tensor frame where a bundle is expected", TensorFrameCodec.Encode(TensorFrame.FromFloats([1f], [1])), field: "magic");
        Bad("version-9", "UnsupportedVersion", "bundle version 9", WithBundleCrc(Patched(valid, 4, 9)), field: "version");
        Bad("crc-mismatch", "CrcMismatch", "one header byte changed after encoding", Patched(valid, 14, (byte)'N'), field: "crc");
        Bad("duplicate-name", "DuplicateName", "two frames named \"weights\", valid CRC", RawBundle("{}", ("weights", TensorFrame.FromFloats([1f], [1])), ("weights", TensorFrame.FromFloats([2f], [1]))), field: "weights");
        Bad("bad-name", "BadName", "frame name with a space, valid CRC", RawBundle("{}", ("my weights", TensorFrame.FromFloats([1f], [1]))), field: "name");
        Bad("header-not-json", "MalformedJson", "header bytes are not JSON, valid CRC", RawBundle("round=3"));
        Bad("header-not-object", "MalformedJson", "header is a JSON array, valid CRC", RawBundle("[1,2]"), field: "json");
        Bad("inner-frame-crc", "CrcMismatch", "bundle CRC valid, inner frame CRC broken",
            WithBundleCrc(Patched(valid, valid.Length - 6, (byte)(valid[^6] ^ 0x80))), field: "crc");
        Bad("lora-header-rank-zero", "OutOfRange", "LoRA update header with rank 0", RawBundle(
            "{\"round\":3,\"rank\":0,\"layers\":[0],\"precision\":\"int8\",\"sampleCount\":10,\"localSteps\":1,\"trainingLoss\":0.5,\"baseModelId\":\"tinyvit-fmnist-s42\"}"),
            nameof(LoraUpdateHeader), "rank");
        Bad("lora-wrong-layer", "Inconsistent", "LoRA update with a factor for layer 5 that the header does not list", RawBundle(
            "{\"round\":3,\"rank\":1,\"layers\":[0],\"precision\":\"fp32\",\"sampleCount\":10,\"localSteps\":1,\"trainingLoss\":0.5,\"baseModelId\":\"tinyvit-fmnist-s42\"}",
            ("layers.5.query.a", TensorFrame.FromFloats([1f, 2f], [1, 2]))), nameof(LoraUpdateHeader), "layers.5.query.a");
        Bad("infer-request-without-input", "MissingField", "inference request with no input frame", RawBundle(
            "{\"correlationId\":\"r1\",\"stageId\":\"head\",\"variantId\":\"head-fp32\",\"deadlineUnixMilliseconds\":1768478400250}"),
            nameof(InferenceRequestHeader), "input");

        var fullUpdate = new LoraUpdateHeader
        {
            Mode = TrainingScope.Full, Round = 3, Rank = 0, Layers = [0], Precision = Precision.Fp16, SampleCount = 4800, LocalSteps = 20, TrainingLoss = 0.5, BaseModelId = "tinyvit-fmnist-s42",
        };
        Bundle("full-update-fp16", "update", "full-model FedAvg update: every trainable weight of a two-tensor model as weights.{tensor}, fp16",
            MessageBundle<LoraUpdateHeader>.Create(fullUpdate, [
                new(FullWeightFrameName.Of("head.weight"), TensorFrame.FromFloats(Values(8), [2, 4], TensorDataType.Float16)),
                new(FullWeightFrameName.Of("head.bias"), TensorFrame.FromFloats(Values(2), [2], TensorDataType.Float16)),
            ]));
    }

    private static void AddMessages(List<(GoldenVector, byte[])> vectors)
    {
        void Message<TMessage>(string name, string topic, string description, TMessage message)
            where TMessage : class, IWireMessage
            => vectors.Add((new GoldenVector($"messages/{name}.json", "message", true, description) { Message = typeof(TMessage).Name, Topic = topic }, WireMessages.Encode(message)));

        long now = GoldenTime.ToUnixTimeMilliseconds();
        Message("hello-esp32", "hello", "L-tier ESP32-WROVER capabilities", new DeviceHello
        {
            DeviceId = "esp32-wrover-01", BoardId = "esp32-wrover", Tier = DeviceTier.L, FirmwareVersion = "1.0.0", ProtocolVersion = 1,
            Precisions = [Precision.Int8], MaxLoraRank = 4, MemoryBytes = 4_194_304, FlashBytes = 4_194_304, MacsPerSecond = 2.4e7, PowerWatts = 0.5,
        });
        Message("hello-jetson", "hello", "H-tier Jetson capabilities without a power figure", new DeviceHello
        {
            DeviceId = "jetson-orin-01", BoardId = "jetson-orin-nano", Tier = DeviceTier.H, FirmwareVersion = "1.0.0+agent", ProtocolVersion = 1,
            Precisions = [Precision.Fp32, Precision.Fp16, Precision.Int8, Precision.PrunedInt8], MaxLoraRank = 16, MemoryBytes = 8_589_934_592, FlashBytes = 68_719_476_736, MacsPerSecond = 2e11,
        });
        Message("status-online", "status", "retained presence after connect", new DeviceStatus { State = PresenceState.Online });
        Message("status-offline-will", "status", "last will registered at connect", new DeviceStatus { State = PresenceState.Offline, Reason = "last-will" });
        Message("heartbeat", "heartbeat", "load over a 5 s interval with temperature", new DeviceHeartbeat
        {
            Sequence = 118, IntervalMilliseconds = 5000, QueueLength = 2, BusyMilliseconds = 3125, FreeMemoryBytes = 1_048_576, TemperatureCelsius = 47.5,
        });
        Message("heartbeat-no-sensor", "heartbeat", "load without a temperature sensor", new DeviceHeartbeat
        {
            Sequence = 0, IntervalMilliseconds = 1000, QueueLength = 0, BusyMilliseconds = 0, FreeMemoryBytes = 200_000,
        });
        Message("deploy-ack-loaded", "deploy/ack", "variant loaded", new DeploymentAck
        {
            VariantId = "block0-int8", StageId = "block0", Outcome = DeploymentOutcome.Loaded, LoadMilliseconds = 84.25, MemoryBytes = 65_536,
        });
        Message("deploy-ack-failed", "deploy/ack", "deployment failed with a reason", new DeploymentAck
        {
            VariantId = "block1-fp32", StageId = "block1", Outcome = DeploymentOutcome.Failed, Error = "needs 1.2 MB RAM, 0.3 MB free",
        });
        Message("assign", "assign", "round 3 assignment for an L-tier device", new TrainingAssignment
        {
            Round = 3, Rank = 4, Layers = [0, 1], Precision = Precision.Int8, LocalSteps = 20, BatchSize = 16, LearningRate = 0.001,
            DeadlineUnixMilliseconds = now + 60_000, PartitionSeed = 42, PartitionIndex = 5, PartitionCount = 12, DirichletAlpha = 0.5,
        });
        Message("assign-lora-alpha", "assign", "round 3 LoRA assignment naming its mode and LoRA alpha", new TrainingAssignment
        {
            Round = 3, Mode = TrainingScope.Lora, Rank = 8, LoraAlpha = 16, Layers = [0, 1, 2, 3], Precision = Precision.Fp16, LocalSteps = 20, BatchSize = 32, LearningRate = 0.001,
            DeadlineUnixMilliseconds = now + 60_000, PartitionSeed = 42, PartitionIndex = 1, PartitionCount = 12, DirichletAlpha = 0.5,
        });
        Message("assign-full", "assign", "round 3 full-model assignment: rank 0, no alpha, fp32 weights", new TrainingAssignment
        {
            Round = 3, Mode = TrainingScope.Full, Rank = 0, Layers = [0, 1, 2, 3], Precision = Precision.Fp32, LocalSteps = 20, BatchSize = 32, LearningRate = 0.001,
            DeadlineUnixMilliseconds = now + 60_000, PartitionSeed = 42, PartitionIndex = 0, PartitionCount = 12, DirichletAlpha = 0.5,
        });
        Message("deploy-url", "deploy", "deploy a variant by URL", new Deployment
        {
            VariantId = "block1-fp16", StageId = "block1", Action = DeploymentAction.Deploy, Precision = Precision.Fp16,
            Url = "http://192.168.1.10:8080/models/block1-fp16.onnx", SizeBytes = 1_331_200, Sha256 = new string('a', 64),
        });
        Message("deploy-inline", "deploy", "deploy a small int8 variant inline", Deployment.Inline("head-int8", "head", Precision.Int8, [.. Enumerable.Range(0, 48).Select(i => (byte)(i * 5))]));
        Message("deploy-remove", "deploy", "remove a variant", new Deployment { VariantId = "block1-fp16", StageId = "block1", Action = DeploymentAction.Remove });
        Message("rejected-malformed", "rejected", "refusal of a malformed update", new Rejection
        {
            RejectedTopic = "edgelam/v1/devices/esp32-wrover-01/update", Reason = RejectionReason.Malformed, ErrorCode = "CrcMismatch",
            Detail = "CrcMismatch (crc): stored 0x00000000, computed 0x1c291ca3", Round = 3,
        });
        Message("rejected-stale", "rejected", "refusal of a late update", new Rejection
        {
            RejectedTopic = "edgelam/v1/devices/rpi5-02/update", Reason = RejectionReason.StaleRound, Detail = "round 2 closed at its deadline", Round = 2,
        });
        Message("gateway-status", "gateway/status", "retained gateway presence", new GatewayStatus
        {
            State = PresenceState.Online, Version = "1.0.0", StartedUnixMilliseconds = now, DeviceCount = 6, Round = 3,
        });
        Message("gateway-event-round", "gateway/events", "round aggregated", new GatewayEvent
        {
            Kind = GatewayEventKind.RoundAggregated, TimestampUnixMilliseconds = now + 61_000, Round = 3, Detail = "5 of 6 updates, FedFT-H",
        });
        Message("gateway-event-unlearning", "gateway/events", "unlearning verified", new GatewayEvent
        {
            Kind = GatewayEventKind.UnlearningVerified, TimestampUnixMilliseconds = now + 90_000, DeviceId = "rpi5-02",
        });
        Message("command-unlearn", "gateway/command", "signed unlearn command (key: ASCII \"golden-test-key!\")",
            OperatorCommandSignature.Sign("cmd-0001", OperatorAction.Unlearn, "rpi5-02", GoldenTime, GoldenOperatorKey));
        Message("command-pause", "gateway/command", "signed pause command (key: ASCII \"golden-test-key!\")",
            OperatorCommandSignature.Sign("cmd-0002", OperatorAction.PauseTraining, null, GoldenTime, GoldenOperatorKey));
        Message("lora-update-header", "update", "the JSON header of a LoRA update bundle on its own, with its replay nonce", new LoraUpdateHeader
        {
            Round = 3, Rank = 4, Layers = [0, 1], Precision = Precision.Int8, SampleCount = 1200, LocalSteps = 20, TrainingLoss = 0.8125, BaseModelId = "tinyvit-fmnist-s42",
            Nonce = "5f0c9a7e3b1d42c8a6e0f7b9d3c1e524",
        });
        Message("adapter-header", "adapter", "the JSON header of a global adapter bundle on its own", new AdapterHeader
        {
            Round = 0, Rank = 16, Layers = [0, 1, 2, 3], Precision = Precision.Fp16, BaseModelId = "tinyvit-fmnist-s42",
        });
        Message("infer-request-header", "infer/request", "the JSON header of an inference request on its own", new InferenceRequestHeader
        {
            CorrelationId = "9f1c", StageId = "embed", VariantId = "embed-fp32", DeadlineUnixMilliseconds = now + 100,
        });
        Message("infer-result-header", "infer/result", "the JSON header of a deadline-missed result", new InferenceResultHeader
        {
            CorrelationId = "9f1c", StageId = "embed", VariantId = "embed-fp32", Outcome = InferenceOutcome.DeadlineMissed, ComputeMilliseconds = 0, QueueWaitMilliseconds = 140, QueueLength = 9,
        });
    }

    private static void AddMalformedMessages(List<(GoldenVector, byte[])> vectors)
    {
        void Bad(string name, string message, string error, string? field, string description, string json)
            => BadBytes(name, message, error, field, description, Encoding.UTF8.GetBytes(json));

        void BadBytes(string name, string message, string error, string? field, string description, byte[] data)
            => vectors.Add((new GoldenVector($"messages/malformed/{name}.json", "message", false, description) { Message = message, Error = error, Field = field }, data));

        Bad("truncated", nameof(DeviceStatus), "MalformedJson", "json", "document cut inside a string", "{\"state\":\"onl");
        Bad("empty", nameof(DeviceStatus), "MalformedJson", "json", "zero bytes", "");
        Bad("single-quotes", nameof(DeviceStatus), "MalformedJson", "json", "single-quoted string", "{'state':'online'}");
        Bad("nan-literal", nameof(DeviceHeartbeat), "MalformedJson", "json", "NaN is not JSON",
            "{\"sequence\":1,\"intervalMilliseconds\":1000,\"queueLength\":0,\"busyMilliseconds\":0,\"freeMemoryBytes\":1,\"temperatureCelsius\":NaN}");
        Bad("number-overflow", nameof(DeviceHeartbeat), "NonFinite", "temperatureCelsius", "1e999 overflows a double to infinity",
            "{\"sequence\":1,\"intervalMilliseconds\":1000,\"queueLength\":0,\"busyMilliseconds\":0,\"freeMemoryBytes\":1,\"temperatureCelsius\":1e999}");
        Bad("trailing-garbage", nameof(DeviceStatus), "TrailingData", "json", "content after the object", "{\"state\":\"online\"} x");
        Bad("duplicate-member", nameof(DeviceStatus), "DuplicateName", "state", "member \"state\" twice", "{\"state\":\"online\",\"state\":\"offline\"}");
        BadBytes("invalid-utf8", nameof(DeviceStatus), "InvalidUtf8", "utf8", "byte 0xC3 0x28 inside a string",
            [.. Encoding.ASCII.GetBytes("{\"state\":\"online\",\"reason\":\"a"), 0xC3, 0x28, .. Encoding.ASCII.GetBytes("\"}")]);
        Bad("too-deep", nameof(DeviceStatus), "TooDeep", "json", "17 nested arrays (limit 16)", "{\"reason\":" + new string('[', 16) + new string(']', 16) + "}");
        Bad("not-object", nameof(DeviceStatus), "MalformedJson", "json", "a JSON array where an object is expected", "[\"online\"]");
        BadBytes("oversize", nameof(DeviceStatus), "Oversize", "json", "65 537 bytes (limit 65 536)",
            Encoding.ASCII.GetBytes("{\"state\":\"online\",\"reason\":\"" + new string('x', WireLimits.MaxJsonBytes + 1 - 30) + "\"}"));
        Bad("hello-missing-device-id", nameof(DeviceHello), "MissingField", "deviceId", "hello without deviceId",
            "{\"boardId\":\"esp32-wrover\",\"tier\":\"L\",\"firmwareVersion\":\"1.0.0\",\"protocolVersion\":1,\"precisions\":[\"int8\"],\"maxLoraRank\":4,\"memoryBytes\":4194304,\"flashBytes\":4194304,\"macsPerSecond\":24000000}");
        Bad("hello-null-board", nameof(DeviceHello), "MissingField", "boardId", "hello with boardId null",
            "{\"deviceId\":\"esp32-01\",\"boardId\":null,\"tier\":\"L\",\"firmwareVersion\":\"1.0.0\",\"protocolVersion\":1,\"precisions\":[\"int8\"],\"maxLoraRank\":4,\"memoryBytes\":4194304,\"flashBytes\":4194304,\"macsPerSecond\":24000000}");
        Bad("hello-unknown-precision", nameof(DeviceHello), "UnknownValue", "precisions[1]", "precision \"int4\" is not defined",
            "{\"deviceId\":\"esp32-01\",\"boardId\":\"esp32-wrover\",\"tier\":\"L\",\"firmwareVersion\":\"1.0.0\",\"protocolVersion\":1,\"precisions\":[\"int8\",\"int4\"],\"maxLoraRank\":4,\"memoryBytes\":4194304,\"flashBytes\":4194304,\"macsPerSecond\":24000000}");
        Bad("hello-bad-device-id", nameof(DeviceHello), "OutOfRange", "deviceId", "device id with a '/' (would escape its topic subtree)",
            "{\"deviceId\":\"esp32/01\",\"boardId\":\"esp32-wrover\",\"tier\":\"L\",\"firmwareVersion\":\"1.0.0\",\"protocolVersion\":1,\"precisions\":[\"int8\"],\"maxLoraRank\":4,\"memoryBytes\":4194304,\"flashBytes\":4194304,\"macsPerSecond\":24000000}");
        Bad("heartbeat-string-number", nameof(DeviceHeartbeat), "WrongType", "queueLength", "queueLength as a string",
            "{\"sequence\":1,\"intervalMilliseconds\":1000,\"queueLength\":\"3\",\"busyMilliseconds\":0,\"freeMemoryBytes\":1}");
        Bad("heartbeat-fraction", nameof(DeviceHeartbeat), "WrongType", "sequence", "integer field with a fraction",
            "{\"sequence\":1.5,\"intervalMilliseconds\":1000,\"queueLength\":0,\"busyMilliseconds\":0,\"freeMemoryBytes\":1}");
        Bad("heartbeat-busy-over-interval", nameof(DeviceHeartbeat), "OutOfRange", "busyMilliseconds", "busy longer than the interval",
            "{\"sequence\":1,\"intervalMilliseconds\":1000,\"queueLength\":0,\"busyMilliseconds\":1001,\"freeMemoryBytes\":1}");
        Bad("update-short-nonce", nameof(LoraUpdateHeader), "OutOfRange", "nonce", "a replay nonce of 8 characters (at least 16)",
            "{\"round\":3,\"rank\":4,\"layers\":[0,1],\"precision\":\"int8\",\"sampleCount\":1200,\"localSteps\":20,\"trainingLoss\":0.8125,\"baseModelId\":\"tinyvit-fmnist-s42\",\"nonce\":\"5f0c9a7e\"}");
        Bad("status-unknown-state", nameof(DeviceStatus), "UnknownValue", "state", "state \"sleeping\"", "{\"state\":\"sleeping\"}");
        Bad("status-integer-state", nameof(DeviceStatus), "WrongType", "state", "enum given as a number", "{\"state\":0}");
        Bad("assign-rank-zero", nameof(TrainingAssignment), "OutOfRange", "rank", "rank 0",
            "{\"round\":3,\"rank\":0,\"layers\":[0],\"precision\":\"int8\",\"localSteps\":20,\"batchSize\":16,\"learningRate\":0.001,\"deadlineUnixMilliseconds\":1768478460000,\"partitionSeed\":42,\"partitionIndex\":5,\"partitionCount\":12,\"dirichletAlpha\":0.5}");
        Bad("assign-full-int8", nameof(TrainingAssignment), "UnknownValue", "precision", "full-model weights as int8",
            "{\"round\":3,\"mode\":\"full\",\"rank\":0,\"layers\":[0],\"precision\":\"int8\",\"localSteps\":20,\"batchSize\":16,\"learningRate\":0.001,\"deadlineUnixMilliseconds\":1768478460000,\"partitionSeed\":42,\"partitionIndex\":5,\"partitionCount\":12,\"dirichletAlpha\":0.5}");
        Bad("assign-full-with-alpha", nameof(TrainingAssignment), "Inconsistent", "loraAlpha", "a full-model assignment naming a LoRA alpha",
            "{\"round\":3,\"mode\":\"full\",\"rank\":0,\"loraAlpha\":16,\"layers\":[0],\"precision\":\"fp32\",\"localSteps\":20,\"batchSize\":16,\"learningRate\":0.001,\"deadlineUnixMilliseconds\":1768478460000,\"partitionSeed\":42,\"partitionIndex\":5,\"partitionCount\":12,\"dirichletAlpha\":0.5}");
        Bad("assign-layers-unordered", nameof(TrainingAssignment), "OutOfRange", "layers[1]", "layers not ascending",
            "{\"round\":3,\"rank\":4,\"layers\":[1,0],\"precision\":\"int8\",\"localSteps\":20,\"batchSize\":16,\"learningRate\":0.001,\"deadlineUnixMilliseconds\":1768478460000,\"partitionSeed\":42,\"partitionIndex\":5,\"partitionCount\":12,\"dirichletAlpha\":0.5}");
        Bad("assign-rank-overflow", nameof(TrainingAssignment), "OutOfRange", "rank", "rank beyond a 32-bit integer",
            "{\"round\":3,\"rank\":99999999999,\"layers\":[0],\"precision\":\"int8\",\"localSteps\":20,\"batchSize\":16,\"learningRate\":0.001,\"deadlineUnixMilliseconds\":1768478460000,\"partitionSeed\":42,\"partitionIndex\":5,\"partitionCount\":12,\"dirichletAlpha\":0.5}");
        Bad("assign-zero-learning-rate", nameof(TrainingAssignment), "OutOfRange", "learningRate", "learning rate 0",
            "{\"round\":3,\"rank\":4,\"layers\":[0],\"precision\":\"int8\",\"localSteps\":20,\"batchSize\":16,\"learningRate\":0,\"deadlineUnixMilliseconds\":1768478460000,\"partitionSeed\":42,\"partitionIndex\":5,\"partitionCount\":12,\"dirichletAlpha\":0.5}");
        Bad("deploy-url-and-inline", nameof(Deployment), "Inconsistent", "url", "both url and inline bytes",
            "{\"variantId\":\"head-int8\",\"stageId\":\"head\",\"action\":\"deploy\",\"precision\":\"int8\",\"url\":\"http://h/m.onnx\",\"inlineBase64\":\"AAEC\",\"sizeBytes\":3,\"sha256\":\"ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc\"}");
        Bad("deploy-inline-digest", nameof(Deployment), "Inconsistent", "sha256", "inline bytes whose SHA-256 differs",
            "{\"variantId\":\"head-int8\",\"stageId\":\"head\",\"action\":\"deploy\",\"precision\":\"int8\",\"inlineBase64\":\"AAEC\",\"sizeBytes\":3,\"sha256\":\"" + new string('0', 64) + "\"}");
        Bad("deploy-missing-size", nameof(Deployment), "MissingField", "sizeBytes", "deploy without sizeBytes",
            "{\"variantId\":\"head-int8\",\"stageId\":\"head\",\"action\":\"deploy\",\"precision\":\"int8\",\"url\":\"http://h/m.onnx\",\"sha256\":\"" + new string('a', 64) + "\"}");
        Bad("result-failed-without-error", nameof(InferenceResultHeader), "Inconsistent", "error", "failed outcome without an error",
            "{\"correlationId\":\"9f1c\",\"stageId\":\"embed\",\"variantId\":\"embed-fp32\",\"outcome\":\"failed\",\"computeMilliseconds\":0,\"queueWaitMilliseconds\":0,\"queueLength\":0}");
        Bad("command-unlearn-without-device", nameof(OperatorCommand), "MissingField", "deviceId", "unlearn without a device",
            "{\"commandId\":\"cmd-9\",\"action\":\"unlearn\",\"issuedUnixMilliseconds\":1768478400000,\"signature\":\"" + new string('b', 64) + "\"}");
        Bad("update-header-negative-loss", nameof(LoraUpdateHeader), "OutOfRange", "trainingLoss", "negative training loss",
            "{\"round\":3,\"rank\":4,\"layers\":[0],\"precision\":\"int8\",\"sampleCount\":10,\"localSteps\":1,\"trainingLoss\":-0.5,\"baseModelId\":\"tinyvit-fmnist-s42\"}");
    }

    private static IEnumerable<KeyValuePair<string, TensorFrame>> LoraFactors(
        IReadOnlyList<int> layers, string projection, int rank, int inputs, int outputs, Func<float[], int[], TensorFrame> encode, Func<int, float[]> values)
    {
        foreach (int layer in layers)
        {
            yield return new(LoraFrameName.Of(layer, projection, isA: true), encode(values(rank * inputs), [rank, inputs]));
            yield return new(LoraFrameName.Of(layer, projection, isA: false), encode(values(outputs * rank), [outputs, rank]));
        }
    }

    private static byte[] Patched(byte[] data, int index, byte value)
    {
        byte[] copy = [.. data];
        copy[index] = value;
        return copy;
    }

    private static byte[] FloatBytes(params float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            LittleEndian.WriteSingle(bytes, i * 4, values[i]);
        }

        return bytes;
    }

    private static byte[] QuantizationBlock(int? axis, float[] scales, int[] zeroPoints)
    {
        var block = new List<byte>();
        if (axis is { } value)
        {
            block.AddRange(BitConverter.GetBytes((uint)value));
        }

        foreach (float scale in scales)
        {
            block.AddRange(BitConverter.GetBytes(scale));
        }

        foreach (int zeroPoint in zeroPoints)
        {
            block.AddRange(BitConverter.GetBytes(zeroPoint));
        }

        return [.. block];
    }

    private static byte[] WithBundleCrc(byte[] bundle)
    {
        byte[] copy = [.. bundle];
        LittleEndian.WriteUInt32(copy, copy.Length - 4, Crc32.Compute(copy, 0, copy.Length - 4));
        return copy;
    }

    private static byte[] RawBundle(string header, params (string Name, TensorFrame Frame)[] frames)
    {
        var bytes = new List<byte>();
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        bytes.AddRange(TensorBundleCodec.Magic);
        bytes.Add(1);
        bytes.Add(0);
        bytes.AddRange(BitConverter.GetBytes((ushort)frames.Length));
        bytes.AddRange(BitConverter.GetBytes((uint)headerBytes.Length));
        bytes.AddRange(headerBytes);
        foreach ((string name, TensorFrame frame) in frames)
        {
            byte[] frameBytes = TensorFrameCodec.Encode(frame);
            bytes.Add((byte)name.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(name));
            bytes.AddRange(BitConverter.GetBytes((uint)frameBytes.Length));
            bytes.AddRange(frameBytes);
        }

        bytes.AddRange(new byte[4]);
        return WithBundleCrc([.. bytes]);
    }

    /// <summary>A frame laid out field by field with no validation, CRC computed as the codec would.</summary>
    private sealed class RawFrame
    {
        public byte DataType { get; init; } = 1;

        public byte Quantization { get; init; }

        public int[] Shape { get; init; } = [];

        public byte[] QuantizationBlock { get; init; } = [];

        public byte[] Payload { get; init; } = [];

        public uint? DeclaredPayloadLength { get; init; }

        public byte[] ToBytes()
        {
            var header = new List<byte>();
            header.AddRange(TensorFrameCodec.Magic);
            header.Add(1);
            header.Add(DataType);
            header.Add(Quantization);
            header.Add((byte)Shape.Length);
            foreach (int dimension in Shape)
            {
                header.AddRange(BitConverter.GetBytes((uint)dimension));
            }

            header.AddRange(QuantizationBlock);
            header.AddRange(BitConverter.GetBytes(DeclaredPayloadLength ?? (uint)Payload.Length));
            byte[] headerBytes = [.. header];
            uint crc = Crc32.Finish(Crc32.Append(Crc32.Append(Crc32.Start(), headerBytes, 0, headerBytes.Length), Payload, 0, Payload.Length));
            return [.. headerBytes, .. BitConverter.GetBytes(crc), .. Payload];
        }
    }
}
