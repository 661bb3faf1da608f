//! Stage 4, [`FrameOrder`]: decoded bursts back in candidate order, de-duplicated and counted.

use std::collections::{BTreeMap, VecDeque};

use droneid_core::Complex32;
use droneid_receiver::{BurstOutcome, Frame, ReceiverStats};

use crate::decode::DecodedBurst;
use crate::FrameTiming;

/// Puts [`DecodedBurst`]s back in candidate order (`seq`), counts every outcome and passes on
/// the frames worth reporting (with their constellation, empty unless kept).
pub struct FrameOrder {
    dedup: Deduplicator,
    waiting: BTreeMap<u64, DecodedBurst>,
    next: u64,
    report_failed: bool,
    stats: ReceiverStats,
}

impl FrameOrder {
    /// For an input at `sample_rate_hz`; `report_failed` also passes on CRC24-failed frames.
    pub fn new(sample_rate_hz: f64, report_failed: bool) -> Self {
        Self {
            dedup: Deduplicator::new(sample_rate_hz),
            waiting: BTreeMap::new(),
            next: 0,
            report_failed,
            stats: ReceiverStats::default(),
        }
    }

    /// Counters so far (`samples` and `candidates` are the detection stage's to fill).
    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }

    /// Takes one result (in any order); calls `out` for every frame now in order.
    pub(crate) fn accept(
        &mut self,
        r: DecodedBurst,
        out: &mut dyn FnMut(Frame, &[Complex32], FrameTiming),
    ) {
        self.waiting.insert(r.seq, r);
        while let Some(r) = self.waiting.remove(&self.next) {
            self.next += 1;
            self.deliver(r, out);
        }
    }

    /// End of the run: whatever is left (a candidate whose job never ran), in order.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(Frame, &[Complex32], FrameTiming)) {
        for (_, r) in std::mem::take(&mut self.waiting) {
            self.deliver(r, out);
        }
    }

    fn deliver(&mut self, r: DecodedBurst, out: &mut dyn FnMut(Frame, &[Complex32], FrameTiming)) {
        match r.outcome {
            BurstOutcome::Failed(_) => self.stats.no_sync += 1,
            BurstOutcome::Frames(frames) => {
                for (k, mut frame) in frames.into_iter().enumerate() {
                    if r.center_freq_hz.is_some() {
                        frame.capture_center_freq_hz = r.center_freq_hz;
                    }
                    let points: &[Complex32] = r.constellations.get(k).map_or(&[], Vec::as_slice);
                    if let Some(f) = self
                        .dedup
                        .accept(frame, self.report_failed, &mut self.stats)
                    {
                        out(
                            f,
                            points,
                            FrameTiming {
                                burst_end_delivered: r.burst_end_delivered,
                            },
                        );
                    }
                }
            }
        }
    }
}

/// Reports each burst once and counts outcomes: the same burst found twice (two detector
/// events, overlapping channels) within half a burst and 4.5 MHz, with the same block, is a
/// duplicate. Frames must come in candidate order.
#[derive(Debug, Clone)]
pub(crate) struct Deduplicator {
    recent: VecDeque<(i64, f64, [u8; 176])>,
    half_burst_samples: f64,
}

impl Deduplicator {
    /// For an input at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            recent: VecDeque::with_capacity(65),
            half_burst_samples: 0.5 * 9880.0 * sample_rate_hz / droneid_core::BASE_SAMPLE_RATE_HZ,
        }
    }

    /// Counts `frame` in `stats` and returns it if it should be reported: CRC24-valid and not
    /// a duplicate, or CRC24-failed when `report_failed`.
    pub fn accept(
        &mut self,
        frame: Frame,
        report_failed: bool,
        stats: &mut ReceiverStats,
    ) -> Option<Frame> {
        let half = self.half_burst_samples;
        let dup = self.recent.iter().any(|(s, f, b)| {
            ((*s - frame.start_sample).abs() as f64) < half
                && (f - frame.freq_offset_hz).abs() < 4.5e6
                && (!frame.crc24_ok || *b == frame.block)
        });
        if dup {
            stats.duplicates += 1;
            return None;
        }
        if frame.crc24_ok {
            self.recent
                .push_back((frame.start_sample, frame.freq_offset_hz, frame.block));
            if self.recent.len() > 64 {
                self.recent.pop_front();
            }
            stats.crc24_ok += 1;
            if !frame.crc16_ok() {
                stats.crc16_failed += 1;
            }
            Some(frame)
        } else {
            stats.crc24_failed += 1;
            report_failed.then_some(frame)
        }
    }
}
