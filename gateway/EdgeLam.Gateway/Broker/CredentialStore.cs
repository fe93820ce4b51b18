using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EdgeLam.Gateway.Broker;

/// <summary>
/// Hashed MQTT credentials. Hashes use Mosquitto's "$7$" format (PBKDF2-HMAC-SHA512, 12-byte salt,
/// 64-byte key; mosquitto_passwd in Mosquitto 2.x), so the same records serve the embedded broker and
/// the password file written for an external Mosquitto. Plain passwords are never stored.
/// </summary>
public sealed class CredentialStore
{
    private const int SaltBytes = 12;
    private const int KeyBytes = 64;

    /// <summary>Iterations for new hashes; Mosquitto's default is 101, raised here for offline-attack resistance.</summary>
    public const int Iterations = 10_000;

    private readonly string _path;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CredentialRecord> _records;

    public CredentialStore(string path)
    {
        _path = path;
        _records = Load(path);
    }

    public IReadOnlyCollection<CredentialRecord> Records
    {
        get { lock (_gate) return _records.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToArray(); }
    }

    /// <summary>Adds or replaces an identity with a freshly salted hash and saves the file.</summary>
    public void Enroll(string name, ClientRole role, string password)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '+', '#', ':']) >= 0)
            throw new ArgumentException($"identity name '{name}' must be non-empty and contain no '/', '+', '#' or ':'", nameof(name));
        if (string.IsNullOrEmpty(password))
            throw new ArgumentException($"password for '{name}' must not be empty", nameof(password));
        lock (_gate)
        {
            _records[name] = new CredentialRecord(name, role, HashPassword(password, RandomNumberGenerator.GetBytes(SaltBytes), Iterations));
            Save();
        }
    }

    /// <summary>Removes an identity; it can no longer connect until enrolled again.</summary>
    public bool Revoke(string name)
    {
        lock (_gate)
        {
            var removed = _records.Remove(name);
            if (removed) Save();
            return removed;
        }
    }

    /// <summary>Checks a password in constant time; returns the identity or a reason.</summary>
    public bool TryAuthenticate(string? name, string? password, out ClientIdentity? identity, out string reason)
    {
        identity = null;
        if (string.IsNullOrEmpty(name) || password is null)
        {
            reason = "anonymous clients are refused: a username and password are required";
            return false;
        }

        CredentialRecord? record;
        lock (_gate) _records.TryGetValue(name, out record);
        if (record is null || !VerifyPassword(password, record.Hash))
        {
            reason = $"bad username or password for '{name}'";
            return false;
        }

        identity = new ClientIdentity(record.Name, record.Role);
        reason = string.Empty;
        return true;
    }

    public static string HashPassword(string password, byte[] salt, int iterations)
    {
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, KeyBytes);
        return $"$7${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(key)}";
    }

    public static bool VerifyPassword(string password, string hash)
    {
        var parts = hash.Split('$');
        // "$7$iterations$salt$key" splits into ["", "7", iterations, salt, key].
        if (parts.Length != 5 || parts[1] != "7" || !int.TryParse(parts[2], out var iterations) || iterations <= 0)
            return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[3]);
            expected = Convert.FromBase64String(parts[4]);
        }
        catch (FormatException)
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static Dictionary<string, CredentialRecord> Load(string path)
    {
        if (!File.Exists(path)) return new Dictionary<string, CredentialRecord>(StringComparer.Ordinal);
        try
        {
            var records = JsonSerializer.Deserialize<CredentialRecord[]>(File.ReadAllText(path), JsonOptions) ?? [];
            return records.ToDictionary(r => r.Name, StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"credential file '{path}' is not valid: {ex.Message}", ex);
        }
    }

    private void Save()
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(_path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        // Write then rename so a crash never leaves a half-written credential file.
        var temporary = _path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_records.Values.OrderBy(r => r.Name, StringComparer.Ordinal), JsonOptions));
        File.Move(temporary, _path, overwrite: true);
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}

public sealed record CredentialRecord(string Name, ClientRole Role, string Hash);
