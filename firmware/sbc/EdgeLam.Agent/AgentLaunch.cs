namespace EdgeLam.Agent;

/// <summary>
/// What the edgelam CLI's device verb and the emulated fleet pass to start one agent.
/// Fields left null keep the defaults of <see cref="AgentOptions"/>.
/// </summary>
/// <param name="Board">Board profile: a JSON file path or a built-in profile id.</param>
/// <param name="DeviceId">Device id (also the MQTT client id and user name unless <paramref name="UserName"/> is given).</param>
/// <param name="BrokerHost">Broker host.</param>
/// <param name="BrokerPort">Broker port.</param>
/// <param name="Password">MQTT password of the enrolled device.</param>
public sealed record AgentLaunch(string Board, string DeviceId, string BrokerHost, int BrokerPort, string? Password)
{
    /// <summary>MQTT user name; null means the device id.</summary>
    public string? UserName { get; init; }

    /// <summary>Dirichlet seed of the default shard.</summary>
    public long? ShardSeed { get; init; }

    /// <summary>Dirichlet concentration of the default shard.</summary>
    public double? ShardAlpha { get; init; }

    /// <summary>Index of this device's default shard.</summary>
    public int? ShardIndex { get; init; }

    /// <summary>Number of shards of the default split.</summary>
    public int? ShardCount { get; init; }

    /// <summary>Pace compute to the board profile's throughput (emulated devices).</summary>
    public bool PaceToBoardThroughput { get; init; }

    /// <summary>Further changes to the options (tests: tiny model, short intervals).</summary>
    public Action<AgentOptions>? Configure { get; init; }

    /// <summary>The options this launch stands for, validated.</summary>
    public AgentOptions ToOptions()
    {
        var options = new AgentOptions
        {
            Board = Board,
            DeviceId = DeviceId,
            BrokerHost = BrokerHost,
            BrokerPort = BrokerPort,
            UserName = UserName ?? DeviceId,
            Password = Password,
            PaceToBoardThroughput = PaceToBoardThroughput,
        };
        if (ShardSeed is { } seed) options.ShardSeed = seed;
        if (ShardAlpha is { } alpha) options.ShardAlpha = alpha;
        if (ShardIndex is { } index) options.ShardIndex = index;
        if (ShardCount is { } count) options.ShardCount = count;
        Configure?.Invoke(options);
        AgentOptionsValidation.ThrowIfInvalid(options);
        return options;
    }
}
