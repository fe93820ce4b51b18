using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Mqtt;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Firmware.Training;

namespace EdgeLam.Firmware.Application;

/// <summary>
/// The L-tier device: registers (retained status online, hello), sends heartbeats, trains rank-r LoRA on
/// assignments and uploads INT8 factors, loads INT8 stage blobs within the memory plan, and answers inference
/// requests on its own infer/result topic with the request's correlation id (MQTT 3.1.1 has no response topic).
/// One thread calls <see cref="RunOnce"/> in a loop; messages that arrive during Poll are queued and handled after.
/// </summary>
public sealed class DeviceApplication : IMqttMessageHandler
{
    private const int QueueCapacity = 32;
    private readonly DeviceProfile profile;
    private readonly MqttClient client;
    private readonly IClock clock;
    private readonly IStatusLed led;
    private readonly IComputePacer pacer;
    private readonly ITrainingHost training;
    private readonly DeviceMemoryPlan memory;
    private readonly string[] queuedTopics = new string[QueueCapacity];
    private readonly byte[][] queuedPayloads = new byte[QueueCapacity][];
    private readonly long[] queuedAt = new long[QueueCapacity];
    private readonly System.Random nonceRandom = new System.Random();
    private int queueHead;
    private int queueCount;
    private IInferenceStage[] stages = new IInferenceStage[0];
    private string[] variants = new string[0];
    private long heartbeatSequence;
    private long lastHeartbeatMilliseconds;
    private long busyMilliseconds;
    private long nextReconnectMilliseconds;
    private double announcedMacsPerSecond;
    private bool throughputMeasured;
    private TensorBundle? startAdapter;
    private int startAdapterRound = -1;

    /// <summary>Wires the application to its session and seams.</summary>
    public DeviceApplication(DeviceProfile profile, MqttClient client, IClock clock, IStatusLed led, IComputePacer pacer, ITrainingHost training, MemoryBudget budget)
    {
        if (profile == null || client == null || clock == null || led == null || pacer == null || training == null || budget == null)
        {
            throw new System.ArgumentNullException(nameof(profile), "every collaborator of the device application is required");
        }

        this.profile = profile;
        this.client = client;
        this.clock = clock;
        this.led = led;
        this.pacer = pacer;
        this.training = training;
        memory = new DeviceMemoryPlan(budget);
        announcedMacsPerSecond = profile.MultiplyAccumulatesPerSecond;
        LastError = string.Empty;
    }

    /// <summary>The int8 MAC/s the hello announces: the profile's figure, or the start-up benchmark's measurement.</summary>
    public double AnnouncedMacsPerSecond => announcedMacsPerSecond;

    /// <summary>True once the start-up benchmark replaced the profile's MAC/s.</summary>
    public bool ThroughputMeasured => throughputMeasured;

    /// <summary>Bytes read from the network per step of an artifact download (one MQTT-sized chunk of RAM).</summary>
    public const int DownloadChunkBytes = 1024;

    /// <summary>Requests per artifact before a deployment fails: the first and three resumptions.</summary>
    public const int DownloadAttempts = 4;

    /// <summary>Fetches stage blobs that deployments name by url; null on a device without HTTP (url deployments then fail with that reason).</summary>
    public IArtifactFetcher? ArtifactFetcher { get; set; }

    /// <summary>The memory plan of the deployed stages.</summary>
    public DeviceMemoryPlan Memory => memory;

    /// <summary>Last error met while handling a message (also published where the contract has a place for it).</summary>
    public string LastError { get; private set; }

    /// <summary>Training rounds completed and uploaded.</summary>
    public int RoundsCompleted { get; private set; }

    /// <summary>Inference tasks answered.</summary>
    public int InferencesAnswered { get; private set; }

    /// <summary>Connect options with the retained offline status as last will.</summary>
    public MqttConnectOptions ConnectOptions(string? userName, string? password)
    {
        var options = new MqttConnectOptions(profile.DeviceId);
        options.UserName = userName;
        options.Password = password;
        options.KeepAliveSeconds = 30;
        options.WillTopic = Topics.Device(profile.DeviceId, DeviceTopic.Status);
        options.WillPayload = StatusJson("offline", "last-will");
        options.WillQualityOfService = 1;
        options.WillRetain = true;
        return options;
    }

