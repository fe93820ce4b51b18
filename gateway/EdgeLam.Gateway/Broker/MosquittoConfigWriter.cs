using System.Text;

namespace EdgeLam.Gateway.Broker;

/// <summary>
/// Writes the password file and ACL file an external Mosquitto needs to enforce the same identities
/// and topic rules as the embedded broker (mosquitto.conf: password_file, acl_file; see mosquitto.conf(5)).
/// </summary>
public static class MosquittoConfigWriter
{
    public static string PasswordFile(IEnumerable<CredentialRecord> records)
    {
        var text = new StringBuilder();
        foreach (var record in records)
            text.Append(record.Name).Append(':').Append(record.Hash).Append('\n');
        return text.ToString();
    }

    /// <summary>ACL rules mirroring <see cref="TopicAccessPolicy"/>; %u is the connecting username.</summary>
    public static string AclFile(IEnumerable<CredentialRecord> records)
    {
        var text = new StringBuilder();
        foreach (var record in records.Where(r => r.Role != ClientRole.Device))
        {
            text.Append("user ").Append(record.Name).Append('\n');
            text.Append(record.Role == ClientRole.Gateway ? "topic readwrite edgelam/v1/#\n" : "topic read edgelam/v1/#\n");
            text.Append('\n');
        }

        // Pattern rules apply to every client; gateway and observers already hold wider grants above.
        text.Append("# devices: own uplinks, own downlinks, gateway status\n");
        foreach (var leaf in new[] { "hello", "status", "heartbeat", "update", "infer/result", "deploy/ack" })
            text.Append("pattern write edgelam/v1/devices/%u/").Append(leaf).Append('\n');
        text.Append("pattern read edgelam/v1/devices/%u/#\n");
        text.Append("pattern read edgelam/v1/gateway/status\n");
        return text.ToString();
    }

    public static string Config(int port, string passwordFilePath, string aclFilePath) =>
        $"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwordFilePath}\nacl_file {aclFilePath}\npersistence false\n";

    public static void WriteAll(string directory, int port, IEnumerable<CredentialRecord> records)
    {
        Directory.CreateDirectory(directory);
        var list = records.ToList();
        var passwords = Path.Combine(directory, "passwords");
        var acl = Path.Combine(directory, "acl");
        File.WriteAllText(passwords, PasswordFile(list));
        File.WriteAllText(acl, AclFile(list));
        File.WriteAllText(Path.Combine(directory, "mosquitto.conf"), Config(port, Path.GetFullPath(passwords), Path.GetFullPath(acl)));
    }
}
