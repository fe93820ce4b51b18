namespace EdgeLam.Firmware.Emulator;
