//! Shared types and numerology for the `droneid` workspace.
//!
//! Everything here is plain data: the DroneID OFDM numerology (spec §2), the burst
//! layouts (§2.3), the complex sample type and a parser for human-written rates
//! and frequencies (`15.36e6`, `15360000`, `15.36M`).
#![forbid(unsafe_code)]

pub use num_complex::{Complex32, Complex64};

pub mod numerology;
pub mod units;

pub use numerology::*;
pub use units::{parse_hz, ParseHzError};
