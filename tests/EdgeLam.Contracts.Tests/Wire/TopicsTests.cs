using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Wire;

public sealed class TopicsTests
{
    [Theory]
    [InlineData(DeviceTopic.Hello, "edgelam/v1/devices/esp32-01/hello")]
    [InlineData(DeviceTopic.Status, "edgelam/v1/devices/esp32-01/status")]
    [InlineData(DeviceTopic.Heartbeat, "edgelam/v1/devices/esp32-01/heartbeat")]
    [InlineData(DeviceTopic.Update, "edgelam/v1/devices/esp32-01/update")]
    [InlineData(DeviceTopic.InferenceResult, "edgelam/v1/devices/esp32-01/infer/result")]
    [InlineData(DeviceTopic.DeployAck, "edgelam/v1/devices/esp32-01/deploy/ack")]
    [InlineData(DeviceTopic.Assign, "edgelam/v1/devices/esp32-01/assign")]
    [InlineData(DeviceTopic.Adapter, "edgelam/v1/devices/esp32-01/adapter")]
    [InlineData(DeviceTopic.Deploy, "edgelam/v1/devices/esp32-01/deploy")]
    [InlineData(DeviceTopic.InferenceRequest, "edgelam/v1/devices/esp32-01/infer/request")]
    [InlineData(DeviceTopic.Rejected, "edgelam/v1/devices/esp32-01/rejected")]
    public void Device_topics_are_built_and_parsed_back(DeviceTopic leaf, string topic)
    {
        Assert.Equal(topic, Topics.Device("esp32-01", leaf));
        Assert.True(Topics.TryParseDevice(topic, out string deviceId, out DeviceTopic parsed));
        Assert.Equal("esp32-01", deviceId);
        Assert.Equal(leaf, parsed);
    }

    [Theory]
    [InlineData("edgelam/v1/devices/esp32-01/unknown")]
    [InlineData("edgelam/v1/devices/esp32-01")]
    [InlineData("edgelam/v1/devices//hello")]
    [InlineData("edgelam/v1/devices/+/hello")]
    [InlineData("edgelam/v1/devices/esp 01/hello")]
    [InlineData("edgelam/v2/devices/esp32-01/hello")]
    [InlineData("edgelam/v1/devices/esp32-01/hello/extra")]
    [InlineData("edgelam/v1/gateway/status")]
    public void Other_topics_are_not_device_topics(string topic)
    {
        Assert.False(Topics.TryParseDevice(topic, out string deviceId, out DeviceTopic leaf));
        Assert.Equal(string.Empty, deviceId);
        Assert.Equal(DeviceTopic.Unknown, leaf);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("x\u00e9")]
    public void Device_ids_that_could_escape_their_subtree_are_refused(string deviceId)
    {
        Assert.False(Topics.IsValidDeviceId(deviceId));
        Assert.Throws<ArgumentException>(() => Topics.Device(deviceId, DeviceTopic.Hello));
    }

    [Fact]
    public void Subscription_filters_and_direction()
    {
        Assert.Equal("edgelam/v1/devices/+/update", Topics.AllDevices(DeviceTopic.Update));
        Assert.Equal("edgelam/v1/devices/rpi5-02/#", Topics.DeviceSubtree("rpi5-02"));
        Assert.True(Topics.IsPublishedByDevice(DeviceTopic.DeployAck));
        Assert.False(Topics.IsPublishedByDevice(DeviceTopic.Assign));
        Assert.Equal(65, new string('a', 65).Length);
        Assert.False(Topics.IsValidDeviceId(new string('a', 65)));
        Assert.True(Topics.IsValidDeviceId(new string('a', 64)));
    }
}
