using System.Security.Cryptography;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>
/// edgelam/v1/devices/{id}/deploy: load or remove a model variant of a stage. A deploy carries the model either
/// by reference (url, fetched by the device) or inline (base64, for small INT8 stages), with its size and SHA-256.
/// </summary>
public sealed record Deployment : IWireMessage
{
    /// <summary>Largest model carried inline, bytes (base64 grows it by 4/3 within the JSON limit).</summary>
    public const int MaxInlineBytes = 45 * 1024;

    /// <summary>Largest model of a deployment, bytes.</summary>
    public const long MaxModelBytes = 256L * 1024 * 1024;

    /// <summary>Variant id, unique per stage (e.g. "block0-int8").</summary>
    public required string VariantId { get; init; }

    /// <summary>Stage the variant serves.</summary>
    public required string StageId { get; init; }

    /// <summary>deploy or remove.</summary>
    public required DeploymentAction Action { get; init; }

    /// <summary>Precision of the variant; required for deploy.</summary>
    public Precision? Precision { get; init; }

    /// <summary>http(s) URL of the model file; deploy only, exclusive with inline bytes.</summary>
    public string? Url { get; init; }

    /// <summary>Model bytes, base64 (RFC 4648); deploy only, exclusive with url.</summary>
    public string? InlineBase64 { get; init; }

    /// <summary>Size of the model file, bytes; required for deploy.</summary>
    public long? SizeBytes { get; init; }

    /// <summary>SHA-256 of the model file, 64 lowercase hex digits; required for deploy.</summary>
    public string? Sha256 { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Identifier(VariantId, "variantId");
        MessageRules.Identifier(StageId, "stageId");
        MessageRules.Defined(Action, "action");
        if (Action == DeploymentAction.Remove)
        {
            if (Url is not null || InlineBase64 is not null || SizeBytes is not null || Sha256 is not null)
            {
                throw new WireFormatException(WireErrorCode.Inconsistent, "action", "remove carries no model (url, inlineBase64, sizeBytes, sha256)");
            }

            return;
        }

        if (Precision is not { } precision)
        {
            throw new WireFormatException(WireErrorCode.MissingField, "precision", "required for deploy");
        }

        MessageRules.Defined(precision, "precision");
        if (SizeBytes is not { } size)
        {
            throw new WireFormatException(WireErrorCode.MissingField, "sizeBytes", "required for deploy");
        }

        MessageRules.Range(size, 1, MaxModelBytes, "sizeBytes");
        MessageRules.Sha256Hex(Sha256, "sha256");
        if ((Url is null) == (InlineBase64 is null))
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "url", "deploy needs exactly one of url and inlineBase64");
        }

        if (Url is not null)
        {
            MessageRules.Text(Url, 512, "url");
            if (!Uri.TryCreate(Url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, "url", "expected an absolute http or https URL");
            }

            return;
        }

        byte[] model = InlineModel()!;
        if (model.Length != size)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "sizeBytes", $"inline model has {model.Length} bytes, sizeBytes says {size}");
        }

        if (Convert.ToHexStringLower(SHA256.HashData(model)) != Sha256)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "sha256", "SHA-256 of the inline model differs");
        }
    }

    /// <summary>The inline model bytes, or null for a url deployment.</summary>
    public byte[]? InlineModel()
    {
        if (InlineBase64 is null)
        {
            return null;
        }

        if (InlineBase64.Length > (MaxInlineBytes + 2) / 3 * 4)
        {
            throw new WireFormatException(WireErrorCode.Oversize, "inlineBase64", $"inline models are limited to {MaxInlineBytes} bytes");
        }

        byte[] buffer = new byte[InlineBase64.Length];
        if (!Convert.TryFromBase64String(InlineBase64, buffer, out int written))
        {
            throw new WireFormatException(WireErrorCode.WrongType, "inlineBase64", "not base64 (RFC 4648)");
        }

        return buffer.AsSpan(0, written).ToArray();
    }

    /// <summary>A deploy message carrying the model inline, with its size and digest computed.</summary>
    public static Deployment Inline(string variantId, string stageId, Precision precision, byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Deployment
        {
            VariantId = variantId,
            StageId = stageId,
            Action = DeploymentAction.Deploy,
            Precision = precision,
            InlineBase64 = Convert.ToBase64String(model),
            SizeBytes = model.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(model)),
        };
    }

    /// <summary>A deploy message naming the model by url, with the size and digest of <paramref name="model"/> computed.</summary>
    public static Deployment ByUrl(string variantId, string stageId, Precision precision, string url, byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Deployment
        {
            VariantId = variantId,
            StageId = stageId,
            Action = DeploymentAction.Deploy,
            Precision = precision,
            Url = url,
            SizeBytes = model.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(model)),
        };
    }
}
