//! The look-back: blocks kept after detection until no candidate can need their samples. The
//! one place where a candidate's samples are copied out of the stream.

use std::collections::VecDeque;
use std::time::Instant;

use droneid_core::Complex32;
use droneid_receiver::EnergyDetector;

use crate::block::Block;

/// Samples of look-back needed so that every candidate's segment is still held when the
/// detector reports it: the detector's warm-up (128 frames) and latency, two segments of
/// `segment_len` samples, and one block of `block_samples`.
pub(crate) fn lookback_samples(
    detector: &EnergyDetector,
    segment_len: usize,
    block_samples: usize,
) -> usize {
    (160 * detector.frame_len()) + 2 * segment_len + block_samples
}

/// Held blocks in stream order.
pub struct Lookback {
    held: VecDeque<Block>,
    samples: u64,
    max_blocks: usize,
}

impl Lookback {
    /// Keeps at least `samples` of the newest samples, at most `max_blocks` blocks.
    pub(crate) fn new(samples: u64, max_blocks: usize) -> Self {
        Self {
            held: VecDeque::with_capacity(max_blocks + 1),
            samples,
            max_blocks: max_blocks.max(1),
        }
    }

    /// Most blocks held at once for blocks of `block_samples` and a look-back of `samples`.
    pub(crate) fn max_blocks_for(samples: u64, block_samples: usize) -> usize {
        (samples as usize).div_ceil(block_samples.max(1)) + 2
    }

    /// Absolute index one past the newest sample held (0 before the first block).
    pub fn end(&self) -> u64 {
        self.held.back().map_or(0, Block::end_sample)
    }

    /// Centre frequency of the newest block, when known.
    pub(crate) fn newest_center_freq_hz(&self) -> Option<f64> {
        self.held.back().and_then(|b| b.center_freq_hz)
    }

    /// Appends the stream's next block.
    pub(crate) fn push(&mut self, block: Block) {
        self.held.push_back(block);
    }

    /// When the source delivered absolute sample `sample` (the read that brought it returned),
    /// if a held block has it and its delivery was recorded.
    pub(crate) fn delivered_at(&self, sample: u64) -> Option<Instant> {
        self.held
            .iter()
            .find(|b| b.start_sample <= sample && sample < b.end_sample())
            .or(self.held.back().filter(|b| sample >= b.end_sample()))
            .and_then(|b| b.delivered_at(sample))
    }

    /// Copies absolute samples `[start, start + out.len())` into `out`; samples not held
    /// (before the stream, given back, lost, not yet read) are zero.
    pub fn extract(&self, start: i64, out: &mut [Complex32]) {
        out.fill(Complex32::new(0.0, 0.0));
        let end = start + out.len() as i64;
        for b in &self.held {
            let (bs, be) = (b.start_sample as i64, b.end_sample() as i64);
            let (lo, hi) = (bs.max(start), be.min(end));
            if lo >= hi {
                continue;
            }
            out[(lo - start) as usize..(hi - start) as usize]
                .copy_from_slice(&b.samples()[(lo - bs) as usize..(hi - bs) as usize]);
        }
    }

    /// Gives back (to `recycle`) the oldest blocks that end before both the look-back and
    /// `oldest_needed` (the first waiting candidate's segment), always keeping the newest block.
    /// The block-count bound guards against a source that returns tiny reads.
    pub(crate) fn release(&mut self, oldest_needed: Option<i64>, recycle: &mut dyn FnMut(Block)) {
        let keep_from = self.end().saturating_sub(self.samples);
        let keep_from = oldest_needed.map_or(keep_from, |s| keep_from.min(s.max(0) as u64));
        while self.held.len() > 1
            && (self.held[0].end_sample() <= keep_from || self.held.len() > self.max_blocks)
        {
            if let Some(b) = self.held.pop_front() {
                recycle(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(start: u64, values: std::ops::Range<u32>) -> Block {
        let mut b = Block::new(values.len(), 0);
        for (s, v) in b.samples_mut().iter_mut().zip(values) {
            *s = Complex32::new(v as f32, 0.0);
        }
        b.len = b.samples().len();
        b.start_sample = start;
        b
    }

    #[test]
    fn extract_zero_fills_outside_and_release_keeps_what_is_needed() {
        let mut lb = Lookback::new(12, 10);
        for k in 0..4u32 {
            lb.push(block(u64::from(k) * 7, k * 7..k * 7 + 7));
        }
        assert_eq!(lb.end(), 28);
        let mut out = vec![Complex32::new(9.0, 9.0); 10];
        lb.extract(24, &mut out);
        assert_eq!(out[0].re, 24.0);
        assert_eq!(out[3].re, 27.0);
        assert!(out[4..].iter().all(|v| v.re == 0.0 && v.im == 0.0));
        lb.extract(-3, &mut out);
        assert_eq!(out[..3], [Complex32::new(0.0, 0.0); 3]);
        assert_eq!(out[3].re, 0.0 + 0.0);
        assert_eq!(out[4].re, 1.0);
        // A candidate needs samples from 5 on: the first block stays.
        let mut given = Vec::new();
        lb.release(Some(5), &mut |b| given.push(b.start_sample));
        assert!(given.is_empty());
        // None waiting: keep the last 12 samples (from 16): blocks at 0 and 7 go.
        lb.release(None, &mut |b| given.push(b.start_sample));
        assert_eq!(given, [0, 7]);
        lb.extract(13, &mut out[..2]);
        assert_eq!(
            out[..2],
            [Complex32::new(0.0, 0.0), Complex32::new(14.0, 0.0)]
        );
    }
}
