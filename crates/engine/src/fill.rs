//! Stage 0, the source: [`Filler`] cuts a [`BlockSource`]'s reads into whole pooled blocks
//! (gaps and retunes start a new block), and [`source_stage`] is the source thread's loop with
//! the file/live back-pressure policy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use droneid_core::Complex32;
use droneid_pipeline::{Pool, Producer};

use crate::block::Block;
use crate::source::BlockSource;
use crate::stats::LiveCounters;

/// What the source thread reports when it ends.
pub(crate) struct SourceReport {
    /// Time spent reading (blocked waits excluded).
    pub busy: Duration,
    /// Why the source stopped early, if it did.
    pub error: Option<String>,
    /// Stopped through the stop flag.
    pub interrupted: bool,
    /// Blocks dropped by back-pressure (live only).
    pub dropped_blocks: u64,
    /// The source's own counters.
    pub counters: Vec<(String, u64)>,
}

/// The source thread: fills pooled blocks and pushes them to the analysis stage until the
/// source ends, fails, `stop` is set or the run is torn down (`abort`). A file source waits
/// for free blocks and ring space; a live source never waits: it drops and counts instead.
/// Dropping `out` at the end closes the chain, so that each later stage drains and ends.
#[allow(clippy::too_many_arguments)]
pub(crate) fn source_stage(
    source: &mut dyn BlockSource,
    mut pool: Pool<Block>,
    mut out: Producer<Block>,
    mut filler: Filler,
    counters: &LiveCounters,
    stop: &AtomicBool,
    abort: &AtomicBool,
    live: bool,
) -> SourceReport {
    let mut busy = Duration::ZERO;
    let mut spare: Option<Block> = None;
    let mut error = None;
    let mut interrupted = false;
    let mut dropped_blocks = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        if abort.load(Ordering::Relaxed) {
            break;
        }
        let block = match spare.take() {
            Some(b) => Some(b),
            None if live => pool.take(),
            None => pool.take_blocking(abort),
        };
        let t0 = Instant::now();
        let Some(mut block) = block else {
            if !live {
                break; // torn down
            }
            // Live and every block in flight: read and discard, count the loss.
            match filler.discard(source, counters) {
                Ok(true) => dropped_blocks += 1,
                Ok(false) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
            continue;
        };
        let fill = filler.fill(source, &mut block, counters, stop);
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
            out.push(block)
        } else {
            out.push_blocking(block, abort)
        };
        match pushed {
            Ok(()) => filler.carried_lost = 0,
            Err(b) => {
                if !live {
                    break; // torn down
                }
                out.record_drop();
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
    drop(out);
    SourceReport {
        busy,
        error,
        interrupted,
        dropped_blocks,
        counters: source.counters(),
    }
}

/// What one [`Filler::fill`] produced.
pub(crate) enum Fill {
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
pub(crate) struct Filler {
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
    /// When the carried samples were read.
    carry_at: Option<Instant>,
    scratch: Vec<Complex32>,
}

impl Filler {
    pub(crate) fn new(block_samples: usize, default_center_hz: Option<f64>) -> Self {
        Self {
            block_samples,
            default_center_hz,
            next_index: 0,
            carried_lost: 0,
            carry: Vec::with_capacity(block_samples),
            carry_lost: 0,
            carry_center_hz: None,
            carry_at: None,
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
        block.marks.clear();
    }

    pub(crate) fn fill(
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
            block.samples_mut()[..n].copy_from_slice(&self.carry);
            block.len = n;
            self.next_index += n as u64;
            self.carry.clear();
            if let Some(at) = self.carry_at.take() {
                block.mark(self.next_index, at);
            }
            started = true;
        }
        while block.len < self.block_samples {
            let len = block.len;
            let read = source.read_block(&mut block.samples_mut()[len..self.block_samples]);
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
            let read_at = Instant::now();
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
                    .extend_from_slice(&block.samples()[block.len..block.len + n]);
                self.carry_lost = r.lost_before;
                self.carry_center_hz = r.center_freq_hz;
                self.carry_at = Some(read_at);
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
            block.mark(self.next_index, read_at);
        }
        if block.len > 0 {
            Fill::Block
        } else {
            Fill::Nothing
        }
    }

    /// Reads one block's worth into scratch and counts it lost. `Ok(false)` at the end.
    pub(crate) fn discard(
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
