//! [`MemorySource`]: a capture held in memory, served like a file (benches, tests, `bench`).

use std::sync::Arc;

use droneid_core::Complex32;

use crate::source::{BlockSource, SourceDescription, SourceError, SourceRead};

/// Serves `samples` from the start, copying them into the pipeline's blocks; never live.
#[derive(Debug, Clone)]
pub struct MemorySource {
    samples: Arc<Vec<Complex32>>,
    pos: usize,
    sample_rate_hz: f64,
}

impl MemorySource {
    /// A source over shared samples at `sample_rate_hz` (cheap to clone for repeated runs).
    pub fn new(samples: Arc<Vec<Complex32>>, sample_rate_hz: f64) -> Self {
        Self {
            samples,
            pos: 0,
            sample_rate_hz,
        }
    }
}

impl BlockSource for MemorySource {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            label: "capture in memory".into(),
            sample_rate_hz: self.sample_rate_hz,
            center_freq_hz: None,
            total_samples: Some(self.samples.len() as u64),
            live: false,
        }
    }

    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        let n = buf.len().min(self.samples.len() - self.pos);
        buf[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        Ok(SourceRead {
            samples: n,
            ..SourceRead::default()
        })
    }
}
