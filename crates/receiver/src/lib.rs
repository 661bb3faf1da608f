//! The DroneID receiver: burst detection anywhere in the captured band, OFDM demodulation and
//! decoding into frames (spec §8).
//!
//! The kernels that the engine (`droneid-engine`, which drives them: threaded for `droneid decode`
//! and `live`, single-threaded as its `StreamDecoder`) runs as stages: [`SpectrumAnalyzer`] (FFT
//! filter bank), [`EnergyDetector`] (time–frequency energy detection → [`Candidate`]s) and
//! [`BurstReceiver`] (candidate → [`Frame`]); plus their settings ([`ReceiverConfig`]) and
//! counters ([`ReceiverStats`]).
#![forbid(unsafe_code)]

pub mod burst;
pub mod detect;
pub mod frame;

pub use burst::{BurstFailure, BurstOutcome, BurstReceiver, BurstReceiverConfig};
pub use detect::{Candidate, DetectorConfig, EnergyDetector, SpectrumAnalyzer};
pub use droneid_ofdm::DemodConfig;
pub use frame::Frame;

/// Settings of the receiver's stages (the engine's `EngineConfig::receiver`).
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Input sample rate, Hz (≥ 15.36 MS/s).
    pub sample_rate_hz: f64,
    /// Capture centre frequency, Hz, when known.
    pub center_freq_hz: Option<f64>,
    /// Also report frames whose CRC24 failed.
    pub report_failed: bool,
    /// Turbo iterations at most.
    pub max_iterations: u32,
    /// Detector settings (defaults from [`DetectorConfig::new`]).
    pub detector: DetectorConfig,
    /// Demodulator settings.
    pub demod: DemodConfig,
}

impl ReceiverConfig {
    /// Defaults for a sample rate.
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_rate_hz,
            center_freq_hz: None,
            report_failed: false,
            max_iterations: 8,
            detector: DetectorConfig::new(sample_rate_hz),
            // The detector and the band-centre estimate can be ~±20 subcarriers off under
            // frequency-selective multipath; the joint ZC-pair search resolves ±40 reliably.
            demod: DemodConfig {
                max_int_cfo_subcarriers: 40,
                ..DemodConfig::default()
            },
        }
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Default)]
pub struct ReceiverStats {
    /// Samples pushed.
    pub samples: u64,
    /// Candidates from the detector.
    pub candidates: u64,
    /// Candidates without a ZC pilot pair.
    pub no_sync: u64,
    /// Bursts whose CRC24 passed.
    pub crc24_ok: u64,
    /// Bursts demodulated whose CRC24 failed.
    pub crc24_failed: u64,
    /// CRC24-valid bursts whose message CRC16 failed.
    pub crc16_failed: u64,
    /// Candidates that decoded to a burst already reported.
    pub duplicates: u64,
}
