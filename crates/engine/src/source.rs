//! Where samples come from: files (through `droneid-io`) or live radios (`droneid-live`).

use droneid_core::Complex32;

/// What a [`BlockSource`] delivers, fixed for the whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDescription {
    /// Human-readable name (file path, device string).
    pub label: String,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Centre frequency at the start, Hz, when known (per-block values override it).
    pub center_freq_hz: Option<f64>,
    /// Samples in the whole input, when known (files): drives progress and ETA.
    pub total_samples: Option<u64>,
    /// Live radio: the pipeline must never make it wait (drop and count instead).
    pub live: bool,
}

/// One successful read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SourceRead {
    /// Samples written to the front of the caller's buffer; 0 means end of stream.
    pub samples: usize,
    /// Samples lost just before these ones (device overflow, retune settling), so that sample
    /// indices and times stay true. The detector restarts its frame alignment after a gap.
    pub lost_before: u64,
    /// Centre frequency these samples were received at, Hz, when known (scan mode retunes).
    pub center_freq_hz: Option<f64>,
    /// Nothing arrived in time (live sources); not the end of the stream.
    pub timed_out: bool,
}

/// A stream of complex baseband samples, read by the pipeline's source thread.
///
/// Implementations: `FileSource` (this crate, any `droneid-io` input) and the SoapySDR source
/// of `droneid-live`.
pub trait BlockSource: Send {
    /// Rate, centre frequency and kind of the stream.
    fn description(&self) -> SourceDescription;

    /// Fills the front of `buf` with the next samples (fewer than `buf.len()` is fine).
    /// `samples: 0` with `timed_out: false` means the end of the stream. A live source should
    /// return within ~200 ms even when nothing arrived (`samples: 0, timed_out: true`), so
    /// that a stop request is seen promptly.
    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError>;

    /// Discards the next samples that the pipeline has no room for (live back-pressure):
    /// reads up to `scratch.len()` samples into `scratch` and returns how many were read.
    /// The default reads them like [`read_block`](Self::read_block).
    fn discard(&mut self, scratch: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        self.read_block(scratch)
    }

    /// Counters worth printing in the summary (e.g. NaN/Inf samples, device overflows).
    fn counters(&self) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// Why a source stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceError {
    /// Reading failed (file I/O, device lost); the message says what and what to do.
    Io(String),
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SourceError {}
