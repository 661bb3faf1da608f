//! Stage 1, [`AnalysisStage`]: the FFT filter bank. Adds one power spectrum per completed frame
//! to each block, in place.

use droneid_receiver::SpectrumAnalyzer;

use crate::block::Block;

/// Wraps [`SpectrumAnalyzer`] for a stream of [`Block`]s. One block is held back, so that the
/// stream's last partial frame (zero-padded at the end) joins the last block's spectra.
pub struct AnalysisStage {
    analyzer: SpectrumAnalyzer,
    held: Option<Block>,
}

impl AnalysisStage {
    /// A stage over frames of `frame_len` samples (the detector's FFT length).
    pub fn new(frame_len: usize) -> Self {
        Self {
            analyzer: SpectrumAnalyzer::new(frame_len),
            held: None,
        }
    }

    /// Spectrum values appended at most for a block of `block_samples` (plus the final flush).
    pub fn power_capacity(&self, block_samples: usize) -> usize {
        self.analyzer.max_output_len(block_samples) + self.analyzer.frame_len()
    }

    /// Computes `block`'s spectra (a gap before it restarts the frame alignment) and returns the
    /// previous block, now complete.
    pub(crate) fn process(&mut self, mut block: Block) -> Option<Block> {
        if block.lost_before > 0 {
            self.analyzer.reset();
        }
        // (Taken out while the samples are borrowed; moving a Vec does not allocate.)
        let mut power = std::mem::take(&mut block.power);
        power.clear();
        self.analyzer
            .analyze(&block.samples()[..block.len], &mut power);
        block.power = power;
        self.held.replace(block)
    }

    /// End of stream: the held block, with the zero-padded last partial frame's spectrum.
    pub(crate) fn finish(&mut self) -> Option<Block> {
        let mut last = self.held.take()?;
        self.analyzer.flush(&mut last.power);
        Some(last)
    }
}
