namespace EdgeLam.Firmware.Application;

/// <summary>The board's status LED at the level of what it shows (a GPIO pin on the ESP32, a log line in the emulator).</summary>
public interface IStatusLed
{
    /// <summary>Shows whether the device is connected to the broker.</summary>
    void ShowConnected(bool isConnected);

    /// <summary>Flips the LED once, e.g. per message handled.</summary>
    void Toggle();
}
