//! [`Block`]: the item every stage passes on — samples plus the power spectra of their frames.

use droneid_core::Complex32;

/// A pooled block of consecutive input samples and their power spectra. Allocated once (before
/// any thread starts), filled by the source, given spectra by [`AnalysisStage`](crate::AnalysisStage),
/// held as look-back by [`DetectionStage`](crate::DetectionStage), then recycled.
#[derive(Debug)]
pub struct Block {
    /// Sample buffer (capacity `block_samples`); only `samples[..len]` is valid.
    pub(crate) samples: Vec<Complex32>,
    /// Valid samples.
    pub(crate) len: usize,
    /// Absolute index of `samples[0]` (lost samples included).
    pub(crate) start_sample: u64,
    /// Samples lost just before this block.
    pub(crate) lost_before: u64,
    /// Centre frequency the samples were received at, Hz, when known.
    pub(crate) center_freq_hz: Option<f64>,
    /// Power spectra of the frames completed in this block (fftshift order, `fft_len` each).
    pub(crate) power: Vec<f32>,
}

impl Block {
    /// An empty block for `block_samples` samples and `power_len` spectrum values.
    pub(crate) fn new(block_samples: usize, power_len: usize) -> Self {
        Self {
            samples: vec![Complex32::new(0.0, 0.0); block_samples],
            len: 0,
            start_sample: 0,
            lost_before: 0,
            center_freq_hz: None,
            power: Vec::with_capacity(power_len),
        }
    }

    /// Absolute index one past the last valid sample.
    pub(crate) fn end_sample(&self) -> u64 {
        self.start_sample + self.len as u64
    }
}