    /// <summary>Connects, subscribes to the device subtree, publishes online status and hello.</summary>
    public void Start(MqttConnectOptions options)
    {
        if (profile.BenchmarkMillisecondsAtStart > 0 && !throughputMeasured)
        {
            announcedMacsPerSecond = ThroughputBenchmark.MeasureMultiplyAccumulatesPerSecond(clock, profile.BenchmarkMillisecondsAtStart);
            throughputMeasured = true;
        }

        client.Connect(options);
        Register();
    }

    /// <summary>One turn of the device loop: poll, handle queued messages, heartbeat, reconnect with backoff.</summary>
    public void RunOnce(int pollMilliseconds)
    {
        if (!client.IsConnected)
        {
            led.ShowConnected(false);
            if (clock.MonotonicMilliseconds >= nextReconnectMilliseconds)
            {
                try
                {
                    client.Reconnect();
                    Register();
                }
                catch (MqttConnectionException error)
                {
                    LastError = error.Message;
                    nextReconnectMilliseconds = clock.MonotonicMilliseconds + 2000;
                }
            }
            else
            {
                clock.Sleep(pollMilliseconds);
            }

            return;
        }

        client.Poll(pollMilliseconds);
        while (queueCount > 0 && client.IsConnected)
        {
            string topic = queuedTopics[queueHead];
            byte[] payload = queuedPayloads[queueHead];
            long arrived = queuedAt[queueHead];
            queuedPayloads[queueHead] = new byte[0];
            queueHead = (queueHead + 1) % QueueCapacity;
            queueCount--;
            Handle(topic, payload, arrived);
        }

        if (client.IsConnected && clock.MonotonicMilliseconds - lastHeartbeatMilliseconds >= profile.HeartbeatIntervalMilliseconds)
        {
            PublishHeartbeat();
        }
    }

