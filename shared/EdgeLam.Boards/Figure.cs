namespace EdgeLam.Boards;

/// <summary>Where a figure in a board profile comes from.</summary>
public enum FigureSource
{
    /// <summary>Published by the manufacturer; the reference names the document and section.</summary>
    Datasheet,

    /// <summary>Measured on this project's own benchmark; the reference names the command.</summary>
    Measured,

    /// <summary>Reasoned, not published or measured; the reference gives the reasoning in one line.</summary>
    Estimate,
}

/// <summary>A value together with its source and a reference, so no number in a profile is unlabeled.</summary>
public sealed record Figure<T>(T Value, FigureSource Source, string Reference)
    where T : notnull;
