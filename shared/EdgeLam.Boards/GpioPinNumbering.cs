namespace EdgeLam.Boards;

/// <summary>How GPIO pin numbers are counted, as in System.Device.Gpio's PinNumberingScheme.</summary>
public enum GpioPinNumbering
{
    /// <summary>The SoC's own GPIO numbers (BCM numbers on a Raspberry Pi, GPIOn on an ESP32).</summary>
    Logical,

    /// <summary>Physical pin numbers of the board's header.</summary>
    Board,
}
