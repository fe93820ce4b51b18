using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLam.Boards;
using EdgeLam.Contracts.Artifacts;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Agent.Inference;

/// <summary>A variant loaded on this device.</summary>
/// <param name="VariantId">Variant id.</param>
/// <param name="StageId">Stage it serves.</param>
/// <param name="Precision">Its precision.</param>
/// <param name="Session">The ONNX Runtime session.</param>
/// <param name="MemoryBytes">Memory charged against the board's model budget (estimate, see <see cref="VariantHost.EstimateMemoryBytes"/>).</param>
/// <param name="CalibratedMilliseconds">Median single-image latency measured at deployment on this machine.</param>
public sealed record LoadedVariant(string VariantId, string StageId, Precision Precision, VariantSession Session, long MemoryBytes, double CalibratedMilliseconds);

/// <summary>
/// The stage variants deployed on this device: verifies each deployment (size, SHA-256, board precision, model
/// memory budget), loads it into ONNX Runtime, measures its latency, and answers with a deployment ack.
/// </summary>
public sealed partial class VariantHost : IDisposable
{
    /// <summary>Name of the extra ack member with the calibrated latency (readers ignore members they do not know; WIRE.md).</summary>
    public const string CalibratedLatencyMember = "calibratedLatencyMilliseconds";

    /// <summary>Name of the extra ack member with the execution provider that runs the variant.</summary>
    public const string ExecutionProviderMember = "executionProvider";

    private readonly Dictionary<string, LoadedVariant> _variants = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly BoardProfile _board;
    private readonly AgentOptions _options;
    private readonly ArtifactDownloads _downloads;
    private readonly ILogger _logger;
    private bool _cudaFallbackLogged;

    /// <summary>A host for <paramref name="board"/>.</summary>
    public VariantHost(BoardProfile board, AgentOptions options, ILogger logger)
    {
        _board = board;
        _options = options;
        _logger = logger;
        _downloads = new ArtifactDownloads(Path.Combine(options.ArtifactDirectory, options.DeviceId), options.ArtifactTimeout, logger);
    }

    /// <summary>Bytes of the model budget in use.</summary>
    public long UsedBytes
    {
        get
        {
            lock (_gate) return _variants.Values.Sum(variant => variant.MemoryBytes);
        }
    }

    /// <summary>The variants loaded now.</summary>
    public IReadOnlyList<LoadedVariant> Variants
    {
        get
        {
            lock (_gate) return _variants.Values.ToArray();
        }
    }

    /// <summary>
    /// Memory a session of a model file needs, estimated: ONNX Runtime holds the initializers it read from the file
    /// and may pre-pack GEMM weights into a second layout, and the file bytes are held while loading; three times the
    /// file size bounds that for these weight-dominated stage graphs.
    /// </summary>
    public static long EstimateMemoryBytes(long modelBytes) => 3 * modelBytes;

    /// <summary>The variant with this id, or null.</summary>
    public LoadedVariant? Find(string variantId)
    {
        lock (_gate) return _variants.GetValueOrDefault(variantId);
    }

    /// <summary>Handles one deploy payload; returns the ack JSON to publish, or null when the payload names no variant to answer for.</summary>
    public byte[]? Handle(byte[] payload)
    {
        Deployment? deployment;
        try
        {
            deployment = JsonSerializer.Deserialize(payload, WireMessages.TypeInfo<Deployment>());
        }
        catch (JsonException exception)
        {
            LogUnreadableDeployment(_logger, exception.Message);
            return null;
        }

        if (deployment is null || !IsIdentifier(deployment.VariantId) || !IsIdentifier(deployment.StageId))
        {
            LogUnreadableDeployment(_logger, "variantId or stageId missing or invalid");
            return null;
        }

        var stopwatch = Stopwatch.StartNew();
        try
        {
            return deployment.Action == DeploymentAction.Remove ? Remove(deployment) : Deploy(deployment, stopwatch);
        }
        catch (WireFormatException exception)
        {
            return Failed(deployment, exception.Message);
        }
    }

    private byte[] Remove(Deployment deployment)
    {
        LoadedVariant? removed;
        lock (_gate)
        {
            if (_variants.Remove(deployment.VariantId, out removed)) removed.Session.Dispose();
        }

        if (removed is null)
            return Failed(deployment, $"variant {deployment.VariantId} is not deployed on this device");
        LogRemoved(_logger, deployment.VariantId, deployment.StageId);
        return WireMessages.Encode(new DeploymentAck { VariantId = deployment.VariantId, StageId = deployment.StageId, Outcome = DeploymentOutcome.Removed });
    }

