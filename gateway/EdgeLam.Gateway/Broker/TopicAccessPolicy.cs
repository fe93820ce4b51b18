namespace EdgeLam.Gateway.Broker;

/// <summary>
/// Topic ACL: a device publishes only its uplinks under edgelam/v1/devices/{id}/ and subscribes only
/// to its own subtree and the gateway status; it can never reach another device's subtree or the
/// gateway's command topic.
/// </summary>
public static class TopicAccessPolicy
{
    public const string Root = "edgelam/v1/";
    private const string DevicesPrefix = Root + "devices/";

    /// <summary>Leaves under a device's subtree that only the device publishes.</summary>
    private static readonly string[] DeviceUplinks = ["hello", "status", "heartbeat", "update", "infer/result", "deploy/ack"];

    /// <summary>Topics outside its subtree that any device may subscribe to.</summary>
    private static readonly string[] DeviceReadableGatewayTopics = [Root + "gateway/status"];

    public static bool CanPublish(ClientIdentity identity, string topic, out string reason)
    {
        reason = string.Empty;
        if (!IsConcreteTopic(topic))
        {
            reason = $"topic '{topic}' is empty or contains a wildcard";
            return false;
        }

        switch (identity.Role)
        {
            case ClientRole.Gateway:
                if (topic.StartsWith(Root, StringComparison.Ordinal)) return true;
                reason = $"topic '{topic}' is outside {Root}";
                return false;
            case ClientRole.Device:
                var own = DevicesPrefix + identity.Name + "/";
                foreach (var leaf in DeviceUplinks)
                    if (string.Equals(topic, own + leaf, StringComparison.Ordinal)) return true;
                reason = topic.StartsWith(own, StringComparison.Ordinal)
                    ? $"device '{identity.Name}' may not publish gateway-to-device topic '{topic}'"
                    : $"device '{identity.Name}' may publish only under {own}";
                return false;
            default:
                reason = $"'{identity.Name}' is an observer and may not publish";
                return false;
        }
    }

    public static bool CanSubscribe(ClientIdentity identity, string filter, out string reason)
    {
        reason = string.Empty;
        if (string.IsNullOrEmpty(filter))
        {
            reason = "empty topic filter";
            return false;
        }

        switch (identity.Role)
        {
            case ClientRole.Gateway:
            case ClientRole.Observer:
                if (filter.StartsWith(Root, StringComparison.Ordinal) || filter == "edgelam/#") return true;
                reason = $"filter '{filter}' is outside {Root}";
                return false;
            default:
                var own = DevicesPrefix + identity.Name + "/";
                // A wildcard is allowed only after the device's own prefix, so it cannot widen to other devices.
                if (filter.StartsWith(own, StringComparison.Ordinal)) return true;
                foreach (var topic in DeviceReadableGatewayTopics)
                    if (string.Equals(filter, topic, StringComparison.Ordinal)) return true;
                reason = $"device '{identity.Name}' may subscribe only under {own} or to {Root}gateway/status";
                return false;
        }
    }

    private static bool IsConcreteTopic(string topic) =>
        !string.IsNullOrEmpty(topic) && topic.IndexOfAny(['+', '#']) < 0;
}
