using System.Net;
using System.Net.Sockets;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Device
{
    /// <summary>The MQTT byte stream over an lwIP TCP socket (nanoFramework System.Net).</summary>
    public sealed class SocketByteTransport : IByteTransport
    {
        private readonly string host;
        private readonly int port;
        private Socket socket;

        public SocketByteTransport(string host, int port)
        {
            this.host = host;
            this.port = port;
        }

        public bool IsOpen => socket != null;

        public void Open()
        {
            Close();
            IPAddress address = Dns.GetHostEntry(host).AddressList[0];
            var created = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            created.Connect(new IPEndPoint(address, port));
            socket = created;
        }

        public int Read(byte[] buffer, int offset, int count, int timeoutMilliseconds)
        {
            if (!socket.Poll(timeoutMilliseconds * 1000, SelectMode.SelectRead))
            {
                return 0;
            }

            int read = socket.Receive(buffer, offset, count, SocketFlags.None);
            return read == 0 ? -1 : read;
        }

        public void Write(byte[] buffer, int offset, int count)
        {
            while (count > 0)
            {
                int sent = socket.Send(buffer, offset, count, SocketFlags.None);
                offset += sent;
                count -= sent;
            }
        }

        public void Close()
        {
            if (socket != null)
            {
                socket.Close();
                socket = null;
            }
        }
    }
}