    /// <summary>Orderly shutdown: retained offline status, DISCONNECT.</summary>
    public void Stop()
    {
        if (client.IsConnected)
        {
            try
            {
                client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.Status), StatusJson("offline", "shutdown"), 1, true);
                client.WaitForAcknowledgments(2000);
            }
            catch (MqttConnectionException error)
            {
                LastError = error.Message;
            }
        }

        client.Disconnect();
        led.ShowConnected(false);
    }

    /// <inheritdoc />
    public void OnMessage(string topic, byte[] payload, bool retain)
    {
        if (queueCount == QueueCapacity)
        {
            LastError = "message queue full, dropped a message on " + topic;
            return;
        }

        int tail = (queueHead + queueCount) % QueueCapacity;
        queuedTopics[tail] = topic;
        queuedPayloads[tail] = payload;
        queuedAt[tail] = clock.MonotonicMilliseconds;
        queueCount++;
    }

    /// <inheritdoc />
    public void OnConnectionLost(string reason)
    {
        LastError = "connection lost: " + reason;
        led.ShowConnected(false);
        nextReconnectMilliseconds = clock.MonotonicMilliseconds + 500;
    }

    private void Register()
    {
        client.Subscribe(new string[] { Topics.DeviceSubtree(profile.DeviceId) }, new int[] { 1 });
        client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.Status), StatusJson("online", null), 1, true);
        client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.Hello), HelloJson(), 1, false);
        lastHeartbeatMilliseconds = clock.MonotonicMilliseconds;
        led.ShowConnected(true);
    }

    private void Handle(string topic, byte[] payload, long arrivedMilliseconds)
    {
        if (!Topics.TryParseDevice(topic, out string deviceId, out DeviceTopic leaf) || deviceId != profile.DeviceId)
        {
            return;
        }

        led.Toggle();
        try
        {
            switch (leaf)
            {
                case DeviceTopic.Assign:
                    Train(TrainingAssignment.Parse(payload));
                    break;
                case DeviceTopic.Adapter:
                    KeepStartAdapter(payload);
                    break;
                case DeviceTopic.Deploy:
                    Deploy(payload);
                    break;
                case DeviceTopic.InferenceRequest:
                    Infer(payload, arrivedMilliseconds);
                    break;
                case DeviceTopic.Rejected:
                    LastError = "gateway rejected a message: " + Utf8.Decode(payload, 0, payload.Length);
                    break;
            }
        }
        catch (MqttConnectionException error)
        {
            LastError = error.Message;
        }
        catch (System.Exception error)
        {
            // A bad message must never stop the device loop; the reason is kept and, where the contract allows, answered.
            LastError = "message on " + topic + " refused: " + error.Message;
        }
    }

    private void Train(TrainingAssignment assignment)
    {
        if (assignment.TrainsFullModel)
        {
            // The L-tier holds INT8 stages and a few LoRA factors; the full model's FP32 training state does not fit.
            throw new System.ArgumentException("declined full-model round " + assignment.Round.ToString() + ": this device trains int8 LoRA adapters of rank <= "
                + profile.MaxLoraRank.ToString() + " only; full-model training does not fit its memory");
        }

        int layer = training.LayerCount - 1;
        bool assigned = false;
        for (int i = 0; i < assignment.Layers.Length; i++)
        {
            assigned |= assignment.Layers[i] == layer;
        }

        if (!assigned || assignment.Rank > profile.MaxLoraRank || assignment.Precision != "int8")
        {
            throw new System.ArgumentException("this device trains int8 rank ≤ " + profile.MaxLoraRank.ToString() + " adapters of layer " + layer.ToString() + " only");
        }

        long started = clock.MonotonicMilliseconds;
        var trainer = new LoraProjectionTrainer(layer, "fc2", training.ProjectionIn, training.Head.ModelDim, training.Tokens, assignment.Rank, assignment.LoraAlpha, training.Head, (int)assignment.PartitionSeed + assignment.PartitionIndex);
        memory.CheckTrainingFits("rank-" + assignment.Rank.ToString() + " LoRA of layers." + layer.ToString() + ".fc2", trainer.TrainingStateBytes);
        if (startAdapter != null && startAdapterRound == assignment.Round - 1)
        {
            // The round continues from the global adapter the gateway sent for it, not from a fresh start.
            LoadStartFactors(trainer, startAdapter);
        }

        ITrainingShard shard = training.ShardFor(assignment);
        int batchSize = assignment.BatchSize < shard.Count ? assignment.BatchSize : shard.Count;
        var batch = new int[batchSize];
        int cursor = 0;
        float lossSum = 0f;
        int lossCount = 0;
        for (int step = 0; step < assignment.LocalSteps; step++)
        {
            for (int i = 0; i < batchSize; i++)
            {
                batch[i] = cursor;
                cursor = (cursor + 1) % shard.Count;
            }

            float loss = trainer.Step(shard, batch, (float)assignment.LearningRate, 0.9f);
            if (step >= assignment.LocalSteps - 5)
            {
                lossSum += loss;
                lossCount++;
            }

            client.Poll(0);
        }

        long elapsed = pacer.Pace(trainer.MultiplyAccumulatesPerExample * batchSize * assignment.LocalSteps, clock.MonotonicMilliseconds - started);
        busyMilliseconds += elapsed;

        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteNumber("round", (long)assignment.Round);
        writer.WriteNumber("rank", (long)assignment.Rank);
        writer.WritePropertyName("layers");
        writer.WriteStartArray();
        writer.WriteNumber((long)layer);
        writer.WriteEndArray();
        writer.WriteString("precision", "int8");
        writer.WriteNumber("sampleCount", (long)(batchSize * assignment.LocalSteps));
        writer.WriteNumber("localSteps", (long)assignment.LocalSteps);
        writer.WriteNumber("trainingLoss", (double)(lossSum / lossCount));
        writer.WriteString("baseModelId", training.BaseModelId);
        writer.WriteString("nonce", NextUpdateNonce());
        writer.WriteEndObject();
        var bundle = new TensorBundle(writer.ToArray());
        trainer.AddQuantizedFactors(bundle);
        client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.Update), TensorBundleCodec.Encode(bundle), 1, false);
        RoundsCompleted++;
    }

    /// <summary>
    /// 32 hex digits, fresh per upload, so the gateway can tell a replayed update from a new one (WIRE.md, LoraUpdateHeader).
    /// Uniqueness is what matters, not secrecy; nanoFramework's Random on the ESP32 is seeded by the hardware RNG.
    /// </summary>
    private string NextUpdateNonce()
    {
        const string HexDigits = "0123456789abcdef";
        var bytes = new byte[16];
        nonceRandom.NextBytes(bytes);
        var hex = new char[32];
        for (int i = 0; i < bytes.Length; i++)
        {
            hex[2 * i] = HexDigits[bytes[i] >> 4];
            hex[(2 * i) + 1] = HexDigits[bytes[i] & 0x0F];
        }

        return new string(hex);
    }

    private void KeepStartAdapter(byte[] payload)
    {
        TensorBundle bundle = TensorBundleCodec.Decode(payload);
        startAdapterRound = bundle.Header.GetInt32("round", 0, 1000000);
        startAdapter = bundle;
    }

    private static void LoadStartFactors(LoraProjectionTrainer trainer, TensorBundle adapter)
    {
        string prefix = "layers." + trainer.Layer.ToString() + "." + trainer.Projection + ".";
        TensorFrame? a = adapter.Find(prefix + "a");
        TensorFrame? b = adapter.Find(prefix + "b");
        if (a == null || b == null)
        {
            return;
        }

        if (a.ElementCount != trainer.A.Length || b.ElementCount != trainer.B.Length)
        {
            throw new System.ArgumentException("start adapter " + prefix + "a/b holds " + a.ElementCount.ToString() + "/" + b.ElementCount.ToString()
                + " values, rank " + trainer.Rank.ToString() + " needs " + trainer.A.Length.ToString() + "/" + trainer.B.Length.ToString());
        }

        LoraFactorQuantizer.Dequantize(a, trainer.A);
        LoraFactorQuantizer.Dequantize(b, trainer.B);
    }

    private void Deploy(byte[] payload)
    {
        JsonObject message = JsonReader.ParseObject(payload, 0, payload.Length);
        string variantId = message.GetString("variantId", 64);
        string stageId = message.GetString("stageId", 64);
        string action = message.GetChoice("action", new string[] { "deploy", "remove" });
        long started = clock.MonotonicMilliseconds;
        if (action == "remove")
        {
            RemoveStage(stageId);
            Acknowledge(variantId, stageId, "removed", null, 0, -1, -1);
            return;
        }

        try
        {
            string precision = message.GetString("precision", 16);
            if (precision != "int8" && precision != "pruned-int8")
            {
                throw new System.ArgumentException("this device runs int8 and pruned-int8 stages only, not " + precision);
            }

            byte[] blobBytes = ReceiveBlob(message);
            Int8StageBlob blob = Int8StageBlob.Decode(blobBytes);
            if (blob.Shape.StageId != stageId)
            {
                throw new System.ArgumentException("blob is for stage " + blob.Shape.StageId + ", not " + stageId);
            }

            memory.CheckFits(StageMemoryPlan.ForInt8(blob.Shape, blob.SizeBytes));
            IInferenceStage stage = LoadStage(blob);
            long loadMilliseconds = clock.MonotonicMilliseconds - started;
            long calibrated = Calibrate(stage);
            memory.Admit(stage.MemoryPlan);
            RemoveLoaded(stageId);
            AppendStage(stage, variantId);
            Acknowledge(variantId, stageId, "loaded", null, loadMilliseconds, stage.MemoryPlan.PeakBytes, calibrated);
        }
        catch (System.Exception error)
        {
            LastError = error.Message;
            Acknowledge(variantId, stageId, "failed", error.Message, clock.MonotonicMilliseconds - started, -1, -1);
        }
    }

    /// <summary>
    /// The stage blob of a deploy message: inline, or downloaded by url into a region of exactly its declared size
    /// (refused up front when that exceeds flash or the model RAM budget), resumed after a dropped connection, verified.
    /// </summary>
    private byte[] ReceiveBlob(JsonObject message)
    {
        long size = message.GetInt64("sizeBytes", 1, 1L << 28);
        string sha256 = message.GetString("sha256", 64);
        string? inline = message.GetOptionalString("inlineBase64", 70000);
        if (inline != null)
        {
            byte[] inlineBytes = Base64.Decode(inline);
            if (inlineBytes.Length != size || Sha256.HashHex(inlineBytes) != sha256)
            {
                throw new System.ArgumentException("blob size or SHA-256 differs from the deployment message");
            }

            return inlineBytes;
        }

        string? url = message.GetOptionalString("url", 512);
        if (url == null)
        {
            throw new System.ArgumentException("deploy carries neither url nor inlineBase64");
        }

        if (ArtifactFetcher == null)
        {
            throw new System.ArgumentException("this device has no HTTP fetcher; deploy its stages inline");
        }

        long region = memory.Budget.StorageBytes < memory.Budget.ModelRamBytes ? memory.Budget.StorageBytes : memory.Budget.ModelRamBytes;
        if (size > region)
        {
            throw new System.ArgumentException("artifact of " + MemoryBudget.Kibibytes(size) + " exceeds the " + MemoryBudget.Kibibytes(region) + " download region of board " + memory.Budget.BoardId);
        }

        var buffer = new ArtifactBuffer((int)size);
        new ArtifactDownloader(ArtifactFetcher, DownloadChunkBytes, DownloadAttempts).Download(url, size, sha256, buffer);
        return buffer.Bytes;
    }

    private static IInferenceStage LoadStage(Int8StageBlob blob)
    {
        if (blob.Shape.Kind == StageKind.Embedding)
        {
            return new Int8EmbeddingStage(blob, RequantizationMode.FixedPoint);
        }

        if (blob.Shape.Kind == StageKind.Block)
        {
            return new Int8EncoderBlockStage(blob, RequantizationMode.FixedPoint);
        }

        return new Int8HeadStage(blob, RequantizationMode.FixedPoint);
    }

    /// <summary>Runs one all-zero image through a loaded stage; the paced time is the latency the gateway schedules with.</summary>
    private long Calibrate(IInferenceStage stage)
    {
        int length = stage.Shape.InputLength;
        long started = clock.MonotonicMilliseconds;
        stage.Run(TensorFrame.FromFloatArray(new float[length], new int[] { 1, length }, TensorDataType.Float32));
        long elapsed = pacer.Pace(stage.Shape.MultiplyAccumulates, clock.MonotonicMilliseconds - started);
        busyMilliseconds += elapsed;
        return elapsed;
    }

    private void Infer(byte[] payload, long arrivedMilliseconds)
    {
        TensorBundle request = TensorBundleCodec.Decode(payload);
        JsonObject header = request.Header;
        string correlationId = header.GetString("correlationId", 64);
        string stageId = header.GetString("stageId", 64);
        string variantId = header.GetString("variantId", 64);
        long deadline = header.GetInt64("deadlineUnixMilliseconds", 1, long.MaxValue);
        long started = clock.MonotonicMilliseconds;
        double queueWait = started - arrivedMilliseconds;
        int index = IndexOfStage(stageId);
        TensorFrame? output = null;
        string outcome;
        string? error = null;
        long computeMilliseconds = 0;
        if (clock.UnixMilliseconds > deadline)
        {
            outcome = "deadline-missed";
        }
        else if (index < 0 || variants[index] != variantId)
        {
            outcome = "failed";
            error = "variant " + variantId + " of stage " + stageId + " is not loaded";
        }
        else
        {
            try
            {
                IInferenceStage stage = stages[index];
                output = stage.Run(request.GetRequired("input"));
                int images = output.Shape[0];
                computeMilliseconds = pacer.Pace(stage.Shape.MultiplyAccumulates * images, clock.MonotonicMilliseconds - started);
                busyMilliseconds += computeMilliseconds;
                outcome = "ok";
            }
            catch (System.Exception failure)
            {
                outcome = "failed";
                error = failure.Message.Length > 256 ? failure.Message.Substring(0, 256) : failure.Message;
                output = null;
            }
        }

        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteString("correlationId", correlationId);
        writer.WriteString("stageId", stageId);
        writer.WriteString("variantId", variantId);
        writer.WriteString("outcome", outcome);
        if (error != null)
        {
            writer.WriteString("error", error);
        }

        writer.WriteNumber("computeMilliseconds", (double)computeMilliseconds);
        writer.WriteNumber("queueWaitMilliseconds", queueWait);
        writer.WriteNumber("queueLength", (long)queueCount);
        writer.WriteEndObject();
        var result = new TensorBundle(writer.ToArray());
        if (output != null)
        {
            result.Add("output", output);
        }

        client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.InferenceResult), TensorBundleCodec.Encode(result), 1, false);
        InferencesAnswered++;
    }

    private void Acknowledge(string variantId, string stageId, string outcome, string? error, long loadMilliseconds, long memoryBytes, long calibratedLatencyMilliseconds)
    {
        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteString("variantId", variantId);
        writer.WriteString("stageId", stageId);
        writer.WriteString("outcome", outcome);
        if (error != null)
        {
            writer.WriteString("error", error.Length > 256 ? error.Substring(0, 256) : error);
        }

        writer.WriteNumber("loadMilliseconds", (double)loadMilliseconds);
        if (memoryBytes >= 0)
        {
            writer.WriteNumber("memoryBytes", memoryBytes);
        }

        if (calibratedLatencyMilliseconds >= 0)
        {
            writer.WriteNumber("calibratedLatencyMilliseconds", (double)calibratedLatencyMilliseconds);
        }

        writer.WriteEndObject();
        client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.DeployAck), writer.ToArray(), 1, false);
    }

    private void PublishHeartbeat()
    {
        long now = clock.MonotonicMilliseconds;
        long interval = now - lastHeartbeatMilliseconds;
        interval = interval < 1 ? 1 : interval;
        long busy = busyMilliseconds < interval ? busyMilliseconds : interval;
        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteNumber("sequence", heartbeatSequence++);
        writer.WriteNumber("intervalMilliseconds", interval);
        writer.WriteNumber("queueLength", (long)queueCount);
        writer.WriteNumber("busyMilliseconds", busy);
        long free = memory.Budget.ModelRamBytes - memory.PeakRamBytes;
        writer.WriteNumber("freeMemoryBytes", free < 0 ? 0 : free);
        writer.WriteEndObject();
        client.Publish(Topics.Device(profile.DeviceId, DeviceTopic.Heartbeat), writer.ToArray(), 0, false);
        lastHeartbeatMilliseconds = now;
        busyMilliseconds = 0;
    }

    private byte[] HelloJson()
    {
        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteString("deviceId", profile.DeviceId);
        writer.WriteString("boardId", profile.BoardId);
        writer.WriteString("tier", "L");
        writer.WriteString("firmwareVersion", profile.FirmwareVersion);
        writer.WriteNumber("protocolVersion", 1L);
        writer.WritePropertyName("precisions");
        writer.WriteStartArray();
        writer.WriteString("int8");
        writer.WriteEndArray();
        writer.WriteNumber("maxLoraRank", (long)profile.MaxLoraRank);
        writer.WriteNumber("memoryBytes", profile.MemoryBytes);
        writer.WriteNumber("flashBytes", profile.FlashBytes);
        writer.WriteNumber("macsPerSecond", announcedMacsPerSecond);
        writer.WriteString("macsPerSecondSource", throughputMeasured ? "measured" : "profile");
        writer.WriteEndObject();
        return writer.ToArray();
    }

    private static byte[] StatusJson(string state, string? reason)
    {
        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteString("state", state);
        if (reason != null)
        {
            writer.WriteString("reason", reason);
        }

        writer.WriteEndObject();
        return writer.ToArray();
    }

    private int IndexOfStage(string stageId)
    {
        for (int i = 0; i < stages.Length; i++)
        {
            if (stages[i].Shape.StageId == stageId)
            {
                return i;
            }
        }

        return -1;
    }

    private void RemoveStage(string stageId)
    {
        RemoveLoaded(stageId);
        memory.Remove(stageId);
    }

    private void RemoveLoaded(string stageId)
    {
        int index = IndexOfStage(stageId);
        if (index < 0)
        {
            return;
        }

        var keptStages = new IInferenceStage[stages.Length - 1];
        var keptVariants = new string[stages.Length - 1];
        for (int i = 0, j = 0; i < stages.Length; i++)
        {
            if (i != index)
            {
                keptStages[j] = stages[i];
                keptVariants[j] = variants[i];
                j++;
            }
        }

        stages = keptStages;
        variants = keptVariants;
    }

    private void AppendStage(IInferenceStage stage, string variantId)
    {
        var grownStages = new IInferenceStage[stages.Length + 1];
        var grownVariants = new string[stages.Length + 1];
        System.Array.Copy(stages, grownStages, stages.Length);
        System.Array.Copy(variants, grownVariants, stages.Length);
        grownStages[stages.Length] = stage;
        grownVariants[stages.Length] = variantId;
        stages = grownStages;
        variants = grownVariants;
    }
}
