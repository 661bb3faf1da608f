//! [`run`]: the stages on their own threads, joined by the SPSC rings of `droneid-pipeline`.
//! This file only wires threads and rings; each stage's work is in its own module.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver as ChanReceiver, RecvTimeoutError, Sender};
use droneid_pipeline::{spsc, Consumer, Pool, Producer, Returner};
use droneid_receiver::{Frame, ReceiverStats};

use crate::analysis::AnalysisStage;
use crate::block::Block;
use crate::decode::{BurstDecoder, DecodedBurst};
use crate::detection::{BurstJob, DetectionStage};
use crate::fill::{source_stage, Filler, SourceReport};
use crate::lookback::Lookback;
use crate::order::FrameOrder;
use crate::source::BlockSource;
use crate::stats::LiveCounters;
use crate::{
    BurstTap, EngineConfig, EngineError, FrameTiming, RunControl, RunSink, RunSummary, Stages,
};

/// Runs the whole pipeline over `source` until it ends, fails or `control.stop` is set; frames
/// go to `sink` on this thread. `tap`, if given, sees every candidate's samples.
///
/// Returns an error for configuration problems, found before any thread starts, and when a
/// stage thread cannot be started (the threads already running are then stopped and joined).
/// A source that fails mid-stream ends the run normally with [`RunSummary::source_error`] set;
/// every frame decoded until then has reached the sink.
pub fn run(
    cfg: &EngineConfig,
    mut source: Box<dyn BlockSource>,
    control: &RunControl,
    sink: &mut dyn RunSink,
    tap: Option<&mut dyn BurstTap>,
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
    // Every stage's kernels and every block are built here, before any thread starts.
    let decode_threads = cfg.decode_threads.max(1);
    let stages = Stages::new(cfg, desc.center_freq_hz, decode_threads + 1)?;
    let ring_blocks = cfg.ring_blocks.max(2);
    let pool_count = 2 * ring_blocks + stages.max_held + 4;
    let (pool, returner) = Pool::with_factory(pool_count, || stages.new_block());
    let filler = Filler::new(stages.block_samples, desc.center_freq_hz);
    let Stages {
        analysis,
        detection,
        decoders,
        mut order,
        ..
    } = stages;
    let decode_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(decode_threads)
        .thread_name(|i| format!("droneid-decode-{i}"))
        .build()
        .map_err(|e| EngineError(format!("cannot start decode threads: {e}")))?;
    let (free_tx, free_rx) = crossbeam_channel::bounded::<BurstDecoder>(decoders.len());
    for d in decoders {
        let _ = free_tx.send(d);
    }
    let (result_tx, result_rx) = crossbeam_channel::unbounded::<DecodedBurst>();
    let (to_analysis, analysis_in) = spsc::channel::<Block>(ring_blocks);
    let (to_detector, detector_in) = spsc::channel::<Block>(ring_blocks);
    let ring_stats = [
        ("source→analysis", to_analysis.stats().clone()),
        ("analysis→detector", to_detector.stats().clone()),
    ];
    let pool_stats = pool.stats().clone();
    // Internal stages only stop waiting if the run is torn down; a stop request ends the
    // source, and the others drain.
    let abort = AtomicBool::new(false);
    let decode_busy_ns = Arc::new(AtomicU64::new(0));
    let counters = control.counters.clone();
    counters.reset(desc.center_freq_hz);

    let outcome = std::thread::scope(|scope| {
        let spawn_failed = |what: &str, e: std::io::Error| {
            abort.store(true, Ordering::Relaxed);
            EngineError(format!("cannot start the {what} thread: {e}"))
        };
        let counters_ref = &*counters;
        let (stop, abort_ref) = (&*control.stop, &abort);
        let src = std::thread::Builder::new()
            .name("droneid-source".into())
            .spawn_scoped(scope, move || {
                source_stage(
                    source.as_mut(),
                    pool,
                    to_analysis,
                    filler,
                    counters_ref,
                    stop,
                    abort_ref,
                    desc.live,
                )
            })
            .map_err(|e| spawn_failed("source", e))?;
        let ana = std::thread::Builder::new()
            .name("droneid-analysis".into())
            .spawn_scoped(scope, move || {
                analysis_thread(analysis, analysis_in, to_detector, abort_ref)
            })
            .map_err(|e| spawn_failed("analysis", e))?;
        let decoding = Decoding {
            free_rx,
            free_tx,
            result_tx,
            pool: &decode_pool,
            busy_ns: decode_busy_ns.clone(),
        };
        let det = std::thread::Builder::new()
            .name("droneid-detector".into())
            .spawn_scoped(scope, move || {
                detection_thread(
                    detection,
                    detector_in,
                    returner,
                    decoding,
                    tap,
                    counters_ref,
                    abort_ref,
                )
            })
            .map_err(|e| spawn_failed("detector", e))?;

        // Stage 4 runs on this thread.
        sink_loop(&result_rx, &mut order, sink, counters_ref);
        let report = src.join().unwrap_or_else(|_| SourceReport {
            busy: Duration::ZERO,
            error: Some("the source thread panicked".into()),
            interrupted: false,
            dropped_blocks: 0,
            counters: Vec::new(),
        });
        let ana_busy = ana.join().unwrap_or_default();
        let (det_busy, samples, candidates) = det.join().unwrap_or_default();
        let mut stats: ReceiverStats = order.stats().clone();
        stats.samples = samples;
        stats.candidates = candidates;
        let snap = counters.snapshot();
        Ok(RunSummary {
            stats,
            samples_in: snap.samples_in,
            samples_lost: snap.samples_lost,
            blocks_dropped: report.dropped_blocks,
            rings: ring_stats
                .iter()
                .map(|(name, s)| (*name, s.snapshot()))
                .chain(std::iter::once(("free blocks", pool_stats.snapshot())))
                .collect(),
            source_counters: report.counters,
            source_error: report.error,
            interrupted: report.interrupted,
            elapsed_s: 0.0,
            busy_s: [
                report.busy.as_secs_f64(),
                ana_busy.as_secs_f64(),
                det_busy.as_secs_f64(),
            ],
            decode_busy_s: decode_busy_ns.load(Ordering::Relaxed) as f64 * 1e-9,
        })
    });
    let mut summary = outcome?;
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Stage 1's thread: [`AnalysisStage`] over the blocks from the source. Returns its busy time.
fn analysis_thread(
    mut stage: AnalysisStage,
    mut input: Consumer<Block>,
    mut output: Producer<Block>,
    abort: &AtomicBool,
) -> Duration {
    let mut busy = Duration::ZERO;
    while let Some(block) = input.pop_blocking(abort) {
        let t0 = Instant::now();
        let done = stage.process(block);
        busy += t0.elapsed();
        if let Some(done) = done {
            if output.push_blocking(done, abort).is_err() {
                return busy;
            }
        }
    }
    if let Some(last) = stage.finish() {
        let _ = output.push_blocking(last, abort);
    }
    busy
}

/// Where the detector thread sends ready candidates: free [`BurstDecoder`]s circulate on a
/// channel; each job runs on the rayon pool and sends its result to the sink.
struct Decoding<'a> {
    free_rx: ChanReceiver<BurstDecoder>,
    free_tx: Sender<BurstDecoder>,
    result_tx: Sender<DecodedBurst>,
    pool: &'a rayon::ThreadPool,
    /// Nanoseconds spent in [`BurstDecoder::decode`], all pool threads together.
    busy_ns: Arc<AtomicU64>,
}

