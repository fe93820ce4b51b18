namespace EdgeLam.Gateway.Broker;

/// <summary>What a connected MQTT identity may do; see <see cref="TopicAccessPolicy"/>.</summary>
public enum ClientRole
{
    /// <summary>The gateway itself: may publish and subscribe anywhere under edgelam/v1/.</summary>
    Gateway,

    /// <summary>A fleet device: only its own subtree, plus the gateway status.</summary>
    Device,

    /// <summary>A person or dashboard watching topics: may subscribe to everything, publish nothing.</summary>
    Observer,
}

public sealed record ClientIdentity(string Name, ClientRole Role);
