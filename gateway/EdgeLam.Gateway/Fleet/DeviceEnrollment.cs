using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Persistence;

namespace EdgeLam.Gateway.Fleet;

/// <summary>
/// Enrols a device identity: broker credentials plus, for an identity that unlearning banned, the lifting of
/// that ban. New credentials alone do not bring an unlearned device back; only enrolment does.
/// </summary>
public sealed class DeviceEnrollment(CredentialStore credentials, GatewayStore store)
{
    public void Enroll(string deviceId, string password)
    {
        credentials.Enroll(deviceId, ClientRole.Device, password);
        store.Reenroll(deviceId);
    }
}
