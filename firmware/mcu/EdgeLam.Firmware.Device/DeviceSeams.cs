using System;
using System.Device.Gpio;
using System.Diagnostics;
using System.Threading;
using EdgeLam.Firmware.Application;
using EdgeLam.Firmware.Training;

namespace EdgeLam.Firmware.Device
{
    /// <summary>The status LED on a GPIO pin: on while connected, toggled per message.</summary>
    public sealed class GpioStatusLed : IStatusLed
    {
        private readonly GpioPin pin;

        public GpioStatusLed(GpioController controller, int pinNumber)
        {
            pin = controller.OpenPin(pinNumber, PinMode.Output);
        }

        public void ShowConnected(bool isConnected)
        {
            pin.Write(isConnected ? PinValue.High : PinValue.Low);
        }

        public void Toggle()
        {
            pin.Toggle();
        }
    }

    /// <summary>Monotonic time from the CPU tick counter, wall time from SNTP (set by the network stack).</summary>
    public sealed class DeviceClock : IClock
    {
        public long MonotonicMilliseconds => Stopwatch.GetTimestamp() * 1000 / Stopwatch.Frequency;

        public long UnixMilliseconds => (DateTime.UtcNow.Ticks - 621355968000000000L) / 10000;

        public void Sleep(int milliseconds)
        {
            Thread.Sleep(milliseconds);
        }
    }

    /// <summary>On the board the work takes the time it takes; the measured time is reported.</summary>
    public sealed class MeasuredCompute : IComputePacer
    {
        public long Pace(long multiplyAccumulates, long elapsedMilliseconds)
        {
            return elapsedMilliseconds;
        }
    }

    /// <summary>
    /// Training needs the device's shard activations in flash; until a shard is provisioned the device refuses
    /// assignments with this reason (inference and deployment work without it).
    /// </summary>
    public sealed class UnprovisionedTrainingHost : ITrainingHost
    {
        public string BaseModelId => "unprovisioned";

        public int LayerCount => 4;

        public int Tokens => 16;

        public int ProjectionIn => 128;

        public FrozenHead Head => throw new InvalidOperationException("no base model head is provisioned on this device");

        public ITrainingShard ShardFor(TrainingAssignment assignment)
        {
            throw new InvalidOperationException("no training shard is provisioned in flash on this device");
        }
    }
}
