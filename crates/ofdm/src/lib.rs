//! DroneID OFDM (spec §2–§3): Zadoff–Chu pilots, QPSK mapping, the burst modulator at the
//! 15.36 MS/s base rate, and the burst demodulator (sync, CFO, channel estimate, soft demap).
//!
//! Carrier vectors are `[Complex32; 600]` in carrier-slot order i = 0..600
//! (k = −300..−1, +1..+300; see [`droneid_core::carrier_k`]).
#![forbid(unsafe_code)]

pub mod chest;
pub mod demod;
pub mod modulator;
pub mod qpsk;
pub mod zc;

pub use demod::{BurstDemodulator, DemodConfig, DemodFailure, DemodResult};
pub use modulator::{burst_carrier_symbols, BaseRateModulator};
pub use qpsk::{qpsk_map, QPSK_AMPLITUDE};
pub use zc::{zc_carriers, zc_sequence};
