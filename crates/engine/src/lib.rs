//! The line-rate receiver pipeline.
//!
//! ```text
//!  source thread ──ring──▶ analysis thread ──ring──▶ detector thread ──rayon──▶ burst decoders
//!  (BlockSource:           (SpectrumAnalyzer:        (EnergyDetector on the      (BurstReceiver per
//!   file or SDR, into       FFT filter bank, one      spectra; look-back of       worker: resample,
//!   pooled blocks)          power spectrum per        held blocks; segments       sync, demod, turbo)
//!                           frame, into the block)    of candidates)                     │
//!                                                                                        ▼
//!                                         caller's thread: reorder by candidate, de-duplicate,
//!                                         RunSink::frame (JSON, tracks, HDF5, MQTT …), ticks
//! ```
//!
//! Items are whole [`Block`]s from one pool, allocated before any thread starts: samples plus
//! their power spectra. The source takes a free block, the analysis stage adds spectra in place,
//! and the detector keeps blocks as look-back until no candidate can need them, then gives them
//! back. Rings are the bounded lock-free SPSC rings of `droneid-pipeline`; nothing on the
//! per-block path allocates, locks or makes a syscall (the source's own reads aside). Only a
//! candidate burst (~0.1 ms of work, a few per second) is copied out and decoded on the rayon
//! pool; results come back on a crossbeam channel and are put back in candidate order, so the
//! output is the same as the single-threaded [`droneid_receiver::Receiver`]'s.
//!
//! Back-pressure: a file source waits for free blocks and ring space (nothing is lost); a live
//! source never waits: a full ring or an empty pool drops the block and counts its samples as
//! lost, and the next block carries the gap (`lost_before`), after which the detector restarts
//! its frame alignment. Stop ([`RunControl::stop`]) ends the source; every stage then drains,
//! so every frame decoded so far reaches the sink.
#![forbid(unsafe_code)]

mod file;
mod memory;
pub mod source;
mod stats;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver as ChanReceiver, RecvTimeoutError};
use droneid_core::Complex32;
use droneid_pipeline::ring::RingStatsSnapshot;
use droneid_pipeline::{spsc, Pool};
use droneid_receiver::{
    lookback_samples, BurstOutcome, BurstReceiver, BurstReceiverConfig, Candidate, Deduplicator,
    EnergyDetector, Frame, ReceiverConfig, ReceiverStats, SpectrumAnalyzer,
};

pub use file::FileSource;
pub use memory::MemorySource;
pub use source::{BlockSource, SourceDescription, SourceError, SourceRead};
pub use stats::{CountersSnapshot, LiveCounters};

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

/// Where frames go; runs on the caller's thread, off the hot path.
pub trait RunSink {
    /// One reported frame (CRC24-valid and not a duplicate, or failed with `report_failed`).
    fn frame(&mut self, frame: Frame);
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

/// The pooled item: samples and their power spectra.
#[derive(Debug)]
struct Block {
    samples: Vec<Complex32>,
    len: usize,
    /// Absolute index of `samples[0]` (lost samples included).
    start_sample: u64,
    /// Samples lost just before this block.
    lost_before: u64,
    center_freq_hz: Option<f64>,
    /// Power spectra of the frames completed in this block (fftshift order, `fft_len` each).
    power: Vec<f32>,
}

impl Block {
    fn end_sample(&self) -> u64 {
        self.start_sample + self.len as u64
    }
}

/// A candidate waiting for its samples.
#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u64,
    candidate: Candidate,
    segment_start: i64,
    center_freq_hz: Option<f64>,
}

/// One burst decoder with its segment buffer; workers circulate on a channel.
struct Worker {
    burst: BurstReceiver,
    segment: Vec<Complex32>,
}

struct JobResult {
    seq: u64,
    outcome: BurstOutcome,
    center_freq_hz: Option<f64>,
}

