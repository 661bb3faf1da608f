//! DroneID OFDM (spec §2–§3): Zadoff–Chu pilots, QPSK mapping, the burst modulator at the
//! 15.36 MS/s base rate, and the burst demodulator (sync, CFO, channel estimate, soft demap).
//!
//! Carrier vectors are `[Complex32; 600]` in carrier-slot order i = 0..600
//! (k = −300..−1, +1..+300; see [`droneid_core::carrier_k`]).
//!
//! # Example: modulate a burst, shift it in frequency, demodulate it
//! ```
//! use droneid_core::{BurstFormat, Complex32, CODED_BITS};
//! use droneid_ofdm::{BaseRateModulator, BurstDemodulator, DemodConfig, DemodResult};
//!
//! let c = vec![1u8; 1200]; // c(0..1200): use the real scrambler (droneid-fec) in practice
//! let bits: [u8; CODED_BITS] = std::array::from_fn(|j| (j % 3 == 0) as u8); // e'
//! let burst = BaseRateModulator::new().modulate(BurstFormat::Nine, &bits, &c);
//! // 1000 samples of silence, then the burst 40 kHz off centre.
//! let mut x = vec![Complex32::new(0.0, 0.0); 1000];
//! for (n, v) in burst.iter().enumerate() {
//!     let ph = 2.0 * std::f32::consts::PI * 40e3 / 15.36e6 * n as f32;
//!     x.push(v * Complex32::from_polar(1.0, ph));
//! }
//! x.resize(x.len() + 1000, Complex32::new(0.0, 0.0));
//!
//! let mut demod = BurstDemodulator::new(&DemodConfig::default(), &c);
//! let mut out = Box::new(DemodResult::default());
//! // Hint: ZC-600 useful part as a correlator would see it (3 subcarriers → −5 samples).
//! let hint = 1000.0 + 3368.0 - 5.0;
//! demod.demodulate(&x, hint, &mut out).unwrap();
//! assert_eq!(out.format, BurstFormat::Nine);
//! assert!((out.burst_start - 1000.0).abs() < 0.5);
//! assert!((out.cfo_hz - 40e3).abs() < 50.0);
//! // Positive LLR = bit 0.
//! assert!(out.llrs.iter().zip(&bits).all(|(l, &b)| (*l < 0.0) == (b == 1)));
//! ```
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
