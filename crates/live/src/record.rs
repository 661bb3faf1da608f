//! `--record-bursts DIR`: one SigMF recording per detected burst.

use std::path::{Path, PathBuf};

use droneid_core::Complex32;
use droneid_io::{SampleFormat, SigmfWriter};
use serde_json::json;

use crate::LiveError;

/// What the annotation of a burst recording says.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstAnnotation {
    /// First sample of the burst inside the recorded samples (the margin before it).
    pub offset: u64,
    /// Burst length in samples.
    pub count: u64,
    /// `core:label`, e.g. `DroneID 0x10 SERIAL crc24 ok`.
    pub label: String,
    /// Burst centre relative to the recording's centre frequency, Hz.
    pub freq_offset_hz: f64,
    /// Occupied bandwidth, Hz (9.015 MHz for DroneID).
    pub bandwidth_hz: f64,
}

/// `burst-S<start_sample>-<centre MHz>` (or `-unknown`), a stable and sortable file stem.
pub fn burst_file_stem(start_sample: u64, center_freq_hz: Option<f64>) -> String {
    match center_freq_hz {
        Some(f) => format!("burst-S{start_sample:015}-{:.3}MHz", f / 1e6),
        None => format!("burst-S{start_sample:015}-unknown"),
    }
}

/// Writes `samples` (a burst with margins) as `DIR/<burst_file_stem>.sigmf-{data,meta}` in cf32:
/// the capture's `core:frequency` is `center_freq_hz`, `droneid:stream_sample` the stream index
/// of `samples[0]` (so the recording can be placed back in the live stream), and one annotation
/// marks the burst with its absolute frequency edges when the centre is known. Returns the
/// `.sigmf-meta` path. The files appear complete or not at all (see [`SigmfWriter`]).
pub fn write_burst_sigmf(
    dir: &Path,
    samples: &[Complex32],
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
    start_sample: u64,
    annotation: &BurstAnnotation,
) -> Result<PathBuf, LiveError> {
    let base = dir.join(burst_file_stem(start_sample, center_freq_hz));
    let werr = |e: droneid_io::IoError| LiveError::Write {
        path: base.clone(),
        message: e.to_string(),
    };
    let mut w = SigmfWriter::create(
        &base,
        SampleFormat::Cf32,
        sample_rate_hz,
        center_freq_hz,
        &format!("DroneID burst from droneid live at stream sample {start_sample}"),
    )
    .map_err(werr)?;
    w.write(samples).map_err(werr)?;
    w.set_global("droneid:stream_sample", json!(start_sample));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        w.set_global("droneid:unix_time_s", json!(t.as_secs_f64()));
    }
    let edges = center_freq_hz.map(|f| {
        let c = f + annotation.freq_offset_hz;
        (
            c - 0.5 * annotation.bandwidth_hz,
            c + 0.5 * annotation.bandwidth_hz,
        )
    });
    w.annotate(
        annotation.offset,
        annotation.count,
        &annotation.label,
        edges.map(|e| e.0),
        edges.map(|e| e.1),
    );
    let meta = w.meta_path().to_path_buf();
    w.finish().map_err(werr)?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_readable_recording() {
        let dir = std::env::temp_dir().join(format!("droneid-live-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let samples: Vec<Complex32> = (0..1000).map(|i| Complex32::new(i as f32, 0.0)).collect();
        let ann = BurstAnnotation {
            offset: 100,
            count: 800,
            label: "DroneID test".into(),
            freq_offset_hz: 1e6,
            bandwidth_hz: 9.015e6,
        };
        let meta = write_burst_sigmf(&dir, &samples, 15.36e6, Some(2429.5e6), 4242, &ann).unwrap();
        assert!(meta.ends_with("burst-S000000000004242-2429.500MHz.sigmf-meta"));
        let m = droneid_io::read_sigmf_meta(&meta).unwrap();
        assert_eq!(m.sample_rate_hz, Some(15.36e6));
        let text = std::fs::read_to_string(&meta).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["captures"][0]["core:frequency"], json!(2429.5e6));
        assert_eq!(v["annotations"][0]["core:sample_start"], json!(100));
        assert_eq!(
            v["annotations"][0]["core:freq_lower_edge"],
            json!(2430.5e6 - 4.5075e6)
        );
        assert_eq!(v["global"]["droneid:stream_sample"], json!(4242));
        let data = std::fs::metadata(meta.with_extension("sigmf-data")).unwrap();
        assert_eq!(data.len(), 8000);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
