//! The DroneID receiver: burst detection anywhere in the captured band, OFDM demodulation and
//! decoding into frames (spec §8).
//!
//! [`Receiver`] is the streaming driver used by `droneid decode`: push sample blocks of any size,
//! get [`Frame`]s through a callback. It is built from three kernels that the line-rate pipeline
//! reuses: [`EnergyDetector`] (time–frequency energy detection → [`Candidate`]s),
//! [`SampleHistory`] (bounded look-back) and [`BurstReceiver`] (candidate → frame).
#![forbid(unsafe_code)]

pub mod burst;
pub mod detect;
pub mod frame;
pub mod history;

use std::collections::VecDeque;

pub use burst::{BurstFailure, BurstOutcome, BurstReceiver, BurstReceiverConfig};
pub use detect::{Candidate, DetectorConfig, EnergyDetector, SpectrumAnalyzer};
use droneid_core::Complex32;
pub use droneid_ofdm::DemodConfig;
pub use frame::Frame;
pub use history::SampleHistory;

/// Samples handed to the detector at a time by [`Receiver::push`].
const PUSH_CHUNK: usize = 16384;

/// Settings of a [`Receiver`].
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Input sample rate, Hz (≥ 15.36 MS/s).
    pub sample_rate_hz: f64,
    /// Capture centre frequency, Hz, when known.
    pub center_freq_hz: Option<f64>,
    /// Also report frames whose CRC24 failed.
    pub report_failed: bool,
    /// Turbo iterations at most.
    pub max_iterations: u32,
    /// Detector settings (defaults from [`DetectorConfig::new`]).
    pub detector: DetectorConfig,
    /// Demodulator settings.
    pub demod: DemodConfig,
}

impl ReceiverConfig {
    /// Defaults for a sample rate.
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_rate_hz,
            center_freq_hz: None,
            report_failed: false,
            max_iterations: 8,
            detector: DetectorConfig::new(sample_rate_hz),
            // The detector and the band-centre estimate can be ~±20 subcarriers off under
            // frequency-selective multipath; the joint ZC-pair search resolves ±40 reliably.
            demod: DemodConfig {
                max_int_cfo_subcarriers: 40,
                ..DemodConfig::default()
            },
        }
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Default)]
pub struct ReceiverStats {
    /// Samples pushed.
    pub samples: u64,
    /// Candidates from the detector.
    pub candidates: u64,
    /// Candidates without a ZC pilot pair.
    pub no_sync: u64,
    /// Bursts whose CRC24 passed.
    pub crc24_ok: u64,
    /// Bursts demodulated whose CRC24 failed.
    pub crc24_failed: u64,
    /// CRC24-valid bursts whose message CRC16 failed.
    pub crc16_failed: u64,
    /// Candidates that decoded to a burst already reported.
    pub duplicates: u64,
}

/// Samples of look-back a receiver must hold so that every candidate's segment is still there
/// when the detector reports it: the detector's warm-up (128 frames) and latency, a whole
/// segment, and one input block of `block_samples`.
pub fn lookback_samples(
    detector: &EnergyDetector,
    burst: &BurstReceiver,
    block_samples: usize,
) -> usize {
    let (_, span) = burst.input_span();
    (160 * detector.frame_len()) + 2 * span + block_samples
}

/// Streaming file/stream receiver: detector → look-back → burst receiver → de-duplication.
pub struct Receiver {
    cfg: ReceiverConfig,
    detector: EnergyDetector,
    history: SampleHistory,
    burst: BurstReceiver,
    queue: VecDeque<Candidate>,
    found: Vec<Candidate>,
    segment: Vec<Complex32>,
    dedup: Deduplicator,
    stats: ReceiverStats,
}

impl Receiver {
    /// Builds every stage; fails on an impossible sample rate.
    pub fn new(cfg: &ReceiverConfig) -> Result<Self, String> {
        let detector = EnergyDetector::new(&cfg.detector)?;
        let burst = BurstReceiver::new(&BurstReceiverConfig {
            sample_rate_hz: cfg.sample_rate_hz,
            center_freq_hz: cfg.center_freq_hz,
            max_iterations: cfg.max_iterations,
            demod: cfg.demod.clone(),
        })?;
        let capacity = lookback_samples(&detector, &burst, PUSH_CHUNK);
        Ok(Self {
            cfg: cfg.clone(),
            history: SampleHistory::new(capacity),
            detector,
            segment: vec![Complex32::new(0.0, 0.0); burst.input_span().1],
            burst,
            queue: VecDeque::new(),
            found: Vec::new(),
            dedup: Deduplicator::new(cfg.sample_rate_hz),
            stats: ReceiverStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }

    /// The configuration in use.
    pub fn config(&self) -> &ReceiverConfig {
        &self.cfg
    }

    /// Pushes the stream's next samples; calls `sink` for every frame finished meanwhile.
    pub fn push(&mut self, block: &[Complex32], sink: &mut dyn FnMut(Frame)) {
        // Small steps, so that the look-back still holds a candidate's samples when it is found.
        for chunk in block.chunks(PUSH_CHUNK) {
            self.stats.samples += chunk.len() as u64;
            self.history.push(chunk);
            self.found.clear();
            self.detector.process(chunk, &mut self.found);
            self.stats.candidates += self.found.len() as u64;
            self.queue.extend(self.found.drain(..));
            self.drain(false, sink);
        }
    }

    /// End of stream: processes what is left.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Frame)) {
        self.found.clear();
        self.detector.flush(&mut self.found);
        self.stats.candidates += self.found.len() as u64;
        self.queue.extend(self.found.drain(..));
        self.drain(true, sink);
    }

    fn drain(&mut self, at_end: bool, sink: &mut dyn FnMut(Frame)) {
        let (before, span) = self.burst.input_span();
        while let Some(c) = self.queue.front().copied() {
            let seg_start = c.start_sample - before;
            if !at_end && seg_start + span as i64 > self.history.end() as i64 {
                break; // not all samples have arrived yet
            }
            self.queue.pop_front();
            self.history.extract(seg_start, &mut self.segment);
            match self.burst.receive(&self.segment, seg_start, &c) {
                BurstOutcome::Failed(_) => self.stats.no_sync += 1,
                BurstOutcome::Frame(frame) => self.report(*frame, sink),
            }
        }
    }

    fn report(&mut self, frame: Frame, sink: &mut dyn FnMut(Frame)) {
        if let Some(frame) = self
            .dedup
            .accept(frame, self.cfg.report_failed, &mut self.stats)
        {
            sink(frame);
        }
    }
}

/// Reports each burst once and counts outcomes: the same burst found twice (two detector
/// events, overlapping channels) within half a burst and 4.5 MHz, with the same block, is a
/// duplicate. Shared by [`Receiver`] and the line-rate pipeline, which feed it frames in
/// candidate order.
#[derive(Debug, Clone)]
pub struct Deduplicator {
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
