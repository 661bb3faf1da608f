//! DroneID OFDM: Zadoff-Chu pilots, QPSK mapping, burst modulator, and the burst demodulator (sync, CFO, channel estimate, soft demap).
#![forbid(unsafe_code)]
