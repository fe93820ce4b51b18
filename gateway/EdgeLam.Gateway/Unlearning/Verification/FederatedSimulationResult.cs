using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeLam.Gateway.Unlearning.Verification;

/// <summary>Measured quality of one global model, and the wall time of the method that produced it.</summary>
/// <param name="Method">"base" (no adapters), "original" (trained with the attacker), "retrained" (from scratch without it) or an unlearning method.</param>
/// <param name="CleanAccuracy">Accuracy on the clean test images.</param>
/// <param name="AttackSuccessRate">Fraction of triggered non-target test images classified as the target.</param>
/// <param name="ForgottenDeviceAccuracy">Accuracy on the forgotten device's own training shard (poisoned as it trained on it).</param>
/// <param name="RelativeDistanceToRetrained">‖ΔW − ΔW_retrained‖_F / ‖ΔW_retrained‖_F over all adapted projections.</param>
/// <param name="WallSeconds">Wall time of producing this model (training for original and retrained, unlearning otherwise).</param>
public sealed record UnlearningMethodResult(
    string Method,
    double CleanAccuracy,
    double AttackSuccessRate,
    double ForgottenDeviceAccuracy,
    double RelativeDistanceToRetrained,
    double WallSeconds);

/// <summary>Everything a verification run measured.</summary>
/// <param name="HistoryLoadSeconds">Reading and decoding every stored contribution once, as the gateway does before it keeps them in memory; not part of any method's seconds.</param>
public sealed record FederatedSimulationResult(
    string Strategy,
    string ForgottenDeviceId,
    IReadOnlyList<string> DeviceIds,
    IReadOnlyList<int> ShardSizes,
    int PoisonedImages,
    int Rounds,
    int CalibrationRounds,
    double HistoryLoadSeconds,
    UnlearningMethodResult BaseModel,
    UnlearningMethodResult Original,
    UnlearningMethodResult Retrained,
    IReadOnlyList<UnlearningMethodResult> Methods)
{
    /// <summary>The result of one unlearning method by its name (see <see cref="UnlearningMethodNames"/>).</summary>
    public UnlearningMethodResult Method(string name) =>
        Methods.SingleOrDefault(m => m.Method == name) ?? throw new KeyNotFoundException($"No result for method '{name}'; measured: {string.Join(", ", Methods.Select(m => m.Method))}.");

    /// <summary>The gateway's default method (<see cref="UnlearningOptions.DefaultMethod"/>), whose targets are checked.</summary>
    public string DefaultMethod { get; } = new UnlearningOptions().DefaultMethod;

    /// <summary>The targets of the default method, evaluated on this run's measurements.</summary>
    public IReadOnlyList<UnlearningTarget> Targets => UnlearningTargets.Evaluate(this, DefaultMethod);

    /// <summary>Every measured row: base, original, retrained, then the unlearning methods.</summary>
    public IEnumerable<UnlearningMethodResult> Rows() => new[] { BaseModel, Original, Retrained }.Concat(Methods);

    public string ToJsonText() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Unlearning {ForgottenDeviceId} ({PoisonedImages} poisoned images) from {DeviceIds.Count} devices, {Rounds} rounds of {Strategy}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Methods start from the decoded history kept in memory; reading and decoding it from SQLite once took {HistoryLoadSeconds:0.000} s.");
        text.AppendLine("method           clean acc  attack success  forgotten-shard acc  distance to retrained   seconds");
        foreach (var row in Rows())
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{row.Method,-16} {row.CleanAccuracy,9:P1}  {row.AttackSuccessRate,14:P1}  {row.ForgottenDeviceAccuracy,19:P1}  {row.RelativeDistanceToRetrained,21:0.0000}  {row.WallSeconds,8:0.0000}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Targets of the default method {DefaultMethod}, from the measurements above:");
        text.AppendLine(UnlearningTargets.ToText(Targets));
        return text.ToString();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
