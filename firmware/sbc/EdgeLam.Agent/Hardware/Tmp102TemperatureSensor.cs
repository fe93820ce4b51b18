using System.Device.I2c;

namespace EdgeLam.Agent.Hardware;

/// <summary>
/// TI TMP102 on I2C. The temperature register (pointer 0x00) holds a 12-bit two's complement value,
/// left-aligned in two bytes, 0.0625 degrees Celsius per count (TMP102 datasheet, "Temperature Register").
/// </summary>
public sealed class Tmp102TemperatureSensor : ITemperatureSensor
{
    /// <summary>Pointer of the temperature register.</summary>
    public const byte TemperatureRegister = 0x00;

    /// <summary>Degrees Celsius per count in 12-bit (normal) mode.</summary>
    public const double CelsiusPerCount = 0.0625;

    private readonly I2cDevice _device;
    private readonly bool _shouldDispose;

    /// <summary>Reads through <paramref name="device"/>; <paramref name="shouldDispose"/> says whether this sensor disposes it.</summary>
    public Tmp102TemperatureSensor(I2cDevice device, bool shouldDispose = true)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _shouldDispose = shouldDispose;
    }

    /// <inheritdoc/>
    public bool TryReadCelsius(out double celsius)
    {
        Span<byte> raw = stackalloc byte[2];
        try
        {
            _device.WriteRead([TemperatureRegister], raw);
        }
        catch (IOException)
        {
            celsius = double.NaN;
            return false;
        }

        celsius = ToCelsius(raw[0], raw[1]);
        return true;
    }

    /// <summary>The temperature of the two register bytes (most significant first), 12-bit normal mode.</summary>
    public static double ToCelsius(byte mostSignificant, byte leastSignificant)
    {
        // Shift the 12 left-aligned bits down arithmetically so that the sign extends.
        int counts = (short)((mostSignificant << 8) | leastSignificant) >> 4;
        return counts * CelsiusPerCount;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_shouldDispose) _device.Dispose();
    }
}
