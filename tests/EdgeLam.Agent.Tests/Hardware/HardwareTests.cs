using System.Device.I2c;
using EdgeLam.Agent.Hardware;
using EdgeLam.Agent.Messaging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeLam.Agent.Tests.Hardware;

/// <summary>A TMP102 as a register file: the pointer byte selects a register, reads return its two bytes.</summary>
internal sealed class SimulatedTmp102 : I2cDevice
{
    private readonly Dictionary<byte, byte[]> _registers = new() { [0x00] = [0x00, 0x00], [0x01] = [0x60, 0xA0] };
    private byte _pointer;

    public SimulatedTmp102() => ConnectionSettings = new I2cConnectionSettings(1, 0x48);

    public override I2cConnectionSettings ConnectionSettings { get; }

    public bool Fails { get; set; }

    public void SetTemperatureRegister(byte mostSignificant, byte leastSignificant) => _registers[0x00] = [mostSignificant, leastSignificant];

    public override byte ReadByte() => _registers[_pointer][0];

    public override void Read(Span<byte> buffer)
    {
        if (Fails) throw new IOException("no acknowledge from 0x48");
        _registers[_pointer].AsSpan(0, buffer.Length).CopyTo(buffer);
    }

    public override void WriteByte(byte value) => _pointer = value;

    public override void Write(ReadOnlySpan<byte> buffer) => _pointer = buffer[0];

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }
}

public sealed class HardwareTests
{
    // TMP102 datasheet, "Temperature Register", 12-bit data format table.
    [Theory]
    [InlineData(0x7F, 0xF0, 127.9375)]
    [InlineData(0x64, 0x00, 100.0)]
    [InlineData(0x19, 0x00, 25.0)]
    [InlineData(0x00, 0x40, 0.25)]
    [InlineData(0x00, 0x00, 0.0)]
    [InlineData(0xFF, 0xC0, -0.25)]
    [InlineData(0xE7, 0x00, -25.0)]
    [InlineData(0xC9, 0x00, -55.0)]
    public void Tmp102_reads_the_datasheet_values_through_the_temperature_register(byte msb, byte lsb, double celsius)
    {
        using var device = new SimulatedTmp102();
        device.SetTemperatureRegister(msb, lsb);
        using var sensor = new Tmp102TemperatureSensor(device, shouldDispose: false);

        Assert.True(sensor.TryReadCelsius(out double read));
        Assert.Equal(celsius, read);
    }

    [Fact]
    public void Tmp102_that_does_not_answer_is_a_failed_read_not_a_value()
    {
        using var device = new SimulatedTmp102 { Fails = true };
        using var sensor = new Tmp102TemperatureSensor(device, shouldDispose: false);
        Assert.False(sensor.TryReadCelsius(out _));
    }

    [Fact]
    public void Simulated_sensor_reports_nothing_until_set()
    {
        using var sensor = new SimulatedTemperatureSensor();
        Assert.False(sensor.TryReadCelsius(out _));
        sensor.Set(41.5);
        Assert.True(sensor.TryReadCelsius(out double celsius));
        Assert.Equal(41.5, celsius);
    }

    [Fact]
    public void Simulated_led_blinks_each_pattern_with_its_timing()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var led = new SimulatedStatusLed(time);
        var start = time.GetUtcNow();
        led.SetPattern(LedPattern.Training);
        Assert.True(led.IsLitAt(start.AddMilliseconds(100)));
        Assert.False(led.IsLitAt(start.AddMilliseconds(600)));
        Assert.True(led.IsLitAt(start.AddMilliseconds(1100)));

        time.Advance(TimeSpan.FromSeconds(2));
        led.SetPattern(LedPattern.Inferring);
        var inferring = time.GetUtcNow();
        Assert.True(led.IsLitAt(inferring.AddMilliseconds(50)));
        Assert.False(led.IsLitAt(inferring.AddMilliseconds(150)));

        time.Advance(TimeSpan.FromSeconds(1));
        led.SetPattern(LedPattern.Idle);
        var idle = time.GetUtcNow();
        Assert.True(led.IsLitAt(idle.AddMilliseconds(50)));
        Assert.False(led.IsLitAt(idle.AddMilliseconds(1000)));

        time.Advance(TimeSpan.FromSeconds(3));
        led.SetPattern(LedPattern.Error);
        Assert.True(led.IsLitAt(time.GetUtcNow().AddMinutes(5)));
        Assert.Equal([LedPattern.Off, LedPattern.Training, LedPattern.Inferring, LedPattern.Idle, LedPattern.Error], led.History.Select(h => h.Pattern));
        // The earlier pattern still answers for its own time span.
        Assert.False(led.IsLitAt(start.AddMilliseconds(600)));
    }

    [Fact]
    public async Task Thermal_governor_holds_work_while_hot_and_releases_it_below_the_hysteresis()
    {
        using var sensor = new SimulatedTemperatureSensor();
        var governor = new ThermalGovernor(sensor, thresholdCelsius: 80, hysteresisCelsius: 5, TimeSpan.FromMilliseconds(5), NullLogger.Instance);
        await governor.WaitUntilCoolAsync(CancellationToken.None); // no reading: never held

        sensor.Set(85);
        var throttled = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        governor.Throttled += celsius => throttled.TrySetResult(celsius);
        var hot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int reads = 0;
        sensor.Read += _ => { if (Interlocked.Increment(ref reads) >= 3) hot.TrySetResult(); };
        Task wait = governor.WaitUntilCoolAsync(CancellationToken.None);

        Assert.Equal(85, await throttled.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await hot.Task.WaitAsync(TimeSpan.FromSeconds(10));
        sensor.Set(78); // below the threshold but not below threshold - hysteresis
        int readsAt78 = Volatile.Read(ref reads);
        var polledAt78 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sensor.Read += _ => { if (Volatile.Read(ref reads) >= readsAt78 + 2) polledAt78.TrySetResult(); };
        await polledAt78.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(wait.IsCompleted);

        sensor.Set(70);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(governor.ThrottledTime > TimeSpan.Zero);
    }

    [Fact]
    public void Reconnect_backoff_doubles_with_jitter_up_to_the_maximum_and_resets()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(5));
        double[] ceilings = [100, 200, 400, 800, 1000, 1000];
        foreach (double ceiling in ceilings)
        {
            TimeSpan delay = backoff.NextDelay();
            Assert.InRange(delay.TotalMilliseconds, ceiling / 2, ceiling);
        }

        backoff.Reset();
        Assert.InRange(backoff.NextDelay().TotalMilliseconds, 50, 100);
        Assert.Throws<ArgumentException>(() => new ReconnectBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
