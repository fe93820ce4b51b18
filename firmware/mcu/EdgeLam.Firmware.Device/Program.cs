using System.Device.Gpio;
using System.Device.Wifi;
using System.Diagnostics;
using System.Threading;
using EdgeLam.Firmware.Application;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Device
{
    /// <summary>ESP32 entry point: join Wi-Fi, then run the device application loop forever.</summary>
    public static class Program
    {
        public static void Main()
        {
            var clock = new DeviceClock();
            var led = new GpioStatusLed(new GpioController(), DeviceConfiguration.StatusLedPin);
            while (!WifiNetworkHelper.ConnectDhcp(DeviceConfiguration.WifiSsid, DeviceConfiguration.WifiPassword, requiresDateTime: true, token: new CancellationTokenSource(60000).Token))
            {
                Debug.WriteLine("Wi-Fi join failed, retrying");
                clock.Sleep(5000);
            }

            var profile = new DeviceProfile(DeviceConfiguration.DeviceId, DeviceConfiguration.BoardId, "edgelam-fw-1.0", 4,
                DeviceConfiguration.ModelBudgetBytes, DeviceConfiguration.FlashBytes, DeviceConfiguration.MultiplyAccumulatesPerSecond);
            profile.BenchmarkMillisecondsAtStart = DeviceConfiguration.BenchmarkMillisecondsAtStart;
            var budget = new MemoryBudget(DeviceConfiguration.BoardId, DeviceConfiguration.ModelBudgetBytes, DeviceConfiguration.FlashBytes, DeviceConfiguration.TrainingBudgetBytes);
            var handler = new ApplicationHandle();
            var client = new MqttClient(new SocketByteTransport(DeviceConfiguration.BrokerHost, DeviceConfiguration.BrokerPort), clock, handler, DeviceConfiguration.ReceiveBufferBytes, 4);
            var application = new DeviceApplication(profile, client, clock, led, new MeasuredCompute(), new UnprovisionedTrainingHost(), budget);
            application.ArtifactFetcher = new NanoHttpArtifactFetcher(new System.TimeSpan(0, 0, DeviceConfiguration.ArtifactTimeoutSeconds));
            handler.Target = application;
            MqttConnectOptions options = application.ConnectOptions(DeviceConfiguration.DeviceId, DeviceConfiguration.DevicePassword);
            while (true)
            {
                try
                {
                    application.Start(options);
                    break;
                }
                catch (MqttConnectionException error)
                {
                    Debug.WriteLine("broker: " + error.Message);
                    clock.Sleep(5000);
                }
            }

            if (application.ThroughputMeasured)
            {
                Debug.WriteLine("int8 throughput measured: " + application.AnnouncedMacsPerSecond.ToString() + " MAC/s (replace multiplyAccumulatesPerSecond.int8 in the board profile)");
            }

            while (true)
            {
                application.RunOnce(50);
            }
        }

        private sealed class ApplicationHandle : IMqttMessageHandler
        {
            public DeviceApplication Target { get; set; }

            public void OnMessage(string topic, byte[] payload, bool retain)
            {
                Target.OnMessage(topic, payload, retain);
            }

            public void OnConnectionLost(string reason)
            {
                Target.OnConnectionLost(reason);
            }
        }
    }
}
