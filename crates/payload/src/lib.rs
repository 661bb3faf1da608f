//! DroneID records: bytes <-> type 0x10 telemetry and 0x11 identity messages. No DSP.
#![forbid(unsafe_code)]
