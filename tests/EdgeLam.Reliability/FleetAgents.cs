using System.Text.Json.Nodes;
using EdgeLam.Agent;
using EdgeLam.Agent.Fleet;
using EdgeLam.Agent.Training;
using EdgeLam.Boards;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Reliability;

/// <summary>Real Raspberry Pi agents (the "tiny" base model, short intervals) connected to a gateway under test.</summary>
public sealed class FleetAgents : IAsyncDisposable
{
    /// <summary>One cache of the tiny base checkpoint for every scenario of a run.</summary>
    public static readonly string CheckpointDirectory = Path.Combine(Path.GetTempPath(), "edgelam-reliability-checkpoints");

    private readonly List<AgentHandle> _agents = [];

    public IReadOnlyList<AgentHandle> Agents => _agents;

    /// <summary>Updates the agents published and the broker acknowledged with a subscriber present.</summary>
    public long UpdatesPublished => _agents.Sum(a => a.Agent.Connection.Delivered(DeviceTopic.Update));

    public static void TinyOptions(AgentOptions options)
    {
        options.ModelSize = "tiny";
        options.PretrainingEpochs = 1;
        options.PublicSliceCount = 2_000;
        options.CheckpointDirectory = CheckpointDirectory;
        options.DevicePoolCount = 8_000;
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        options.ReconnectInitialDelay = TimeSpan.FromMilliseconds(50);
        options.ReconnectMaximumDelay = TimeSpan.FromMilliseconds(400);
        options.CalibrationRuns = 3;
    }

    /// <summary>Starts an agent for <paramref name="deviceId"/>; <paramref name="trainingSeconds"/> paces its local training to about that long.</summary>
    public async Task<AgentHandle> StartAsync(string deviceId, int port, double? trainingSeconds = null, string? directory = null)
    {
        var board = "raspberry-pi-4";
        if (trainingSeconds is { } seconds)
            board = SlowBoard(directory ?? Path.GetTempPath(), deviceId, seconds);
        var launch = new AgentLaunch(board, deviceId, "127.0.0.1", port, GatewayUnderTest.DevicePassword)
        {
            PaceToBoardThroughput = trainingSeconds is not null,
            Configure = TinyOptions,
        };
        var handle = await AgentRunner.StartAsync(launch).ConfigureAwait(false);
        _agents.Add(handle);
        return handle;
    }

    /// <summary>Loads the tiny base once (pretraining it on the first run) so no round waits for it.</summary>
    public static void WarmUp()
    {
        var options = new AgentOptions { DeviceId = "warm-up", Board = "raspberry-pi-4" };
        TinyOptions(options);
        CheckpointBaseModelSource.For(options, AgentData.For(options)).Get(CancellationToken.None);
    }

    /// <summary>A Raspberry Pi profile whose fp32 rate makes a round of the gateway's local steps take about <paramref name="seconds"/>.</summary>
    private static string SlowBoard(string directory, string deviceId, double seconds)
    {
        var source = Path.Combine(BoardProfileLoader.FindBoardsDirectory(AppContext.BaseDirectory), "raspberry-pi-4.json");
        var json = JsonNode.Parse(File.ReadAllText(source))!;
        // The gateway under test assigns 4 steps of 16 images (see GatewayUnderTest).
        var macs = 4.0 * 16 * ComputeCost.TrainingMacsPerImage(CheckpointBaseModelSource.ConfigOf("tiny"));
        json["multiplyAccumulatesPerSecond"]!["fp32"]!["value"] = Math.Max(1, macs / seconds);
        var path = Path.Combine(directory, "boards-" + deviceId, "raspberry-pi-4.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents) await agent.DisposeAsync().ConfigureAwait(false);
        _agents.Clear();
    }
}
