namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// MQTT topic names of the contract (WIRE.md, "Topics"). Device ids are 1..64 characters of
    /// [A-Za-z0-9_-], so they can never contain the MQTT separators or wildcards '/', '+', '#'.
    /// </summary>
    public static class Topics
    {
        /// <summary>Root of every topic.</summary>
        public const string Root = "edgelam/v1/";

        /// <summary>Prefix of every device topic.</summary>
        public const string DevicesPrefix = "edgelam/v1/devices/";

        /// <summary>Retained gateway status (online/offline, also the gateway's last will).</summary>
        public const string GatewayStatus = "edgelam/v1/gateway/status";

        /// <summary>Gateway events: registry changes, rounds, rejections, unlearning.</summary>
        public const string GatewayEvents = "edgelam/v1/gateway/events";

        /// <summary>Authenticated operator commands (e.g. unlearn).</summary>
        public const string GatewayCommand = "edgelam/v1/gateway/command";

        /// <summary>Everything of the contract, e.g. for mosquitto_sub.</summary>
        public const string Everything = "edgelam/v1/#";

        /// <summary>Most characters of a device id.</summary>
        public const int MaxDeviceIdLength = 64;

        /// <summary>Topic of a device leaf, e.g. Device("esp32-01", DeviceTopic.Hello) = "edgelam/v1/devices/esp32-01/hello".</summary>
        public static string Device(string deviceId, DeviceTopic leaf)
        {
            RequireDeviceId(deviceId);
            return DevicesPrefix + deviceId + "/" + LeafName(leaf);
        }

        /// <summary>Subscription filter for one leaf of every device, e.g. "edgelam/v1/devices/+/hello".</summary>
        public static string AllDevices(DeviceTopic leaf)
        {
            return DevicesPrefix + "+/" + LeafName(leaf);
        }

        /// <summary>Subscription filter for everything of one device: "edgelam/v1/devices/{id}/#".</summary>
        public static string DeviceSubtree(string deviceId)
        {
            RequireDeviceId(deviceId);
            return DevicesPrefix + deviceId + "/#";
        }

        /// <summary>The path after edgelam/v1/devices/{id}/ of a leaf, e.g. "infer/result".</summary>
        public static string LeafName(DeviceTopic leaf)
        {
            switch (leaf)
            {
                case DeviceTopic.Hello: return "hello";
                case DeviceTopic.Status: return "status";
                case DeviceTopic.Heartbeat: return "heartbeat";
                case DeviceTopic.Update: return "update";
                case DeviceTopic.InferenceResult: return "infer/result";
                case DeviceTopic.DeployAck: return "deploy/ack";
                case DeviceTopic.Assign: return "assign";
                case DeviceTopic.Adapter: return "adapter";
                case DeviceTopic.Deploy: return "deploy";
                case DeviceTopic.InferenceRequest: return "infer/request";
                case DeviceTopic.Rejected: return "rejected";
                default: throw new System.ArgumentException("no topic for leaf " + ((int)leaf).ToString(), nameof(leaf));
            }
        }

        /// <summary>True when the device publishes on this leaf; false when the gateway does.</summary>
        public static bool IsPublishedByDevice(DeviceTopic leaf)
        {
            return leaf >= DeviceTopic.Hello && leaf <= DeviceTopic.DeployAck;
        }

        /// <summary>
        /// Splits "edgelam/v1/devices/{id}/{leaf}". Returns false for any other topic, an invalid id or an
        /// unknown leaf (then <paramref name="leaf"/> is Unknown and <paramref name="deviceId"/> empty).
        /// </summary>
        public static bool TryParseDevice(string topic, out string deviceId, out DeviceTopic leaf)
        {
            deviceId = string.Empty;
            leaf = DeviceTopic.Unknown;
            if (topic == null || !topic.StartsWith(DevicesPrefix))
            {
                return false;
            }

            int idEnd = topic.IndexOf('/', DevicesPrefix.Length);
            if (idEnd < 0)
            {
                return false;
            }

            string id = topic.Substring(DevicesPrefix.Length, idEnd - DevicesPrefix.Length);
            if (!IsValidDeviceId(id))
            {
                return false;
            }

            DeviceTopic parsed = ParseLeaf(topic.Substring(idEnd + 1));
            if (parsed == DeviceTopic.Unknown)
            {
                return false;
            }

            deviceId = id;
            leaf = parsed;
            return true;
        }

        /// <summary>The leaf named by a path such as "infer/result"; Unknown when none.</summary>
        public static DeviceTopic ParseLeaf(string path)
        {
            for (int value = (int)DeviceTopic.Hello; value <= (int)DeviceTopic.Rejected; value++)
            {
                if (LeafName((DeviceTopic)value) == path)
                {
                    return (DeviceTopic)value;
                }
            }

            return DeviceTopic.Unknown;
        }

        /// <summary>True for 1..64 characters of [A-Za-z0-9_-].</summary>
        public static bool IsValidDeviceId(string deviceId)
        {
            if (deviceId == null || deviceId.Length == 0 || deviceId.Length > MaxDeviceIdLength)
            {
                return false;
            }

            for (int i = 0; i < deviceId.Length; i++)
            {
                char c = deviceId[i];
                bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                if (!allowed)
                {
                    return false;
                }
            }

            return true;
        }

        private static void RequireDeviceId(string deviceId)
        {
            if (!IsValidDeviceId(deviceId))
            {
                throw new System.ArgumentException("device id must be 1..64 characters of [A-Za-z0-9_-]", nameof(deviceId));
            }
        }
    }
}
