//! The receiver engine: one set of stages, run either on threads ([`run`], what `droneid decode`
//! and `droneid live` use) or in line on the caller's thread ([`StreamDecoder`], for `plot`,
//! `bench --sensitivity`, the tests and the Python bindings). Both call the same stage types;
//! they differ only in who calls them.
//!
//! ```text
//!  stage 0: source          stage 1: analysis      stage 2: detection        stage 3: decode        stage 4: order
//!  BlockSource + Filler ──▶ AnalysisStage ───────▶ DetectionStage ─────────▶ BurstDecoder ────────▶ FrameOrder
//!  (fill.rs: whole pooled   (analysis.rs: FFT      (detection.rs: energy     (decode.rs: mix,        (order.rs: candidate
//!   blocks, back-pressure)   filter bank, power     detector on the spectra;  resample, ZC sync,      order, de-dup,
//!                            spectra into block)    lookback.rs: held blocks) demod, turbo)           counters) ──▶ sink
//! ```
//!
//! [`run`] (`threaded.rs`) gives stages 0–2 a thread each, joined by the bounded lock-free SPSC
//! rings of `droneid-pipeline` that carry whole [`Block`]s from one pool (allocated before any
//! thread starts); stage 3 runs on a rayon pool, stage 4 on the caller's thread. Nothing on the
//! per-block path allocates, locks or makes a syscall (the source's own reads aside). Only a
//! candidate burst (a few per second) is copied out of the look-back and decoded.
//! [`StreamDecoder`] (`stream.rs`) calls stages 1–4 in turn as its blocks fill up.
//!
//! Back-pressure ([`run`] only): a file source waits for free blocks and ring space (nothing is
//! lost); a live source never waits: a full ring or an empty pool drops the block and counts its
//! samples as lost, and the next block carries the gap (`lost_before`), after which the detector
//! restarts its frame alignment. Stop ([`RunControl::stop`]) ends the source; every stage then
//! drains, so every frame decoded so far reaches the sink.
#![forbid(unsafe_code)]

mod analysis;
mod block;
mod decode;
mod detection;
mod file;
mod fill;
mod latency;
mod lookback;
mod memory;
mod order;
pub mod source;
mod stats;
mod stream;
mod threaded;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use droneid_core::Complex32;
use droneid_pipeline::RingStatsSnapshot;
use droneid_receiver::{
    BurstReceiverConfig, Candidate, EnergyDetector, Frame, ReceiverConfig, ReceiverStats,
};

pub use analysis::AnalysisStage;
pub use block::Block;
pub use decode::{BurstDecoder, DecodedBurst};
pub use detection::{BurstJob, DetectionStage};
pub use file::FileSource;
pub use latency::LatencyHistogram;
pub use lookback::Lookback;
pub use memory::MemorySource;
pub use order::FrameOrder;
pub use source::{BlockSource, SourceDescription, SourceError, SourceRead};
pub use stats::{CountersSnapshot, LiveCounters};
pub use stream::StreamDecoder;
pub use threaded::run;

/// Settings of a pipeline run.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Receiver settings (rate, detector, demodulator, turbo iterations, report failed).
    pub receiver: ReceiverConfig,
    /// Samples per pooled block (rounded up to whole detector frames).
    pub block_samples: usize,
    /// Blocks each ring holds.
    pub ring_blocks: usize,
    /// Threads of the rayon pool that decodes bursts.
    pub decode_threads: usize,
}

impl EngineConfig {
    /// Defaults: 2¹⁷-sample blocks, rings of 8 blocks, one decode thread per core.
    pub fn new(receiver: ReceiverConfig) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            receiver,
            block_samples: 1 << 17,
            ring_blocks: 8,
            decode_threads: cores.clamp(1, 8),
        }
    }
}

/// Shared with the caller while a run goes on: stop request and live counters.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    /// Set (e.g. by a signal handler) to end the source; the pipeline drains and returns.
    pub stop: Arc<AtomicBool>,
    /// Counters readable from any thread (status line, progress).
    pub counters: Arc<LiveCounters>,
}

/// When a frame's samples reached the pipeline, for latency measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameTiming {
    /// When the source delivered (its read returned) the sample that ends the frame's burst
    /// (the candidate's estimated start plus the longest burst, ± a few detector frames);
    /// `None` in the in-line engine.
    pub burst_end_delivered: Option<Instant>,
}

/// Where frames go; runs on the caller's thread, off the hot path.
pub trait RunSink {
    /// One reported frame (CRC24-valid and not a duplicate, or failed with `report_failed`).
    fn frame(&mut self, frame: Frame);
    /// [`frame`](Self::frame) with its [`FrameTiming`]; what [`run`] calls. The default
    /// forgets the timing.
    fn frame_timed(&mut self, frame: Frame, _timing: FrameTiming) {
        self.frame(frame)
    }
    /// Called about every 100 ms with the live counters (progress, status line).
    fn tick(&mut self, _counters: &LiveCounters) {}
}

