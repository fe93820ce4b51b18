using EdgeLam.Firmware.Application;

namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// A single-threaded MQTT 3.1.1 client for the device loop: Connect, Publish (QoS 0/1), Subscribe and Disconnect
/// block until the broker answers or a timeout passes; <see cref="Poll"/> reads and dispatches incoming packets,
/// sends PINGREQ on keep-alive and re-sends unacknowledged QoS 1 publishes with DUP. A malformed packet, a silent
/// broker or a broken transport closes the connection with a reason; <see cref="Reconnect"/> opens a new one,
/// subscribes again and re-sends the outbox. All calls must come from one thread.
/// </summary>
public sealed class MqttClient
{
    private readonly IByteTransport transport;
    private readonly IClock clock;
    private readonly IMqttMessageHandler handler;
    private readonly MqttReceiveBuffer receiveBuffer;
    private readonly PendingPublishTable outbox;
    private MqttConnectOptions? connectOptions;
    private string[] subscribedFilters = new string[0];
    private int[] subscribedQualities = new int[0];
    private int nextPacketIdentifier = 1;
    private long lastSentMilliseconds;
    private long pingSentMilliseconds = -1;
    private int awaitedSubscribeIdentifier;
    private byte[]? subscribeResult;
    private MqttPacket? connectAcknowledgment;

    /// <summary>A client over a transport; the receive buffer bounds the largest packet accepted.</summary>
    public MqttClient(IByteTransport transport, IClock clock, IMqttMessageHandler handler, int receiveBufferBytes, int outboxSlots)
    {
        if (transport == null || clock == null || handler == null)
        {
            throw new System.ArgumentNullException(transport == null ? nameof(transport) : clock == null ? nameof(clock) : nameof(handler));
        }

        this.transport = transport;
        this.clock = clock;
        this.handler = handler;
        receiveBuffer = new MqttReceiveBuffer(receiveBufferBytes);
        outbox = new PendingPublishTable(outboxSlots);
        ResponseTimeoutMilliseconds = 10000;
        RetransmitTimeoutMilliseconds = 5000;
        LastError = string.Empty;
    }

    /// <summary>How long Connect, Subscribe and a ping wait for the broker's answer.</summary>
    public int ResponseTimeoutMilliseconds { get; set; }

    /// <summary>How long a QoS 1 publish waits for its PUBACK before it is sent again with DUP.</summary>
    public int RetransmitTimeoutMilliseconds { get; set; }

    /// <summary>True after CONNACK 0 until the connection ends.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>Why the last connection ended or failed; empty when none did.</summary>
    public string LastError { get; private set; }

    /// <summary>QoS 1 publishes waiting for their PUBACK.</summary>
    public int PendingPublishCount => outbox.Count;

    /// <summary>QoS 1 publishes sent again with the DUP flag since creation.</summary>
    public int RetransmissionCount { get; private set; }

    /// <summary>Successful connections since creation (the first one included).</summary>
    public int ConnectionCount { get; private set; }

    /// <summary>Opens the transport, sends CONNECT and waits for CONNACK; throws <see cref="MqttConnectionException"/> when refused or silent.</summary>
    public void Connect(MqttConnectOptions options)
    {
        if (options == null)
        {
            throw new System.ArgumentNullException(nameof(options));
        }

        byte[] packet = MqttPacketWriter.Connect(options);
        connectOptions = options;
        CloseQuietly();
        receiveBuffer.Clear();
        pingSentMilliseconds = -1;
        connectAcknowledgment = null;
        try
        {
            transport.Open();
            Send(packet);
        }
        catch (System.Exception error)
        {
            CloseQuietly();
            LastError = "cannot reach the broker: " + error.Message;
            throw new MqttConnectionException(LastError, error);
        }

        long deadline = clock.MonotonicMilliseconds + ResponseTimeoutMilliseconds;
        while (connectAcknowledgment == null)
        {
            if (clock.MonotonicMilliseconds > deadline)
            {
                Fail("no CONNACK within " + ResponseTimeoutMilliseconds.ToString() + " ms");
                throw new MqttConnectionException(LastError);
            }

            if (!ReadAndDispatch(100, true))
            {
                throw new MqttConnectionException("connect failed: " + LastError);
            }
        }

        if (connectAcknowledgment.ReturnCode != 0)
        {
            int code = connectAcknowledgment.ReturnCode;
            CloseQuietly();
            LastError = "broker refused the connection: " + MqttPacket.DescribeReturnCode(code);
            throw new MqttConnectionException(LastError);
        }

        IsConnected = true;
        ConnectionCount++;
    }

    /// <summary>Connects again with the last options, subscribes to the same filters and re-sends the outbox with DUP.</summary>
    public void Reconnect()
    {
        if (connectOptions == null)
        {
            throw new System.InvalidOperationException("Reconnect needs a previous Connect.");
        }

        Connect(connectOptions);
        if (subscribedFilters.Length > 0)
        {
            SubscribeNow(subscribedFilters, subscribedQualities);
        }

        ResendDue(long.MaxValue);
    }