impl Decoding<'_> {
    /// Waits for a free decoder, loads the job's samples, shows them to the tap and decodes
    /// on the pool.
    fn dispatch(&self, job: &BurstJob, lookback: &Lookback, tap: &mut Option<&mut dyn BurstTap>) {
        let Ok(mut decoder) = self.free_rx.recv() else {
            return;
        };
        let segment = decoder.load(job, lookback);
        if let Some(t) = tap.as_mut() {
            t.burst(
                &job.candidate,
                job.segment_start,
                segment,
                job.center_freq_hz,
            );
        }
        let (result_tx, free_tx, job) = (self.result_tx.clone(), self.free_tx.clone(), *job);
        let busy_ns = self.busy_ns.clone();
        self.pool.spawn(move || {
            let t0 = Instant::now();
            let decoded = decoder.decode(&job);
            busy_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let _ = result_tx.send(decoded);
            let _ = free_tx.send(decoder);
        });
    }
}

/// Stage 2's thread: [`DetectionStage`] over the analysed blocks, dispatching ready candidates
/// and giving unneeded blocks back to the pool. Returns (busy time, samples, candidates).
fn detection_thread(
    mut stage: DetectionStage,
    mut input: Consumer<Block>,
    mut returner: Returner<Block>,
    decoding: Decoding<'_>,
    mut tap: Option<&mut dyn BurstTap>,
    counters: &LiveCounters,
    abort: &AtomicBool,
) -> (Duration, u64, u64) {
    let mut busy = Duration::ZERO;
    let mut dispatch =
        |job: &BurstJob, lookback: &Lookback| decoding.dispatch(job, lookback, &mut tap);
    // Blocks come from this pool, so giving one back cannot fail while the pool lives; if it
    // is gone (torn down), the block is simply dropped.
    let mut recycle = |b: Block| {
        let _ = returner.give(b);
    };
    while let Some(block) = input.pop_blocking(abort) {
        let t0 = Instant::now();
        stage.push(block, &mut dispatch, &mut recycle);
        counters.set_candidates(stage.candidates());
        busy += t0.elapsed();
    }
    stage.finish(&mut dispatch);
    counters.set_candidates(stage.candidates());
    (busy, stage.samples(), stage.candidates())
}

/// Stage 4 on the caller's thread: results back in candidate order through [`FrameOrder`],
/// frames to `sink`, a tick about every 100 ms.
fn sink_loop(
    results: &ChanReceiver<DecodedBurst>,
    order: &mut FrameOrder,
    sink: &mut dyn RunSink,
    counters: &LiveCounters,
) {
    let mut last_tick = Instant::now();
    let tick_every = Duration::from_millis(100);
    loop {
        match results.recv_timeout(tick_every) {
            Ok(r) => order.accept(r, &mut |f, _, t| deliver(f, t, sink, counters)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= tick_every {
            last_tick = Instant::now();
            sink.tick(counters);
        }
    }
    // Every sender is gone; anything left (a candidate whose job never ran) in order.
    order.finish(&mut |f, _, t| deliver(f, t, sink, counters));
    sink.tick(counters);
}

/// Counts a reported frame in the live counters and hands it to the sink.
fn deliver(frame: Frame, timing: FrameTiming, sink: &mut dyn RunSink, counters: &LiveCounters) {
    if frame.crc24_ok {
        counters.add_frame();
    }
    sink.frame_timed(frame, timing);
}