impl<F: FnMut(Frame)> RunSink for F {
    fn frame(&mut self, frame: Frame) {
        self(frame)
    }
}

/// Sees the raw samples of every candidate burst before it is decoded (record on detect).
/// Runs on the detector thread: keep it quick or hand the samples to a thread of your own.
pub trait BurstTap: Send {
    /// `samples` start at absolute input sample `segment_start`; `center_freq_hz` is the tuned
    /// frequency they were received at, when known.
    fn burst(
        &mut self,
        candidate: &Candidate,
        segment_start: i64,
        samples: &[Complex32],
        center_freq_hz: Option<f64>,
    );
}

/// Counters and findings of a finished run.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Receiver counters (samples reaching the detector, candidates, CRC outcomes, duplicates).
    pub stats: ReceiverStats,
    /// Samples the source delivered, those dropped by back-pressure included (samples that
    /// the device itself lost are only in `samples_lost`).
    pub samples_in: u64,
    /// Samples lost: reported by the source (overflow, retune) or dropped by back-pressure.
    pub samples_lost: u64,
    /// Blocks dropped because a ring was full or the pool empty (live sources only).
    pub blocks_dropped: u64,
    /// Per ring: name and counters (pushed, popped, full, dropped, high-water mark).
    pub rings: Vec<(&'static str, RingStatsSnapshot)>,
    /// Source-specific counters (NaN/Inf samples, device overflows …).
    pub source_counters: Vec<(String, u64)>,
    /// Why the source stopped early, if it did.
    pub source_error: Option<String>,
    /// The run was stopped through [`RunControl::stop`].
    pub interrupted: bool,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Busy seconds per stage thread: source, analysis, detector.
    pub busy_s: [f64; 3],
    /// Seconds spent decoding bursts, summed over the decode pool's threads.
    pub decode_busy_s: f64,
}

/// A configuration error found before any thread started.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

/// Every stage of one run, built (with all its buffers) before any sample moves.
pub(crate) struct Stages {
    pub(crate) analysis: AnalysisStage,
    pub(crate) detection: DetectionStage,
    /// At least one.
    pub(crate) decoders: Vec<BurstDecoder>,
    pub(crate) order: FrameOrder,
    /// Samples per block, a whole number of detector frames.
    pub(crate) block_samples: usize,
    /// Spectrum values a block holds at most.
    pub(crate) power_len: usize,
    /// Blocks the look-back holds at most.
    pub(crate) max_held: usize,
}

impl Stages {
    /// Stages for `cfg` with `decoders` burst decoders; `source_center_freq_hz` is used when
    /// the configuration has no centre frequency.
    pub(crate) fn new(
        cfg: &EngineConfig,
        source_center_freq_hz: Option<f64>,
        decoders: usize,
    ) -> Result<Self, EngineError> {
        let rcfg = &cfg.receiver;
        let detector = EnergyDetector::new(&rcfg.detector).map_err(EngineError)?;
        let frame_len = detector.frame_len();
        let analysis = AnalysisStage::new(frame_len);
        let burst_cfg = BurstReceiverConfig {
            sample_rate_hz: rcfg.sample_rate_hz,
            center_freq_hz: rcfg.center_freq_hz.or(source_center_freq_hz),
            max_iterations: rcfg.max_iterations,
            demod: rcfg.demod.clone(),
        };
        let decoders = (0..decoders.max(1))
            .map(|_| BurstDecoder::new(&burst_cfg))
            .collect::<Result<Vec<_>, _>>()?;
        let span = decoders[0].input_span();
        let block_samples = cfg.block_samples.max(frame_len).div_ceil(frame_len) * frame_len;
        let lookback = lookback::lookback_samples(&detector, span.1, block_samples) as u64;
        let max_held = Lookback::max_blocks_for(lookback, block_samples);
        let power_len = analysis.power_capacity(block_samples);
        Ok(Self {
            analysis,
            detection: DetectionStage::new(
                detector,
                span,
                Lookback::new(lookback, max_held),
                // The longest burst (9 symbols) at the input rate.
                (droneid_core::BurstFormat::Nine.len_base() as f64 * rcfg.sample_rate_hz
                    / droneid_core::BASE_SAMPLE_RATE_HZ)
                    .ceil() as usize,
            ),
            decoders,
            order: FrameOrder::new(rcfg.sample_rate_hz, rcfg.report_failed),
            block_samples,
            power_len,
            max_held,
        })
    }

    /// A fresh block of this run's size.
    pub(crate) fn new_block(&self) -> Block {
        Block::new(self.block_samples, self.power_len)
    }

    /// Counters: outcomes from the order stage, samples and candidates from detection.
    pub(crate) fn stats(&self) -> ReceiverStats {
        let mut s = self.order.stats().clone();
        s.samples = self.detection.samples();
        s.candidates = self.detection.candidates();
        s
    }
}
