namespace EdgeLam.Model.Data;

/// <summary>A dataset file is missing, truncated, or not the IDX file it should be.</summary>
public sealed class DatasetFileException : IOException
{
    public DatasetFileException(string filePath, string problem, Exception? innerException = null)
        : base($"Dataset file '{filePath}': {problem}. Install the Debian package '{FashionMnist.DebianPackage}' (apt-get install -y {FashionMnist.DebianPackage}) or put the original Fashion-MNIST IDX .gz files in that folder.", innerException)
    {
        FilePath = filePath;
    }

    public DatasetFileException()
    {
        FilePath = string.Empty;
    }

    public DatasetFileException(string message) : base(message)
    {
        FilePath = string.Empty;
    }

    public DatasetFileException(string message, Exception innerException) : base(message, innerException)
    {
        FilePath = string.Empty;
    }

    public string FilePath { get; }
}
