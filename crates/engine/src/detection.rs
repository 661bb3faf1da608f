//! Stage 2, [`DetectionStage`]: the energy detector on the blocks' spectra, the look-back, and
//! the queue of candidates waiting for their samples. Emits [`BurstJob`]s in candidate order.

use std::collections::VecDeque;
use std::time::Instant;

use droneid_receiver::{Candidate, EnergyDetector};

use crate::block::Block;
use crate::lookback::Lookback;

/// A candidate whose samples have all arrived: decode it with a
/// [`BurstDecoder`](crate::BurstDecoder).
#[derive(Debug, Clone, Copy)]
pub struct BurstJob {
    /// Candidate number from 0, in detection order: results are reported in this order.
    pub seq: u64,
    /// What the detector found.
    pub candidate: Candidate,
    /// Absolute index of the segment's first sample (`candidate.start_sample − before`).
    pub segment_start: i64,
    /// Centre frequency the samples were received at, Hz, when known.
    pub center_freq_hz: Option<f64>,
    /// When the source delivered the sample that ends the candidate's burst (its estimated
    /// start plus the longest burst), when the source's reads were timed.
    pub burst_end_delivered: Option<Instant>,
}

/// Detector, look-back and waiting candidates.
pub struct DetectionStage {
    detector: EnergyDetector,
    lookback: Lookback,
    pending: VecDeque<BurstJob>,
    found: Vec<Candidate>,
    /// Segment samples before the candidate's start, segment length (the burst decoder's span).
    before: i64,
    span: usize,
    /// The longest burst, input samples.
    burst_samples: i64,
    seq: u64,
    samples: u64,
}

impl DetectionStage {
    /// `input_span` is [`BurstDecoder::input_span`](crate::BurstDecoder::input_span);
    /// `lookback` holds the blocks.
    pub(crate) fn new(
        detector: EnergyDetector,
        input_span: (i64, usize),
        lookback: Lookback,
        burst_samples: usize,
    ) -> Self {
        Self {
            detector,
            lookback,
            pending: VecDeque::with_capacity(64),
            found: Vec::with_capacity(64),
            before: input_span.0,
            span: input_span.1,
            burst_samples: burst_samples as i64,
            seq: 0,
            samples: 0,
        }
    }

    /// Candidates found so far.
    pub fn candidates(&self) -> u64 {
        self.seq
    }

    /// Samples that reached the detector so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    fn enqueue(&mut self, center_freq_hz: Option<f64>) {
        for c in self.found.drain(..) {
            self.pending.push_back(BurstJob {
                seq: self.seq,
                candidate: c,
                segment_start: c.start_sample - self.before,
                center_freq_hz,
                burst_end_delivered: None,
            });
            self.seq += 1;
        }
    }

    /// Detects on `block`'s spectra (a gap before it restarts the detector's frame alignment),
    /// keeps it as look-back, hands every candidate whose samples have all arrived to
    /// `dispatch` (with the look-back to copy them from), and gives blocks no candidate can
    /// need any more to `recycle`.
    pub(crate) fn push(
        &mut self,
        block: Block,
        dispatch: &mut dyn FnMut(&BurstJob, &Lookback),
        recycle: &mut dyn FnMut(Block),
    ) {
        self.found.clear();
        if block.lost_before > 0 {
            self.detector
                .resync(block.start_sample as i64, &mut self.found);
        }
        self.detector.process_power(&block.power, &mut self.found);
        self.samples += block.len as u64;
        let center = block.center_freq_hz;
        self.enqueue(center);
        self.lookback.push(block);
        let end = self.lookback.end() as i64;
        while let Some(mut job) = self.pending.front().copied() {
            if job.segment_start + self.span as i64 > end {
                break; // not all samples have arrived yet
            }
            self.pending.pop_front();
            job.burst_end_delivered = self.burst_end_delivered(&job);
            dispatch(&job, &self.lookback);
        }
        let oldest_needed = self.pending.front().map(|j| j.segment_start);
        self.lookback.release(oldest_needed, recycle);
    }

    /// End of stream: reports the detector's open events, then dispatches every waiting
    /// candidate (samples past the end are zero).
    pub(crate) fn finish(&mut self, dispatch: &mut dyn FnMut(&BurstJob, &Lookback)) {
        self.found.clear();
        self.detector.flush_power(&mut self.found);
        let center = self.lookback.newest_center_freq_hz();
        self.enqueue(center);
        while let Some(mut job) = self.pending.pop_front() {
            job.burst_end_delivered = self.burst_end_delivered(&job);
            dispatch(&job, &self.lookback);
        }
    }

    /// When the sample ending `job`'s burst was delivered (the last one held, past the end).
    fn burst_end_delivered(&self, job: &BurstJob) -> Option<Instant> {
        let end = (job.candidate.start_sample + self.burst_samples).max(0) as u64;
        self.lookback
            .delivered_at(end.min(self.lookback.end().saturating_sub(1)))
    }
}