    /// <summary>Subscribes and waits for SUBACK; a filter the broker refuses (0x80) is a <see cref="MqttConnectionException"/>.</summary>
    public void Subscribe(string[] filters, int[] qualities)
    {
        byte[] granted = SubscribeNow(filters, qualities);
        int known = subscribedFilters.Length;
        string[] allFilters = new string[known + filters.Length];
        int[] allQualities = new int[known + filters.Length];
        System.Array.Copy(subscribedFilters, allFilters, known);
        System.Array.Copy(subscribedQualities, allQualities, known);
        for (int i = 0; i < filters.Length; i++)
        {
            allFilters[known + i] = filters[i];
            allQualities[known + i] = granted[i];
        }

        subscribedFilters = allFilters;
        subscribedQualities = allQualities;
    }

    /// <summary>
    /// Publishes a message. QoS 0 is sent and forgotten (returns 0); QoS 1 gets a packet id, stays in the outbox until
    /// its PUBACK, and is returned. When the outbox is full the call polls until a slot frees or the response timeout.
    /// </summary>
    public int Publish(string topic, byte[] payload, int qualityOfService, bool retain)
    {
        RequireConnected();
        if (qualityOfService == 0)
        {
            Send(MqttPacketWriter.Publish(topic, payload, 0, retain, false, 0));
            return 0;
        }

        long deadline = clock.MonotonicMilliseconds + ResponseTimeoutMilliseconds;
        while (outbox.Count == outbox.Capacity)
        {
            if (clock.MonotonicMilliseconds > deadline)
            {
                throw new MqttConnectionException("the outbox of " + outbox.Capacity.ToString() + " QoS 1 messages stayed full for " + ResponseTimeoutMilliseconds.ToString() + " ms");
            }

            Poll(50);
            RequireConnected();
        }

        int identifier = TakePacketIdentifier();
        byte[] packet = MqttPacketWriter.Publish(topic, payload, qualityOfService, retain, false, identifier);
        outbox.TryAdd(identifier, packet, clock.MonotonicMilliseconds);
        Send(packet);
        return identifier;
    }

    /// <summary>Polls until every QoS 1 publish is acknowledged; false when the timeout passes or the connection ends first.</summary>
    public bool WaitForAcknowledgments(int timeoutMilliseconds)
    {
        long deadline = clock.MonotonicMilliseconds + timeoutMilliseconds;
        while (outbox.Count > 0)
        {
            if (!IsConnected || clock.MonotonicMilliseconds > deadline)
            {
                return false;
            }

            Poll(20);
        }

        return true;
    }

    /// <summary>
    /// Waits up to the timeout for bytes, dispatches every complete packet, then keeps the session alive (PINGREQ)
    /// and re-sends overdue QoS 1 publishes. Never throws for what the broker sends: a defect ends the connection.
    /// </summary>
    public void Poll(int timeoutMilliseconds)
    {
        if (!IsConnected)
        {
            return;
        }

        if (!ReadAndDispatch(timeoutMilliseconds, false))
        {
            return;
        }

        KeepAlive();
        if (IsConnected)
        {
            ResendDue(clock.MonotonicMilliseconds - RetransmitTimeoutMilliseconds);
        }
    }

    /// <summary>Sends DISCONNECT (the broker then drops the last will) and closes the transport.</summary>
    public void Disconnect()
    {
        if (IsConnected)
        {
            try
            {
                Send(MqttPacketWriter.Disconnect());
            }
            catch (System.Exception)
            {
                // The connection is going away either way; the broker publishes the will if DISCONNECT was lost.
            }
        }

        IsConnected = false;
        CloseQuietly();
    }

    /// <summary>Ends the connection as if the network failed (no DISCONNECT, so the broker publishes the last will).</summary>
    public void Abort(string reason)
    {
        Fail(reason);
    }

    private byte[] SubscribeNow(string[] filters, int[] qualities)
    {
        RequireConnected();
        int identifier = TakePacketIdentifier();
        awaitedSubscribeIdentifier = identifier;
        subscribeResult = null;
        Send(MqttPacketWriter.Subscribe(identifier, filters, qualities));
        long deadline = clock.MonotonicMilliseconds + ResponseTimeoutMilliseconds;
        while (subscribeResult == null)
        {
            if (!IsConnected)
            {
                throw new MqttConnectionException("connection lost while subscribing: " + LastError);
            }

            if (clock.MonotonicMilliseconds > deadline)
            {
                Fail("no SUBACK within " + ResponseTimeoutMilliseconds.ToString() + " ms");
                throw new MqttConnectionException(LastError);
            }

            Poll(50);
        }

        byte[] granted = subscribeResult;
        if (granted.Length != filters.Length)
        {
            Fail("SUBACK has " + granted.Length.ToString() + " return codes for " + filters.Length.ToString() + " filters");
            throw new MqttConnectionException(LastError);
        }

        for (int i = 0; i < granted.Length; i++)
        {
            if (granted[i] == 0x80)
            {
                throw new MqttConnectionException("the broker refused the subscription to '" + filters[i] + "'");
            }
        }

        return granted;
    }

