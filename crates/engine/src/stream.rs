//! [`StreamDecoder`]: the engine's stages called in line on the caller's thread — push samples,
//! get frames. Deterministic; the same stage types as [`run`](crate::run), without threads.

use droneid_core::Complex32;
use droneid_receiver::{Frame, ReceiverStats};

use crate::block::Block;
use crate::{EngineConfig, EngineError, Stages};

/// Single-threaded configuration of the engine: [`AnalysisStage`](crate::AnalysisStage) →
/// [`DetectionStage`](crate::DetectionStage) (with its look-back) → one
/// [`BurstDecoder`](crate::BurstDecoder) → [`FrameOrder`](crate::FrameOrder), each called
/// in turn as whole blocks of [`EngineConfig::block_samples`] fill up.
///
/// Frames are the threaded pipeline's, in the same order; they come out up to about two blocks
/// (plus the detector's latency) after their samples were pushed, and at [`finish`](Self::finish).
pub struct StreamDecoder {
    stages: Stages,
    /// The block being filled by [`push`](Self::push).
    filling: Block,
    /// Recycled blocks.
    free: Vec<Block>,
    next_index: u64,
    finished: bool,
}

impl StreamDecoder {
    /// Builds every stage; fails on an impossible configuration (sample rate).
    /// `cfg.ring_blocks` and `cfg.decode_threads` are not used.
    pub fn new(cfg: &EngineConfig) -> Result<Self, EngineError> {
        let stages = Stages::new(cfg, None, 1)?;
        let filling = stages.new_block();
        Ok(Self {
            filling,
            free: Vec::with_capacity(stages.max_held + 2),
            stages,
            next_index: 0,
            finished: false,
        })
    }

    /// Counters so far: samples and candidates count once their block has been through
    /// detection (after [`finish`](Self::finish): all of them).
    pub fn stats(&self) -> ReceiverStats {
        self.stages.stats()
    }

    /// Pushes the stream's next samples (any number); calls `sink` for every frame finished
    /// meanwhile. Ignored after [`finish`](Self::finish).
    pub fn push(&mut self, samples: &[Complex32], sink: &mut dyn FnMut(Frame)) {
        self.push_with_constellations(samples, &mut |f, _| sink(f));
    }

    /// End of stream: decodes what is left (the last partial frame zero-padded, candidates
    /// near the end with zeros past it). The decoder is spent afterwards.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Frame)) {
        self.finish_with_constellations(&mut |f, _| sink(f));
    }

    /// From now on, also hand each frame's equalised data-symbol constellation to the
    /// `*_with_constellations` sinks (one allocation per frame; for plots).
    pub fn keep_constellations(&mut self) {
        self.stages.decoders[0].keep_constellations(true);
    }

    /// [`push`](Self::push), with each frame's constellation (empty unless
    /// [`keep_constellations`](Self::keep_constellations)).
    pub fn push_with_constellations(
        &mut self,
        mut samples: &[Complex32],
        sink: &mut dyn FnMut(Frame, &[Complex32]),
    ) {
        if self.finished {
            return;
        }
        let block_samples = self.stages.block_samples;
        while !samples.is_empty() {
            let b = &mut self.filling;
            let n = (block_samples - b.len).min(samples.len());
            let len = b.len;
            b.samples_mut()[len..len + n].copy_from_slice(&samples[..n]);
            b.len += n;
            samples = &samples[n..];
            if b.len == block_samples {
                self.hand_on(sink);
            }
        }
    }

    /// [`finish`](Self::finish), with each frame's constellation.
    pub fn finish_with_constellations(&mut self, sink: &mut dyn FnMut(Frame, &[Complex32])) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.filling.len > 0 {
            self.hand_on(sink);
        }
        let Stages {
            analysis,
            detection,
            decoders,
            order,
            ..
        } = &mut self.stages;
        let decoder = &mut decoders[0];
        let mut dispatch = |job: &_, lookback: &_| {
            decoder.load(job, lookback);
            order.accept(decoder.decode(job), &mut |f, p, _| sink(f, p));
        };
        if let Some(last) = analysis.finish() {
            detection.push(last, &mut dispatch, &mut |_| {});
        }
        detection.finish(&mut dispatch);
        order.finish(&mut |f, p, _| sink(f, p));
    }

    /// Passes the filled block through analysis and detection, decoding ready candidates.
    fn hand_on(&mut self, sink: &mut dyn FnMut(Frame, &[Complex32])) {
        let fresh = self.free.pop().unwrap_or_else(|| self.stages.new_block());
        let mut block = std::mem::replace(&mut self.filling, fresh);
        block.start_sample = self.next_index;
        block.lost_before = 0;
        block.center_freq_hz = None;
        self.next_index += block.len as u64;
        self.filling.len = 0;
        let Stages {
            analysis,
            detection,
            decoders,
            order,
            ..
        } = &mut self.stages;
        let Some(done) = analysis.process(block) else {
            return;
        };
        let decoder = &mut decoders[0];
        let free = &mut self.free;
        detection.push(
            done,
            &mut |job, lookback| {
                decoder.load(job, lookback);
                order.accept(decoder.decode(job), &mut |f, p, _| sink(f, p));
            },
            &mut |b| free.push(b),
        );
    }
}
