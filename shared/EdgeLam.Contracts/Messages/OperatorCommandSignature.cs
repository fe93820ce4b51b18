using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>
/// HMAC-SHA256 (RFC 2104) of an operator command with a key shared by operators and the gateway. The signed
/// text is "edgelam/v1/command|{commandId}|{action}|{deviceId or empty}|{issuedUnixMilliseconds}".
/// </summary>
public static class OperatorCommandSignature
{
    /// <summary>The canonical text that is signed.</summary>
    public static string CanonicalText(string commandId, OperatorAction action, string? deviceId, long issuedUnixMilliseconds)
    {
        string actionName = WireMessages.EnumName(action);
        return string.Create(CultureInfo.InvariantCulture, $"edgelam/v1/command|{commandId}|{actionName}|{deviceId}|{issuedUnixMilliseconds}");
    }

    /// <summary>A signed command.</summary>
    public static OperatorCommand Sign(string commandId, OperatorAction action, string? deviceId, DateTimeOffset issued, byte[] key)
    {
        long issuedMilliseconds = issued.ToUnixTimeMilliseconds();
        return new OperatorCommand
        {
            CommandId = commandId,
            Action = action,
            DeviceId = deviceId,
            IssuedUnixMilliseconds = issuedMilliseconds,
            Signature = Compute(CanonicalText(commandId, action, deviceId, issuedMilliseconds), key),
        };
    }

    /// <summary>
    /// Checks the signature (in constant time) and the age; throws <see cref="WireFormatException"/> naming
    /// "signature" or "issuedUnixMilliseconds" when the command must be refused.
    /// </summary>
    public static void Verify(OperatorCommand command, byte[] key, DateTimeOffset now, TimeSpan maximumAge)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Validate();
        string expected = Compute(CanonicalText(command.CommandId, command.Action, command.DeviceId, command.IssuedUnixMilliseconds), key);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(command.Signature)))
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "signature", "signature does not match the command and key");
        }

        long ageMilliseconds = now.ToUnixTimeMilliseconds() - command.IssuedUnixMilliseconds;
        if (ageMilliseconds > maximumAge.TotalMilliseconds || ageMilliseconds < -maximumAge.TotalMilliseconds)
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, "issuedUnixMilliseconds", string.Create(CultureInfo.InvariantCulture, $"command issued {ageMilliseconds} ms from now, outside +/-{maximumAge.TotalMilliseconds} ms"));
        }
    }

    private static string Compute(string canonicalText, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 16)
        {
            throw new ArgumentException("operator key must have at least 16 bytes", nameof(key));
        }

        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(canonicalText)));
    }
}
