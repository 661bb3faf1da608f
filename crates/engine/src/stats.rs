//! Live counters shared between the pipeline's threads and the caller (status line, progress).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters updated by the pipeline while it runs; every field is readable from any thread.
#[derive(Debug, Default)]
pub struct LiveCounters {
    samples_in: AtomicU64,
    samples_lost: AtomicU64,
    candidates: AtomicU64,
    frames: AtomicU64,
    /// `f64::to_bits` of the tuned centre frequency; `u64::MAX` when unknown.
    center_freq_bits: AtomicU64,
}

/// A copy of [`LiveCounters`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CountersSnapshot {
    /// Samples the source delivered, those dropped by back-pressure included.
    pub samples_in: u64,
    /// Samples lost (source overflow, retune, back-pressure drops).
    pub samples_lost: u64,
    /// Burst candidates found by the detector.
    pub candidates: u64,
    /// CRC24-valid frames reported.
    pub frames: u64,
    /// Current centre frequency, Hz, when known.
    pub center_freq_hz: Option<f64>,
}

impl LiveCounters {
    pub(crate) fn reset(&self, center_freq_hz: Option<f64>) {
        self.samples_in.store(0, Ordering::Relaxed);
        self.samples_lost.store(0, Ordering::Relaxed);
        self.candidates.store(0, Ordering::Relaxed);
        self.frames.store(0, Ordering::Relaxed);
        self.center_freq_bits.store(
            center_freq_hz.map_or(u64::MAX, f64::to_bits),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn add_in(&self, n: u64) {
        self.samples_in.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_lost(&self, n: u64) {
        if n > 0 {
            self.samples_lost.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_candidates(&self, n: u64) {
        self.candidates.store(n, Ordering::Relaxed);
    }

    pub(crate) fn add_frame(&self) {
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_center_freq(&self, hz: f64) {
        self.center_freq_bits.store(hz.to_bits(), Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> CountersSnapshot {
        let bits = self.center_freq_bits.load(Ordering::Relaxed);
        CountersSnapshot {
            samples_in: self.samples_in.load(Ordering::Relaxed),
            samples_lost: self.samples_lost.load(Ordering::Relaxed),
            candidates: self.candidates.load(Ordering::Relaxed),
            frames: self.frames.load(Ordering::Relaxed),
            center_freq_hz: (bits != u64::MAX).then(|| f64::from_bits(bits)),
        }
    }
}
