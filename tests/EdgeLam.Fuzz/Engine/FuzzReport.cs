using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLam.Fuzz.Engine;

/// <summary>What kind of defect an input revealed.</summary>
public enum FindingKind
{
    /// <summary>An exception other than the documented refusal escaped the decoder.</summary>
    UnexpectedException,

    /// <summary>One input ran past the per-input time limit.</summary>
    Hang,

    /// <summary>One input made the decoder allocate more than the allocation limit (or run out of memory).</summary>
    ExcessiveAllocation,
}

/// <summary>One defect, with the file its input was saved to.</summary>
public sealed record FuzzFinding(FindingKind Kind, string Description, string? InputPath, int InputLength);

/// <summary>The outcome of fuzzing one target for a time budget: inputs run, accepted as valid, refused as documented.</summary>
public sealed record FuzzReport(string Target, long Inputs, double Seconds, long Accepted, long Refusals, IReadOnlyList<FuzzFinding> Findings)
{
    /// <summary>Inputs executed per second of the run.</summary>
    public double ExecutionsPerSecond => Seconds > 0 ? Inputs / Seconds : 0;

    /// <summary>One JSON object: target, inputs, seconds, executions per second, refusals, findings.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        target = Target,
        inputs = Inputs,
        seconds = Math.Round(Seconds, 3),
        executionsPerSecond = Math.Round(ExecutionsPerSecond, 1),
        accepted = Accepted,
        refusals = Refusals,
        findings = Findings.Count,
        findingDetails = Findings,
    }, JsonOptions);

    /// <summary>The human-readable summary line.</summary>
    public string ToText() =>
        $"{Target}: {Inputs} inputs in {Seconds:F1} s ({ExecutionsPerSecond:F0} exec/s), {Accepted} accepted, {Refusals} refused, {Findings.Count} findings";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };
}
