//! DroneID forward error correction: Gold scrambler, CRC24A, DJI CRC16, LTE turbo
//! encoder/decoder (scalar reference + AVX2), rate matching (spec §3.3, §4).

pub mod crc;
