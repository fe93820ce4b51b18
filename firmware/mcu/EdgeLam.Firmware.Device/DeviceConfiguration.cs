namespace EdgeLam.Firmware.Device
{
    /// <summary>
    /// Site settings compiled into the image. Edit before building (see firmware/mcu/README.md); the values must match
    /// the gateway's credential store (`edgelam enroll`) and hardware/boards/esp32-wrover.json.
    /// </summary>
    public static class DeviceConfiguration
    {
        /// <summary>Wi-Fi network name.</summary>
        public const string WifiSsid = "edgelam-lab";

        /// <summary>Wi-Fi passphrase (WPA2).</summary>
        public const string WifiPassword = "change-me-wifi";

        /// <summary>Broker address (the gateway's embedded broker or an external one).</summary>
        public const string BrokerHost = "192.168.1.10";

        /// <summary>Broker port (plain MQTT).</summary>
        public const int BrokerPort = 1883;

        /// <summary>Device id: MQTT client id and user name.</summary>
        public const string DeviceId = "esp32-01";

        /// <summary>Device password enrolled at the gateway.</summary>
        public const string DevicePassword = "change-me-device";

        /// <summary>Board profile id.</summary>
        public const string BoardId = "esp32-wrover";

        /// <summary>Status LED pin (esp32-wrover.json gpio.statusLedPin: GPIO4).</summary>
        public const int StatusLedPin = 4;

        /// <summary>RAM for deployed stages (esp32-wrover.json memory.modelBudgetBytes).</summary>
        public const long ModelBudgetBytes = 1048576;

        /// <summary>Flash for stage blobs (memory.flashBytes).</summary>
        public const long FlashBytes = 4194304;

        /// <summary>RAM for LoRA training (memory.trainingBudgetBytes).</summary>
        public const long TrainingBudgetBytes = 786432;

        /// <summary>Profile throughput, int8 MAC/s (multiplyAccumulatesPerSecond.int8, an estimate until measured).</summary>
        public const double MultiplyAccumulatesPerSecond = 100000;

        /// <summary>Milliseconds of the int8 throughput benchmark before connecting (0: off); the hello then announces the measured MAC/s.</summary>
        public const int BenchmarkMillisecondsAtStart = 0;

        /// <summary>Longest wait for an artifact request (deployments by url from the gateway's /artifacts endpoint).</summary>
        public const int ArtifactTimeoutSeconds = 30;

        /// <summary>Largest receive packet, bytes: an inline deployment of 45 KiB grows to about 61 KiB in base64.</summary>
        public const int ReceiveBufferBytes = 72 * 1024;
    }
}
