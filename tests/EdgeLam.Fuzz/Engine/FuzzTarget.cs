namespace EdgeLam.Fuzz.Engine;

/// <summary>
/// One decoder under fuzzing: the seed inputs mutations start from, the call that feeds it one input, and the
/// exception type its contract documents for malformed input (anything else is a finding).
/// </summary>
/// <param name="Name">Short name used on the command line and in findings folders.</param>
/// <param name="Seeds">Valid and malformed inputs to start from (golden vectors).</param>
/// <param name="Execute">Feeds one input to the decoder.</param>
/// <param name="DocumentedRefusal">The only exception type the decoder may throw for bad input.</param>
/// <param name="MaximumInputBytes">Mutations never grow an input beyond this.</param>
public sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Seeds, Action<byte[]> Execute, Type DocumentedRefusal, int MaximumInputBytes = 64 * 1024)
{
    /// <summary>True when <paramref name="error"/> is the documented refusal (or derives from it).</summary>
    public bool IsDocumentedRefusal(Exception error) => DocumentedRefusal.IsInstanceOfType(error);
}
