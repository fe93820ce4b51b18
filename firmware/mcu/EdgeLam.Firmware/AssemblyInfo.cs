namespace EdgeLam.Firmware;