/// Runs the whole pipeline over `source` until it ends, fails or `control.stop` is set; frames
/// go to `sink` on this thread. `tap`, if given, sees every candidate's samples.
///
/// Returns an error only for configuration problems, before any thread starts. A source that
/// fails mid-stream ends the run normally with [`RunSummary::source_error`] set; every frame
/// decoded until then has reached the sink.
pub fn run(
    cfg: &EngineConfig,
    mut source: Box<dyn BlockSource>,
    control: &RunControl,
    sink: &mut dyn RunSink,
    mut tap: Option<&mut dyn BurstTap>,
) -> Result<RunSummary, EngineError> {
    let started = Instant::now();
    let desc = source.description();
    let rcfg = &cfg.receiver;
    if (desc.sample_rate_hz - rcfg.sample_rate_hz).abs() > 1e-6 * rcfg.sample_rate_hz {
        return Err(EngineError(format!(
            "source rate {} Hz differs from the receiver's {} Hz",
            desc.sample_rate_hz, rcfg.sample_rate_hz
        )));
    }
    // Every stage's kernels are built here, so that configuration errors come before threads.
    let mut detector = EnergyDetector::new(&rcfg.detector).map_err(EngineError)?;
    let frame_len = detector.frame_len();
    let mut analyzer = SpectrumAnalyzer::new(frame_len);
    let burst_cfg = BurstReceiverConfig {
        sample_rate_hz: rcfg.sample_rate_hz,
        center_freq_hz: rcfg.center_freq_hz.or(desc.center_freq_hz),
        max_iterations: rcfg.max_iterations,
        demod: rcfg.demod.clone(),
    };
    let decode_threads = cfg.decode_threads.max(1);
    let worker_count = decode_threads + 1;
    let mut workers = Vec::with_capacity(worker_count);
    for _ in 0..worker_count {
        let burst = BurstReceiver::new(&burst_cfg).map_err(EngineError)?;
        let span = burst.input_span().1;
        workers.push(Worker {
            burst,
            segment: vec![Complex32::new(0.0, 0.0); span],
        });
    }
    let (before, span) = workers[0].burst.input_span();
    let block_samples = cfg.block_samples.max(frame_len).div_ceil(frame_len) * frame_len;
    let lookback = lookback_samples(&detector, &workers[0].burst, block_samples) as u64;
    let held_max = (lookback as usize).div_ceil(block_samples) + 2;
    let ring_blocks = cfg.ring_blocks.max(2);
    let pool_count = 2 * ring_blocks + held_max + 4;
    let power_len = analyzer.max_output_len(block_samples) + frame_len;
    let (mut pool, mut returner) = Pool::with_factory(pool_count, || Block {
        samples: vec![Complex32::new(0.0, 0.0); block_samples],
        len: 0,
        start_sample: 0,
        lost_before: 0,
        center_freq_hz: None,
        power: Vec::with_capacity(power_len),
    });
    let decode_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(decode_threads)
        .thread_name(|i| format!("droneid-decode-{i}"))
        .build()
        .map_err(|e| EngineError(format!("cannot start decode threads: {e}")))?;

    let (free_tx, free_rx) = crossbeam_channel::bounded::<Worker>(worker_count);
    for w in workers {
        let _ = free_tx.send(w);
    }
    let (result_tx, result_rx) = crossbeam_channel::unbounded::<JobResult>();
    let (mut to_analysis, mut analysis_in) = spsc::channel::<Block>(ring_blocks);
    let (to_detector, mut detector_in) = spsc::channel::<Block>(ring_blocks);
    let ring_stats = [
        ("source→analysis", to_analysis.stats().clone()),
        ("analysis→detector", to_detector.stats().clone()),
    ];
    let pool_stats = pool.stats().clone();
    // Internal stages only stop waiting if the run is torn down; a stop request ends the
    // source, and the others drain.
    let abort = AtomicBool::new(false);
    let counters = control.counters.clone();
    counters.reset(desc.center_freq_hz);
    let live = desc.live;
    let report_failed = rcfg.report_failed;
    let sample_rate_hz = rcfg.sample_rate_hz;

    let mut summary = RunSummary::default();
    std::thread::scope(|scope| {
        // ── source ────────────────────────────────────────────────────────────────────────
        let src = std::thread::Builder::new()
            .name("droneid-source".into())
            .spawn_scoped(scope, || {
                let mut filler = Filler::new(block_samples, desc.center_freq_hz);
                let mut busy = Duration::ZERO;
                let mut spare: Option<Block> = None;
                let mut error = None;
                let mut interrupted = false;
                let mut dropped_blocks = 0u64;
                loop {
                    if control.stop.load(Ordering::Relaxed) {
                        interrupted = true;
                        break;
                    }
                    let block = match spare.take() {
                        Some(b) => Some(b),
                        None if live => pool.take(),
                        None => pool.take_blocking(&abort),
                    };
                    let t0 = Instant::now();
                    let Some(mut block) = block else {
                        if !live {
                            break; // torn down
                        }
                        // Live and every block in flight: read and discard, count the loss.
                        match filler.discard(source.as_mut(), &counters) {
                            Ok(true) => dropped_blocks += 1,
                            Ok(false) => break,
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                        continue;
                    };
                    let fill = filler.fill(source.as_mut(), &mut block, &counters, &control.stop);
                    busy += t0.elapsed();
                    let ended = match fill {
                        Fill::Block => false,
                        Fill::BlockThenEnd(e) => {
                            error = e;
                            true
                        }
                        Fill::Nothing => {
                            spare = Some(block);
                            continue;
                        }
                        Fill::End(e) => {
                            error = e;
                            break;
                        }
                    };
                    let pushed = if live {
                        to_analysis.push(block)
                    } else {
                        to_analysis.push_blocking(block, &abort)
                    };
                    match pushed {
                        Ok(()) => filler.carried_lost = 0,
                        Err(b) => {
                            if !live {
                                break; // torn down
                            }
                            to_analysis.record_drop();
                            dropped_blocks += 1;
                            filler.carried_lost += b.len as u64;
                            counters.add_lost(b.len as u64);
                            spare = Some(b);
                        }
                    }
                    if ended {
                        break;
                    }
                }
                drop(to_analysis); // ends the chain: each stage drains, then ends
                let counters_out = source.counters();
                (busy, error, interrupted, dropped_blocks, counters_out)
            })
            .expect("spawn source thread");

        // ── analysis: the FFT filter bank ─────────────────────────────────────────────────
        let ana = std::thread::Builder::new()
            .name("droneid-analysis".into())
            .spawn_scoped(scope, || {
                // Owned here, so that the ring closes when this stage ends.
                let mut to_detector = to_detector;
                let mut busy = Duration::ZERO;
                // One block is held back so that the stream's last partial frame can join it.
                let mut held: Option<Block> = None;
                while let Some(mut block) = analysis_in.pop_blocking(&abort) {
                    let t0 = Instant::now();
                    if block.lost_before > 0 {
                        analyzer.reset();
                    }
                    block.power.clear();
                    analyzer.analyze(&block.samples[..block.len], &mut block.power);
                    busy += t0.elapsed();
                    if let Some(prev) = held.replace(block) {
                        if to_detector.push_blocking(prev, &abort).is_err() {
                            return busy;
                        }
                    }
                }
                if let Some(mut last) = held {
                    analyzer.flush(&mut last.power);
                    let _ = to_detector.push_blocking(last, &abort);
                }
                busy
            })
            .expect("spawn analysis thread");

        // ── detector + dispatch to the decoders ──────────────────────────────────────────
        let det = std::thread::Builder::new()
            .name("droneid-detector".into())
            .spawn_scoped(scope, || {
                let mut busy = Duration::ZERO;
                let mut found: Vec<Candidate> = Vec::with_capacity(64);
                let mut pending: VecDeque<Pending> = VecDeque::with_capacity(64);
                let mut held: VecDeque<Block> = VecDeque::with_capacity(pool_count);
                let mut seq = 0u64;
                let mut samples = 0u64;
                let dispatch =
                    |p: Pending, held: &VecDeque<Block>, tap: &mut Option<&mut dyn BurstTap>| {
                        let Ok(mut worker) = free_rx.recv() else {
                            return;
                        };
                        extract(held, p.segment_start, &mut worker.segment);
                        if let Some(t) = tap.as_mut() {
                            t.burst(
                                &p.candidate,
                                p.segment_start,
                                &worker.segment,
                                p.center_freq_hz,
                            );
                        }
                        let result_tx = result_tx.clone();
                        let free_tx = free_tx.clone();
                        decode_pool.spawn(move || {
                            let outcome = worker.burst.receive(
                                &worker.segment,
                                p.segment_start,
                                &p.candidate,
                            );
                            let _ = result_tx.send(JobResult {
                                seq: p.seq,
                                outcome,
                                center_freq_hz: p.center_freq_hz,
                            });
                            let _ = free_tx.send(worker);
                        });
                    };
                while let Some(block) = detector_in.pop_blocking(&abort) {
                    let t0 = Instant::now();
                    found.clear();
                    if block.lost_before > 0 {
                        detector.resync(block.start_sample as i64, &mut found);
                    }
                    detector.process_power(&block.power, &mut found);
                    samples += block.len as u64;
                    let center = block.center_freq_hz;
                    for c in found.drain(..) {
                        pending.push_back(Pending {
                            seq,
                            candidate: c,
                            segment_start: c.start_sample - before,
                            center_freq_hz: center,
                        });
                        seq += 1;
                    }
                    counters.set_candidates(seq);
                    held.push_back(block);
                    let end = held.back().map_or(0, |b| b.end_sample());
                    while let Some(p) = pending.front().copied() {
                        if p.segment_start + span as i64 > end as i64 {
                            break; // not all samples have arrived yet
                        }
                        pending.pop_front();
                        dispatch(p, &held, &mut tap);
                    }
                    // Give back blocks that no candidate can need any more.
                    let keep_from = end.saturating_sub(lookback);
                    let oldest_needed = pending
                        .front()
                        .map_or(keep_from, |p| keep_from.min(p.segment_start.max(0) as u64));
                    // (Blocks are whole, so the look-back fits the pool; the length bound is a
                    // guard against a source that returns tiny reads at every call.)
                    while held.len() > 1
                        && (held[0].end_sample() <= oldest_needed || held.len() > held_max)
                    {
                        let b = held.pop_front().expect("non-empty");
                        if returner.give(b).is_err() {
                            unreachable!("blocks come from this pool");
                        }
                    }
                    busy += t0.elapsed();
                }
                // End of stream: open events, then every waiting candidate (zero-padded).
                found.clear();
                detector.flush_power(&mut found);
                for c in found.drain(..) {
                    pending.push_back(Pending {
                        seq,
                        candidate: c,
                        segment_start: c.start_sample - before,
                        center_freq_hz: held.back().and_then(|b| b.center_freq_hz),
                    });
                    seq += 1;
                }
                counters.set_candidates(seq);
                while let Some(p) = pending.pop_front() {
                    dispatch(p, &held, &mut tap);
                }
                drop(result_tx);
                (busy, samples, seq)
            })
            .expect("spawn detector thread");

        // ── sink: this thread ────────────────────────────────────────────────────────────
        let mut stats = ReceiverStats::default();
        sink_loop(
            &result_rx,
            sink,
            &counters,
            &mut stats,
            report_failed,
            sample_rate_hz,
        );
        let (src_busy, error, interrupted, dropped_blocks, source_counters) =
            src.join().unwrap_or_else(|_| {
                (
                    Duration::ZERO,
                    Some("the source thread panicked".into()),
                    false,
                    0,
                    Vec::new(),
                )
            });
        let ana_busy = ana.join().unwrap_or_default();
        let (det_busy, samples, candidates) = det.join().unwrap_or_default();
        stats.samples = samples;
        stats.candidates = candidates;
        summary = RunSummary {
            stats,
            samples_in: counters.snapshot().samples_in,
            samples_lost: counters.snapshot().samples_lost,
            blocks_dropped: dropped_blocks,
            rings: ring_stats
                .iter()
                .map(|(name, s)| (*name, s.snapshot()))
                .chain(std::iter::once(("free blocks", pool_stats.snapshot())))
                .collect(),
            source_counters,
            source_error: error,
            interrupted,
            elapsed_s: 0.0,
            busy_s: [
                src_busy.as_secs_f64(),
                ana_busy.as_secs_f64(),
                det_busy.as_secs_f64(),
            ],
        };
    });
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// What one [`Filler::fill`] produced.
enum Fill {
    /// A block worth pushing.
    Block,
    /// A last block worth pushing, then the end (with the source's error, if any).
    BlockThenEnd(Option<String>),
    /// Nothing yet (a live source timed out); try again.
    Nothing,
    /// The end, nothing more to push (with the source's error, if any).
    End(Option<String>),
}

/// Fills whole blocks from a source, so that the look-back always fits the pool. A gap (lost
/// samples) or a retune ends a block early: the samples after it start the next block.
struct Filler {
    block_samples: usize,
    default_center_hz: Option<f64>,
    /// Absolute index of the next sample.
    next_index: u64,
    /// Samples lost since the last block that was pushed.
    carried_lost: u64,
    /// Samples read after a gap, waiting for the next block: (samples, lost before, centre).
    carry: Vec<Complex32>,
    carry_lost: u64,
    carry_center_hz: Option<f64>,
    scratch: Vec<Complex32>,
}

impl Filler {
    fn new(block_samples: usize, default_center_hz: Option<f64>) -> Self {
        Self {
            block_samples,
            default_center_hz,
            next_index: 0,
            carried_lost: 0,
            carry: Vec::with_capacity(block_samples),
            carry_lost: 0,
            carry_center_hz: None,
            scratch: Vec::new(),
        }
    }

    fn start_block(&mut self, block: &mut Block, lost: u64, center_hz: Option<f64>) {
        self.next_index += lost;
        self.carried_lost += lost;
        block.start_sample = self.next_index;
        block.lost_before = self.carried_lost;
        block.center_freq_hz = center_hz.or(self.default_center_hz);
        block.len = 0;
    }

    fn fill(
        &mut self,
        source: &mut dyn BlockSource,
        block: &mut Block,
        counters: &LiveCounters,
        stop: &AtomicBool,
    ) -> Fill {
        let mut started = false;
        block.len = 0; // a recycled block still has its old length
        if !self.carry.is_empty() {
            let (lost, center) = (self.carry_lost, self.carry_center_hz);
            self.start_block(block, lost, center);
            let n = self.carry.len();
            block.samples[..n].copy_from_slice(&self.carry);
            block.len = n;
            self.next_index += n as u64;
            self.carry.clear();
            started = true;
        }
        while block.len < self.block_samples {
            let read = source.read_block(&mut block.samples[block.len..self.block_samples]);
            let r = match read {
                Err(e) => {
                    let e = Some(e.to_string());
                    return if block.len > 0 {
                        Fill::BlockThenEnd(e)
                    } else {
                        Fill::End(e)
                    };
                }
                Ok(r) => r,
            };
            if r.samples == 0 {
                if !r.timed_out {
                    return if block.len > 0 {
                        Fill::BlockThenEnd(None)
                    } else {
                        Fill::End(None)
                    };
                }
                // A live source with nothing for now: hand on what there is.
                if block.len > 0 || stop.load(Ordering::Relaxed) {
                    break;
                }
                continue;
            }
            let n = r.samples.min(self.block_samples - block.len);
            counters.add_in(n as u64);
            counters.add_lost(r.lost_before);
            if let Some(f) = r.center_freq_hz {
                counters.set_center_freq(f);
            }
            let center = r.center_freq_hz.or(self.default_center_hz);
            if started && (r.lost_before > 0 || center != block.center_freq_hz) {
                // These samples follow a gap or a retune: they start the next block.
                self.carry
                    .extend_from_slice(&block.samples[block.len..block.len + n]);
                self.carry_lost = r.lost_before;
                self.carry_center_hz = r.center_freq_hz;
                break;
            }
            if !started {
                let len = block.len;
                self.start_block(block, r.lost_before, r.center_freq_hz);
                block.len = len;
                started = true;
            }
            block.len += n;
            self.next_index += n as u64;
        }
        if block.len > 0 {
            Fill::Block
        } else {
            Fill::Nothing
        }
    }

    /// Reads one block's worth into scratch and counts it lost. `Ok(false)` at the end.
    fn discard(
        &mut self,
        source: &mut dyn BlockSource,
        counters: &LiveCounters,
    ) -> Result<bool, String> {
        if self.scratch.is_empty() {
            self.scratch = vec![Complex32::new(0.0, 0.0); self.block_samples];
        }
        let lost_carry = self.carry.len() as u64;
        self.carry.clear();
        let r = source
            .discard(&mut self.scratch)
            .map_err(|e| e.to_string())?;
        if r.samples == 0 && !r.timed_out {
            return Ok(false);
        }
        let lost = lost_carry + self.carry_lost + r.lost_before + r.samples as u64;
        self.carry_lost = 0;
        self.carried_lost += lost;
        self.next_index += lost;
        counters.add_in(r.samples as u64);
        counters.add_lost(lost);
        Ok(true)
    }
}

/// Puts decoder results back in candidate order, de-duplicates and hands frames to `sink`.
fn sink_loop(
    results: &ChanReceiver<JobResult>,
    sink: &mut dyn RunSink,
    counters: &LiveCounters,
    stats: &mut ReceiverStats,
    report_failed: bool,
    sample_rate_hz: f64,
) {
    let mut dedup = Deduplicator::new(sample_rate_hz);
    let mut waiting: BTreeMap<u64, JobResult> = BTreeMap::new();
    let mut next = 0u64;
    let mut last_tick = Instant::now();
    let tick_every = Duration::from_millis(100);
    let mut deliver =
        |r: JobResult, stats: &mut ReceiverStats, sink: &mut dyn RunSink| match r.outcome {
            BurstOutcome::Failed(_) => stats.no_sync += 1,
            BurstOutcome::Frame(frame) => {
                let mut frame = *frame;
                if r.center_freq_hz.is_some() {
                    frame.capture_center_freq_hz = r.center_freq_hz;
                }
                if let Some(f) = dedup.accept(frame, report_failed, stats) {
                    if f.crc24_ok {
                        counters.add_frame();
                    }
                    sink.frame(f);
                }
            }
        };
    loop {
        match results.recv_timeout(tick_every) {
            Ok(r) => {
                waiting.insert(r.seq, r);
                while let Some(r) = waiting.remove(&next) {
                    next += 1;
                    deliver(r, stats, sink);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= tick_every {
            last_tick = Instant::now();
            sink.tick(counters);
        }
    }
    // Every sender is gone; anything left (a candidate whose job never ran) in order.
    for (_, r) in std::mem::take(&mut waiting) {
        deliver(r, stats, sink);
    }
    sink.tick(counters);
}

/// Copies absolute samples `[start, start + out.len())` from the held blocks into `out`;
/// samples not held (before the stream, given back, lost, not yet read) are zero.
fn extract(held: &VecDeque<Block>, start: i64, out: &mut [Complex32]) {
    out.fill(Complex32::new(0.0, 0.0));
    let end = start + out.len() as i64;
    for b in held {
        let (bs, be) = (b.start_sample as i64, b.end_sample() as i64);
        let (lo, hi) = (bs.max(start), be.min(end));
        if lo >= hi {
            continue;
        }
        out[(lo - start) as usize..(hi - start) as usize]
            .copy_from_slice(&b.samples[(lo - bs) as usize..(hi - bs) as usize]);
    }
}
