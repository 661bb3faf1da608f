//! [`FileSource`]: any `droneid-io` input (raw IQ, SigMF, stdin) as a [`BlockSource`].

use droneid_core::Complex32;
use droneid_io::SampleSource;

use crate::source::{BlockSource, SourceDescription, SourceError, SourceRead};

/// A recording read through `droneid_io::SampleSource`: never live, never loses samples.
pub struct FileSource {
    inner: SampleSource,
}

impl FileSource {
    /// Wraps an opened input.
    pub fn new(inner: SampleSource) -> Self {
        Self { inner }
    }
}

impl BlockSource for FileSource {
    fn description(&self) -> SourceDescription {
        let info = self.inner.info();
        SourceDescription {
            label: info.path.clone(),
            sample_rate_hz: info.sample_rate_hz,
            center_freq_hz: info.center_freq_hz,
            total_samples: info.total_samples,
            live: false,
        }
    }

    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        let n = self.inner.read_block(buf).map_err(|e| {
            SourceError::Io(format!(
                "reading '{}' failed after {} samples: {e}",
                self.inner.info().path,
                self.inner.samples_read()
            ))
        })?;
        Ok(SourceRead {
            samples: n,
            ..SourceRead::default()
        })
    }

    fn counters(&self) -> Vec<(String, u64)> {
        vec![
            (
                "NaN/Inf samples treated as erasures".into(),
                self.inner.nonfinite_samples(),
            ),
            (
                "trailing bytes ignored".into(),
                self.inner.info().trailing_bytes,
            ),
        ]
    }
}
