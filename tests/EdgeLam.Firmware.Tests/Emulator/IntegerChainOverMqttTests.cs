using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Emulator;
using EdgeLam.Firmware.Emulator.Stages;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Tests.Mqtt;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Variants;

namespace EdgeLam.Firmware.Tests.Emulator;

/// <summary>An emulated ESP32 loads the embed, block and head stages of INT8 and Pruned-INT8 and serves stage tasks over MQTT 3.1.1.</summary>
public sealed class IntegerChainOverMqttTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_device_loads_every_integer_stage_calibrates_it_and_answers_the_chain_like_the_in_process_chain()
    {
        var model = TestModel.Model;
        var config = model.Weights.Config;
        var pixels = model.Data.Train.ScaledPixels(0, 128);
        var options = new VariantBuildOptions { CalibrationImages = 128, Requantization = RequantizationMode.FixedPoint };
        var pruned = VariantModel.PrunedInt8(model.Weights, pixels, 128, options);
        var builder = new Int8StageBlobBuilder(pruned.Quantized!, pixels, 128);
        var chain = McuIntegerChain.FromBuilder(ModelVariant.PrunedInt8, builder);
        await using var broker = await TestBroker.StartEmbeddedAsync();
        using var gateway = await GatewayProbe.AttachAsync(await broker.ConnectGatewayAsync());
        var launch = new EmulatorLaunch
        {
            BoardPath = RegisterTrainInferCycleTests.BoardPath("esp32-wrover"), DeviceId = "esp-3", BrokerPort = broker.Port,
            Password = TestBroker.DevicePassword, PacingTimeScale = 0, ThroughputBenchmarkMilliseconds = 50,
        };
        string Topic(DeviceTopic leaf) => Topics.Device("esp-3", leaf);
        await using var fleet = await EmulatorRunner.StartAsync([launch], model, null, CancellationToken.None);

        var helloPayload = await gateway.NextAsync(Topic(DeviceTopic.Hello), Wait);
        var hello = WireMessages.Decode<DeviceHello>(helloPayload);
        Assert.Contains("\"macsPerSecondSource\":\"measured\"", Encoding.UTF8.GetString(helloPayload), StringComparison.Ordinal);
        Assert.NotEqual(100_000, hello.MacsPerSecond);

        var stages = Int8StageBlobBuilder.Pipeline(config).Select(s => s.StageId).ToArray();
        foreach (var stage in stages)
        {
            var blob = builder.Build(stage);
            await gateway.PublishAsync(Topic(DeviceTopic.Deploy), WireMessages.Encode(Deployment.Inline($"{stage}-pruned_int8", stage, Precision.PrunedInt8, blob)));
            var ackPayload = await gateway.NextAsync(Topic(DeviceTopic.DeployAck), Wait);
            var ack = WireMessages.Decode<DeploymentAck>(ackPayload);
            Assert.True(ack.Outcome == DeploymentOutcome.Loaded, ack.Error);
            // The calibration run is paced to the profile: MACs at 100 000 MAC/s, rounded up to whole milliseconds.
            var macs = Int8StageBlobBuilder.ShapeOf(pruned.Weights.Config, stage).MultiplyAccumulates;
            Assert.Contains($"\"calibratedLatencyMilliseconds\":{Math.Ceiling(macs / 100.0)}", Encoding.UTF8.GetString(ackPayload), StringComparison.Ordinal);
        }

        const int images = 3;
        var input = TensorFrame.FromFloatArray(model.Data.Test.ScaledPixels(0, images), [images, config.PixelsPerImage], TensorDataType.Float32);
        var frame = input;
        for (var s = 0; s < stages.Length; s++)
        {
            var request = MessageBundle<InferenceRequestHeader>.Create(new InferenceRequestHeader
            {
                CorrelationId = $"chain-{s}", StageId = stages[s], VariantId = $"{stages[s]}-pruned_int8",
                DeadlineUnixMilliseconds = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds(),
            }, [new(InferenceRequestHeader.InputFrameName, frame)]);
            await gateway.PublishAsync(Topic(DeviceTopic.InferenceRequest), request.Encode());
            var result = MessageBundle<InferenceResultHeader>.Decode(await gateway.NextAsync(Topic(DeviceTopic.InferenceResult), Wait));
            Assert.Equal(($"chain-{s}", InferenceOutcome.Ok), (result.Header.CorrelationId, result.Header.Outcome));
            frame = result.Bundle.GetRequired(InferenceResultHeader.OutputFrameName);
            Assert.Equal(TensorDataType.Int8, frame.DataType);
        }

        Assert.Equal(chain.Logits(input.ToFloatArray(), images), frame.ToInt8Array());
    }
}