    private byte[] Deploy(Deployment deployment, Stopwatch stopwatch)
    {
        byte[]? inline = null;
        if (deployment.Url is null)
        {
            inline = deployment.InlineModel() ?? throw new WireFormatException(WireErrorCode.MissingField, "inlineBase64", "deploy needs the model bytes or its url");
            if (deployment.SizeBytes is { } declared && declared != inline.Length)
                return Failed(deployment, $"size mismatch: the deployment says {declared} bytes, the inline model has {inline.Length}");
            string actual = Convert.ToHexStringLower(SHA256.HashData(inline));
            if (!string.Equals(actual, deployment.Sha256, StringComparison.Ordinal))
                return Failed(deployment, $"SHA-256 mismatch: the deployment says {deployment.Sha256}, the {inline.Length} model bytes hash to {actual}");
        }

        deployment.Validate();
        Precision precision = deployment.Precision!.Value;
        if (!_board.Supports(Training.PrecisionMapping.ToBoard(precision)))
            return Failed(deployment, $"board {_board.Id} does not run {WireMessages.EnumName(precision)} variants");

        long modelBytes = deployment.SizeBytes!.Value;
        long need = EstimateMemoryBytes(modelBytes);
        long budget = _board.Memory.ModelBudgetBytes.Value;
        long used;
        int loadedCount;
        lock (_gate)
        {
            var others = _variants.Values.Where(variant => variant.VariantId != deployment.VariantId).ToArray();
            used = others.Sum(variant => variant.MemoryBytes);
            loadedCount = others.Length;
        }

        // Checked before any download: a variant that cannot fit is refused without fetching it.
        if (used + need > budget)
        {
            return Failed(deployment,
                $"does not fit the model memory budget: needs {need} bytes (3 x {modelBytes}-byte model, estimate), " +
                $"{used} of the {budget}-byte budget of board {_board.Id} are used by {loadedCount} variants, {budget - used} free");
        }

        string? modelFile = null;
        if (inline is null)
        {
            try
            {
                modelFile = _downloads.Download(deployment.Url!, modelBytes, deployment.Sha256!);
            }
            catch (ArtifactDownloadException exception)
            {
                return Failed(deployment, exception.Message);
            }
        }

        VariantSession session;
        try
        {
            bool tryCuda = _board.ExecutionProviders.Contains(ExecutionProvider.Cuda);
            string? cudaUnavailable;
            session = modelFile is null
                ? VariantSession.Load(inline!, _options.InferenceThreads, tryCuda, out cudaUnavailable)
                : VariantSession.Load(modelFile, _options.InferenceThreads, tryCuda, out cudaUnavailable);
            if (cudaUnavailable is not null && !_cudaFallbackLogged)
            {
                _cudaFallbackLogged = true;
                LogCudaUnavailable(_logger, _board.Id, cudaUnavailable);
            }
        }
        catch (InvalidDataException exception)
        {
            return Failed(deployment, exception.Message);
        }
        finally
        {
            // ONNX Runtime holds the model once the session exists; the file is not needed again.
            if (modelFile is not null) File.Delete(modelFile);
        }

        double latency;
        try
        {
            latency = session.CalibrateMilliseconds(_options.CalibrationRuns);
        }
        catch (Exception exception) when (exception is InvalidDataException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            session.Dispose();
            return Failed(deployment, $"calibration run failed: {exception.Message.Split('\n')[0]}");
        }

        var loaded = new LoadedVariant(deployment.VariantId, deployment.StageId, precision, session, need, latency);
        lock (_gate)
        {
            if (_variants.Remove(deployment.VariantId, out LoadedVariant? previous)) previous.Session.Dispose();
            _variants[deployment.VariantId] = loaded;
        }

        stopwatch.Stop();
        LogDeployed(_logger, deployment.VariantId, deployment.StageId, session.ExecutionProvider, latency, need);
        var ack = new DeploymentAck
        {
            VariantId = deployment.VariantId,
            StageId = deployment.StageId,
            Outcome = DeploymentOutcome.Loaded,
            LoadMilliseconds = stopwatch.Elapsed.TotalMilliseconds,
            MemoryBytes = need,
        };
        JsonObject json = JsonNode.Parse(WireMessages.Encode(ack))!.AsObject();
        json[CalibratedLatencyMember] = latency;
        json[ExecutionProviderMember] = session.ExecutionProvider;
        return JsonSerializer.SerializeToUtf8Bytes(json);
    }

    private byte[] Failed(Deployment deployment, string error)
    {
        if (error.Length > MessageRules.MaxTextLength) error = error[..MessageRules.MaxTextLength];
        LogDeploymentFailed(_logger, deployment.VariantId, deployment.StageId, error);
        return WireMessages.Encode(new DeploymentAck { VariantId = deployment.VariantId, StageId = deployment.StageId, Outcome = DeploymentOutcome.Failed, Error = error });
    }

    private static bool IsIdentifier(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MessageRules.MaxIdentifierLength
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (LoadedVariant variant in _variants.Values) variant.Session.Dispose();
            _variants.Clear();
        }

        _downloads.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored an unreadable deployment: {Reason}")]
    private static partial void LogUnreadableDeployment(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Variant {VariantId} of stage {StageId} loaded on {Provider}: {LatencyMilliseconds} ms per image, {MemoryBytes} bytes of budget")]
    private static partial void LogDeployed(ILogger logger, string variantId, string stageId, string provider, double latencyMilliseconds, long memoryBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deployment of {VariantId} (stage {StageId}) refused: {Error}")]
    private static partial void LogDeploymentFailed(ILogger logger, string variantId, string stageId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Variant {VariantId} of stage {StageId} removed")]
    private static partial void LogRemoved(ILogger logger, string variantId, string stageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board} lists CUDA but ONNX Runtime has no CUDA provider here ({Reason}); variants run on the CPU")]
    private static partial void LogCudaUnavailable(ILogger logger, string board, string reason);
}
