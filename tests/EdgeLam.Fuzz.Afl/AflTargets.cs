using EdgeLam.Fuzz.Engine;
using EdgeLam.Fuzz.Targets;
using SharpFuzz;

namespace EdgeLam.Fuzz.Afl;

/// <summary>The mutation fuzzer's targets served to afl-fuzz: a documented refusal is a normal run, anything else a crash.</summary>
public static class AflTargets
{
    /// <summary>The decoders AFL++ fuzzes: tensor frames, JSON messages and the firmware's MQTT packet parser (bundles too).</summary>
    public static readonly string[] Names = FuzzTargets.Names;

    /// <summary>
    /// Runs the SharpFuzz fork server on <paramref name="target"/>. Out of process, so a hang that afl-fuzz times out or a
    /// stack overflow costs one child process, not the whole fuzzing run.
    /// </summary>
    public static void Serve(FuzzTarget target) => Fuzzer.OutOfProcess.Run(stream => Execute(target, ReadAll(stream)));

    /// <summary>Feeds one input; the documented refusal is swallowed, any other exception escapes and afl-fuzz records a crash.</summary>
    public static void Execute(FuzzTarget target, byte[] input)
    {
        try
        {
            target.Execute(input);
        }
        catch (Exception error) when (target.IsDocumentedRefusal(error))
        {
        }
    }

    /// <summary>Writes each seed as seed-NNN; seeds over afl-fuzz's 1 MB input limit are left out.</summary>
    public static int WriteSeeds(FuzzTarget target, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = 0;
        foreach (var seed in target.Seeds.Where(s => s.Length is > 0 and <= 1024 * 1024))
            File.WriteAllBytes(Path.Combine(folder, $"seed-{written++:D3}"), seed);
        return written;
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
