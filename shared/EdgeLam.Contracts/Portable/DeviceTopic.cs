namespace EdgeLam.Contracts.Wire
{
    /// <summary>The leaf of a topic under edgelam/v1/devices/{deviceId}/ (WIRE.md, "Topics").</summary>
    public enum DeviceTopic
    {
        /// <summary>Not a known leaf.</summary>
        Unknown = 0,

        /// <summary>hello: device to gateway, capabilities.</summary>
        Hello = 1,

        /// <summary>status: device to gateway, retained online/offline, also the last will.</summary>
        Status = 2,

        /// <summary>heartbeat: device to gateway, load.</summary>
        Heartbeat = 3,

        /// <summary>update: device to gateway, LoRA update bundle.</summary>
        Update = 4,

        /// <summary>infer/result: device to gateway, stage output bundle.</summary>
        InferenceResult = 5,

        /// <summary>deploy/ack: device to gateway, outcome of a deployment.</summary>
        DeployAck = 6,

        /// <summary>assign: gateway to device, training assignment.</summary>
        Assign = 7,

        /// <summary>adapter: gateway to device, global adapter bundle.</summary>
        Adapter = 8,

        /// <summary>deploy: gateway to device, model variant deployment.</summary>
        Deploy = 9,

        /// <summary>infer/request: gateway to device, stage input bundle.</summary>
        InferenceRequest = 10,

        /// <summary>rejected: gateway to device, why a message of that device was refused.</summary>
        Rejected = 11,
    }
}
