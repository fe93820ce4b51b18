using System.Text.Json;
using EdgeLam.Boards;

namespace EdgeLam.Cli.Demo;

/// <summary>One fleet member of a fleet spec: its id, board profile and Dirichlet shard.</summary>
public sealed record FleetSpecDevice(string Id, string Board, int Shard);

/// <summary>A fleet spec file (hardware/fleets/*.json): the devices the demo emulates.</summary>
public sealed record FleetSpec(string? Description, IReadOnlyList<FleetSpecDevice> Devices)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    public static FleetSpec Load(string path)
    {
        FleetSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<FleetSpec>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"fleet spec '{path}' is not valid JSON: {ex.Message}", ex);
        }

        if (spec?.Devices is null || spec.Devices.Count == 0)
            throw new InvalidDataException($"fleet spec '{path}' lists no devices");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var shards = new HashSet<int>();
        foreach (var device in spec.Devices)
        {
            if (!EdgeLam.Contracts.Wire.Topics.IsValidDeviceId(device.Id))
                throw new InvalidDataException($"fleet spec '{path}': device id '{device.Id}' must be 1..64 characters of [A-Za-z0-9_-]");
            if (!ids.Add(device.Id)) throw new InvalidDataException($"fleet spec '{path}': device id '{device.Id}' appears twice");
            if (device.Shard < 0 || !shards.Add(device.Shard)) throw new InvalidDataException($"fleet spec '{path}': device '{device.Id}' has a negative or repeated shard {device.Shard}");
        }

        return spec;
    }

    /// <summary>The board profile file of a device, under the repository's hardware/boards.</summary>
    public static string BoardPath(string boardsDirectory, FleetSpecDevice device)
    {
        var path = Path.Combine(boardsDirectory, device.Board + ".json");
        if (!File.Exists(path)) throw new FileNotFoundException($"device '{device.Id}' names board '{device.Board}', but {path} does not exist", path);
        return path;
    }

    public static string DefaultPath(string boardsDirectory) =>
        Path.Combine(Path.GetDirectoryName(boardsDirectory)!, "fleets", "demo-fleet.json");

    public static BoardRuntime RuntimeOf(string boardPath) => BoardProfileLoader.Load(boardPath).Runtime;
}
