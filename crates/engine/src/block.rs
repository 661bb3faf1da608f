//! [`Block`]: the item every stage passes on — samples plus the power spectra of their frames.

use std::time::Instant;

use droneid_core::Complex32;

/// Samples of slack allocated to align a block's samples to 64 bytes.
const ALIGN_SAMPLES: usize = 8;

/// Delivery marks a block keeps at most (the last one is overwritten beyond that).
pub(crate) const MAX_MARKS: usize = 32;

/// A pooled block of consecutive input samples and their power spectra. Allocated once (before
/// any thread starts), filled by the source, given spectra by [`AnalysisStage`](crate::AnalysisStage),
/// held as look-back by [`DetectionStage`](crate::DetectionStage), then recycled.
#[derive(Debug)]
pub struct Block {
    /// Sample buffer: `block_samples` from `offset` on ([`samples`](Self::samples)), the
    /// first one 64-byte aligned where the allocation allows.
    buf: Vec<Complex32>,
    offset: usize,
    capacity: usize,
    /// Valid samples.
    pub(crate) len: usize,
    /// Absolute index of `samples()[0]` (lost samples included).
    pub(crate) start_sample: u64,
    /// Samples lost just before this block.
    pub(crate) lost_before: u64,
    /// Centre frequency the samples were received at, Hz, when known.
    pub(crate) center_freq_hz: Option<f64>,
    /// Power spectra of the frames completed in this block (fftshift order, `fft_len` each).
    pub(crate) power: Vec<f32>,
    /// When the source delivered the samples: `(absolute index one past the last sample of a
    /// read, when that read returned)`, in order; empty when not known (in-line engine).
    pub(crate) marks: Vec<(u64, Instant)>,
}

impl Block {
    /// An empty block for `block_samples` samples and `power_len` spectrum values.
    pub(crate) fn new(block_samples: usize, power_len: usize) -> Self {
        // 64-byte aligned samples: reads from the page cache into a buffer misaligned by 16
        // bytes run about 5× slower on some CPUs (AMD's `rep movsb` in the kernel's copy).
        let buf = vec![Complex32::new(0.0, 0.0); block_samples + ALIGN_SAMPLES];
        let addr = buf.as_ptr() as usize;
        let offset = if addr.is_multiple_of(8) {
            (64 - addr % 64) % 64 / 8
        } else {
            0
        };
        Self {
            buf,
            offset,
            capacity: block_samples,
            len: 0,
            start_sample: 0,
            lost_before: 0,
            center_freq_hz: None,
            power: Vec::with_capacity(power_len),
            marks: Vec::with_capacity(MAX_MARKS),
        }
    }

    /// The sample buffer (`block_samples`); only `samples()[..len]` is valid.
    pub(crate) fn samples(&self) -> &[Complex32] {
        &self.buf[self.offset..self.offset + self.capacity]
    }

    /// The sample buffer, to fill.
    pub(crate) fn samples_mut(&mut self) -> &mut [Complex32] {
        &mut self.buf[self.offset..self.offset + self.capacity]
    }

    /// Notes that the samples up to absolute index `end` were delivered at `at` (no
    /// allocation: beyond [`MAX_MARKS`] the last mark moves on, so the samples it covers get
    /// the later time).
    pub(crate) fn mark(&mut self, end: u64, at: Instant) {
        if self.marks.len() == MAX_MARKS {
            self.marks.pop();
        }
        self.marks.push((end, at));
    }

    /// When the sample at absolute index `sample` (inside this block) was delivered.
    pub(crate) fn delivered_at(&self, sample: u64) -> Option<Instant> {
        self.marks
            .iter()
            .find(|(end, _)| *end > sample)
            .or(self.marks.last())
            .map(|&(_, at)| at)
    }

    /// Absolute index one past the last valid sample.
    pub(crate) fn end_sample(&self) -> u64 {
        self.start_sample + self.len as u64
    }
}
