//! The DroneID transmitter: records → bursts → captures at any rate with impairments and ground
//! truth (spec §1–§3, §2.5).
//!
//! * [`BurstRenderer`] evaluates the continuous-time OFDM burst exactly at any output rate
//!   ≥ 15.36 MS/s (Bluestein chirp-z per symbol, f64), at a fractional start, with a sample-clock
//!   error. At 15.36 MS/s with an integer start it equals `droneid_ofdm::BaseRateModulator`.
//! * [`BurstSpec`] adds the per-burst channel: channel offset + CFO, phase, ppm, multipath taps
//!   and an amplitude from the in-band SNR. [`CaptureSpec`] places bursts in a capture with one
//!   noise floor; [`render_capture`] streams it in bounded blocks and returns [`TruthRecord`]s.
//! * [`Scenario`] builds realistic multi-drone captures (moving telemetry, sequence numbers,
//!   channel offsets, 0x11 identity messages, back-to-back / time-overlapping [`BurstPair`]s).
//! * [`Impairments`] (applied by [`render_capture_with`]): DC / LO leakage, CW tones, a
//!   Bluetooth-like hopper, Wi-Fi-like bursts, 8-bit quantisation with clipping, I/Q swap.
//! * [`SynthOptions`]: the options of `droneid synth` and of the Python `synth()` checked and
//!   turned into a [`CaptureSpec`] and [`Impairments`] in one place, with messages that name
//!   each option as the front end does ([`OptionNames`]).
//! * Output rates from 4 MS/s: a burst whose band reaches beyond ±Fs/2 is rendered at `M·Fs`
//!   and decimated through the radio's anti-alias filter ([`AntiAlias`]); the SNR keeps its
//!   definition (noise density `NOISE_POWER / Fs`, in-band noise counted over 9.015 MHz).
//!
//! Conventions:
//! * **Start**: [`BurstSpec::start_sample`] is the exact fractional output-sample position of the
//!   first cyclic-prefix sample; truth `start_sample = round(start_sample_exact)`.
//! * **SNR**: in-band SNR = burst power / noise power in 9.015 MHz. The noise has power
//!   [`NOISE_POWER`] = 1.0 per complex sample at the output rate, so the in-band noise is
//!   `9.015e6 / Fs` and the burst amplitude is `sqrt(10^(snr/10) · 9.015e6 / Fs)`. Without an SNR
//!   the amplitude is 1.0 (unit mean power).
//!
//! ```
//! use droneid_core::BurstFormat;
//! use droneid_synth::{render_to_vec, BurstSpec, CaptureSpec};
//!
//! let block = droneid_payload::build_transport_block(
//!     &droneid_payload::FlightInfo::example().to_record(), None).unwrap();
//! let mut burst = BurstSpec::new(block, BurstFormat::Nine, 1000.25);
//! burst.snr_db = Some(20.0);
//! burst.freq_offset_hz = 2.0e6;
//! let spec = CaptureSpec {
//!     sample_rate_hz: 30.72e6, center_freq_hz: Some(2.4145e9), total_samples: 30_000,
//!     noise: true, bursts: vec![burst], seed: 7,
//! };
//! let (samples, truth) = render_to_vec(&spec);
//! assert_eq!(samples.len(), 30_000);
//! assert_eq!(truth[0].start_sample, 1000);
//! ```
#![forbid(unsafe_code)]

mod capture;
pub mod impair;
mod options;
mod scenario;
pub mod waveform;

pub use capture::{
    cp_schedule_name, render_capture, render_capture_with, render_to_vec, try_render_to_vec,
    try_render_to_vec_with, AntiAlias, BurstSpec, CaptureSpec, NoiseSource, TruthRecord, TruthTap,
    ANTI_ALIAS_ATTENUATION_DB, ANTI_ALIAS_PASSBAND, ANTI_ALIAS_STOPBAND, DEFAULT_BLOCK_LEN,
    MIN_SAMPLE_RATE_HZ, NOISE_POWER,
};
pub use impair::{CwTone, DcOffset, HopSlot, Hopper, Impairments, Quantize, WifiBursts};
pub use options::{
    ChannelsArg, CpSchedule, HzArg, OptionError, OptionNames, RecordArg, SynthOptions, ToneArg,
};
pub use scenario::{BurstPair, Scenario};
pub use waveform::BurstRenderer;

/// Why a capture or scenario cannot be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    /// The output rate is not finite or below 4 MS/s ([`MIN_SAMPLE_RATE_HZ`]).
    #[error("sample rate {value} Hz is invalid: must be a finite rate in 4e6..=20e9 Hz")]
    SampleRate { value: f64 },
    /// An impairment parameter is out of range.
    #[error("impairment `{field}`: {reason}")]
    Impairment { field: String, reason: String },
    /// The capture centre frequency is not finite.
    #[error("centre frequency {value} Hz is not finite")]
    CenterFreq { value: f64 },
    /// A burst field is out of range.
    #[error("burst {index}: `{field}`: {reason}")]
    Burst {
        index: usize,
        field: String,
        reason: String,
    },
    /// A scenario parameter is out of range.
    #[error("scenario `{field}`: {reason}")]
    Scenario { field: String, reason: String },
    /// A record spec could not be turned into a block.
    #[error("record: {0}")]
    Record(String),
    /// `block_len` was 0.
    #[error("block length must be at least 1 sample")]
    BlockLen,
}

#[cfg(test)]
mod tests;