    private bool ReadAndDispatch(int timeoutMilliseconds, bool connecting)
    {
        try
        {
            int read = receiveBuffer.ReadFrom(transport, timeoutMilliseconds);
            if (read < 0)
            {
                Fail("the broker closed the connection");
                return false;
            }

            MqttPacket? packet = receiveBuffer.TakePacket();
            while (packet != null)
            {
                Dispatch(packet, connecting);
                packet = receiveBuffer.TakePacket();
            }

            return true;
        }
        catch (MqttProtocolException error)
        {
            Fail("protocol error: " + error.Message);
            return false;
        }
        catch (MqttConnectionException)
        {
            throw;
        }
        catch (System.Exception error)
        {
            Fail("transport error: " + error.Message);
            return false;
        }
    }

    private void Dispatch(MqttPacket packet, bool connecting)
    {
        if (connecting != (packet.Type == MqttPacketType.ConnectAcknowledgment))
        {
            throw new MqttProtocolException(connecting
                ? "the first packet from the server must be CONNACK (section 3.2), got type " + ((int)packet.Type).ToString()
                : "a second CONNACK arrived on an open connection");
        }

        switch (packet.Type)
        {
            case MqttPacketType.ConnectAcknowledgment:
                connectAcknowledgment = packet;
                break;
            case MqttPacketType.Publish:
                if (packet.QualityOfService == 1)
                {
                    Send(MqttPacketWriter.PublishAcknowledgment(packet.PacketIdentifier));
                }

                handler.OnMessage(packet.Topic, packet.Payload, packet.Retain);
                break;
            case MqttPacketType.PublishAcknowledgment:
                // An unknown id is a late PUBACK of a DUP copy already acknowledged; MQTT allows it, so it is ignored.
                outbox.Remove(packet.PacketIdentifier);
                break;
            case MqttPacketType.SubscribeAcknowledgment:
                if (packet.PacketIdentifier == awaitedSubscribeIdentifier)
                {
                    subscribeResult = packet.GrantedQualities;
                }

                break;
            case MqttPacketType.PingResponse:
                pingSentMilliseconds = -1;
                break;
        }
    }

    private void KeepAlive()
    {
        if (connectOptions == null || connectOptions.KeepAliveSeconds == 0)
        {
            return;
        }

        long now = clock.MonotonicMilliseconds;
        if (pingSentMilliseconds >= 0)
        {
            if (now - pingSentMilliseconds > ResponseTimeoutMilliseconds)
            {
                Fail("no PINGRESP within " + ResponseTimeoutMilliseconds.ToString() + " ms");
            }

            return;
        }

        // Ping at three quarters of the keep-alive so the broker never sees 1.5 x keep-alive of silence (section 3.1.2.10).
        if (now - lastSentMilliseconds >= connectOptions.KeepAliveSeconds * 750L)
        {
            pingSentMilliseconds = now;
            Send(MqttPacketWriter.PingRequest());
        }
    }

    private void ResendDue(long cutoffMilliseconds)
    {
        int index = 0;
        byte[]? packet = outbox.TakeDueForResend(ref index, cutoffMilliseconds, clock.MonotonicMilliseconds);
        while (packet != null && IsConnected)
        {
            RetransmissionCount++;
            Send(packet);
            packet = outbox.TakeDueForResend(ref index, cutoffMilliseconds, clock.MonotonicMilliseconds);
        }
    }

    private void Send(byte[] packet)
    {
        try
        {
            transport.Write(packet, 0, packet.Length);
            lastSentMilliseconds = clock.MonotonicMilliseconds;
        }
        catch (System.Exception error)
        {
            Fail("transport error while sending: " + error.Message);
            throw new MqttConnectionException(LastError, error);
        }
    }

    private int TakePacketIdentifier()
    {
        for (int attempt = 0; attempt < 65535; attempt++)
        {
            int identifier = nextPacketIdentifier;
            nextPacketIdentifier = nextPacketIdentifier == 65535 ? 1 : nextPacketIdentifier + 1;
            if (!outbox.Contains(identifier) && identifier != awaitedSubscribeIdentifier)
            {
                return identifier;
            }
        }

        throw new System.InvalidOperationException("Every MQTT packet identifier is in use.");
    }

    private void RequireConnected()
    {
        if (!IsConnected)
        {
            throw new MqttConnectionException("not connected" + (LastError.Length > 0 ? ": " + LastError : string.Empty));
        }
    }

    private void Fail(string reason)
    {
        bool wasConnected = IsConnected;
        IsConnected = false;
        LastError = reason;
        CloseQuietly();
        if (wasConnected)
        {
            handler.OnConnectionLost(reason);
        }
    }

    private void CloseQuietly()
    {
        try
        {
            transport.Close();
        }
        catch (System.Exception)
        {
            // Closing a broken socket may throw; the connection is gone either way.
        }
    }
}
