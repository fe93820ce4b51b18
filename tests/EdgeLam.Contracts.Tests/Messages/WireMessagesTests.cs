using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Tests.Golden;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Messages;

public sealed class WireMessagesTests
{
    private static readonly DateTimeOffset IssuedAt = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Decoded_message_equals_the_encoded_one()
    {
        var heartbeat = new DeviceHeartbeat { Sequence = 9, IntervalMilliseconds = 5000, QueueLength = 3, BusyMilliseconds = 1200, FreeMemoryBytes = 4096, TemperatureCelsius = -3.5 };
        Assert.Equal(heartbeat, WireMessages.Decode<DeviceHeartbeat>(WireMessages.Encode(heartbeat)));
        Assert.Equal("{\"sequence\":9,\"intervalMilliseconds\":5000,\"queueLength\":3,\"busyMilliseconds\":1200,\"freeMemoryBytes\":4096,\"temperatureCelsius\":-3.5}", System.Text.Encoding.UTF8.GetString(WireMessages.Encode(heartbeat)));
    }

    [Fact]
    public void Unknown_members_are_ignored_for_forward_compatibility()
    {
        DeviceStatus status = WireMessages.Decode<DeviceStatus>("""{"state":"offline","uptimeSeconds":12,"extra":{"a":[1]}}"""u8.ToArray());
        Assert.Equal(PresenceState.Offline, status.State);
    }

    [Fact]
    public void Encoding_an_invalid_message_is_refused_naming_the_field()
    {
        var assignment = new TrainingAssignment
        {
            Round = 1, Rank = 65, Layers = [0], Precision = Precision.Int8, LocalSteps = 1, BatchSize = 1, LearningRate = 0.1,
            DeadlineUnixMilliseconds = 1, PartitionSeed = 0, PartitionIndex = 0, PartitionCount = 1, DirichletAlpha = 1,
        };
        WireFormatException error = Assert.Throws<WireFormatException>(() => WireMessages.Encode(assignment));
        Assert.Equal((WireErrorCode.OutOfRange, "rank"), (error.Code, error.Field));

        error = Assert.Throws<WireFormatException>(() => WireMessages.Encode(assignment with { Rank = 4, LearningRate = double.NaN }));
        Assert.Equal((WireErrorCode.NonFinite, "learningRate"), (error.Code, error.Field));
    }

    [Fact]
    public void Operator_commands_verify_and_tampering_or_age_is_refused()
    {
        OperatorCommand command = OperatorCommandSignature.Sign("cmd-7", OperatorAction.Unlearn, "rpi5-02", IssuedAt, GoldenVectorGenerator.GoldenOperatorKey);
        OperatorCommandSignature.Verify(command, GoldenVectorGenerator.GoldenOperatorKey, IssuedAt.AddSeconds(30), TimeSpan.FromMinutes(5));

        WireFormatException tampered = Assert.Throws<WireFormatException>(() => OperatorCommandSignature.Verify(
            command with { DeviceId = "esp32-01" }, GoldenVectorGenerator.GoldenOperatorKey, IssuedAt, TimeSpan.FromMinutes(5)));
        Assert.Equal("signature", tampered.Field);

        WireFormatException stale = Assert.Throws<WireFormatException>(() => OperatorCommandSignature.Verify(
            command, GoldenVectorGenerator.GoldenOperatorKey, IssuedAt.AddMinutes(6), TimeSpan.FromMinutes(5)));
        Assert.Equal("issuedUnixMilliseconds", stale.Field);

        OperatorCommand golden = WireMessages.Decode<OperatorCommand>(GoldenVectors.Read("messages/command-unlearn.json"));
        OperatorCommandSignature.Verify(golden, GoldenVectorGenerator.GoldenOperatorKey, IssuedAt, TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void Inline_deployment_carries_its_size_and_digest()
    {
        byte[] model = [1, 2, 3, 4, 5];
        Deployment deployment = WireMessages.Decode<Deployment>(WireMessages.Encode(Deployment.Inline("head-int8", "head", Precision.Int8, model)));
        Assert.Equal(model, deployment.InlineModel());
        Assert.Equal(5, deployment.SizeBytes);
        Assert.Equal("pruned-int8", WireMessages.EnumName(Precision.PrunedInt8));
    }

    [Fact]
    public void Message_bundle_round_trips_a_lora_update()
    {
        var header = new LoraUpdateHeader { Round = 1, Rank = 2, Layers = [3], Precision = Precision.Fp32, SampleCount = 10, LocalSteps = 5, TrainingLoss = 1.25, BaseModelId = "base" };
        MessageBundle<LoraUpdateHeader> bundle = MessageBundle<LoraUpdateHeader>.Create(header, [
            new(LoraFrameName.Of(3, "query", isA: true), TensorFrame.FromFloats([1f, 2f, 3f, 4f, 5f, 6f], [2, 3])),
            new(LoraFrameName.Of(3, "query", isA: false), TensorFrame.FromFloats([1f, 2f, 3f, 4f], [2, 2])),
        ]);
        MessageBundle<LoraUpdateHeader> decoded = MessageBundle<LoraUpdateHeader>.Decode(bundle.Encode());
        Assert.Equal(header.Round, decoded.Header.Round);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], decoded.Bundle.GetRequired("layers.3.query.a").Dequantize());

        WireFormatException wrongRank = Assert.Throws<WireFormatException>(() => MessageBundle<LoraUpdateHeader>.Create(header with { Rank = 3 }, [
            new(LoraFrameName.Of(3, "query", isA: true), TensorFrame.FromFloats([1f, 2f], [2, 1])),
        ]));
        Assert.Equal(WireErrorCode.Inconsistent, wrongRank.Code);
    }
}
