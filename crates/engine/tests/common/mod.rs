//! Sources for the engine tests.
#![allow(dead_code)]

use droneid_core::Complex32;
use droneid_engine::{BlockSource, SourceDescription, SourceError, SourceRead};

/// Serves an in-memory capture in reads of `chunk` samples; optionally live, optionally failing
/// after `fail_after` samples.
pub struct VecSource {
    pub samples: std::sync::Arc<Vec<Complex32>>,
    pub pos: usize,
    pub rate_hz: f64,
    pub chunk: usize,
    pub live: bool,
    pub fail_after: Option<usize>,
    pub served: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl VecSource {
    pub fn new(samples: Vec<Complex32>, rate_hz: f64) -> Self {
        Self {
            samples: std::sync::Arc::new(samples),
            pos: 0,
            rate_hz,
            chunk: usize::MAX,
            live: false,
            fail_after: None,
            served: Default::default(),
        }
    }
}

impl BlockSource for VecSource {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            label: "memory".into(),
            sample_rate_hz: self.rate_hz,
            center_freq_hz: None,
            total_samples: Some(self.samples.len() as u64),
            live: self.live,
        }
    }

    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if let Some(limit) = self.fail_after {
            if self.pos >= limit {
                return Err(SourceError::Io("test source: device unplugged".into()));
            }
        }
        let n = buf.len().min(self.chunk).min(self.samples.len() - self.pos);
        buf[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        self.served
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(SourceRead {
            samples: n,
            ..SourceRead::default()
        })
    }
}
