//! Scan mode: which centre frequencies to visit, and the feedback that locks the scan onto a
//! channel while DroneID frames keep arriving.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::LiveError;

/// DroneID channel centres seen at 2.4 GHz (Hz): the 2399.5 + 15·n MHz raster (protocol notes
/// §6.1; 2474.5 MHz from Bender 2022 and the RUB scan list).
pub const CHANNELS_2G4_HZ: [f64; 6] = [2399.5e6, 2414.5e6, 2429.5e6, 2444.5e6, 2459.5e6, 2474.5e6];

/// DroneID channel centres seen at 5.8 GHz (Hz): the union of the 15 MHz raster (Bender 2022)
/// and the 20 MHz raster (P17, King-Of-Knights) of the protocol notes §6.1.
pub const CHANNELS_5G8_HZ: [f64; 9] = [
    5741.5e6, 5756.5e6, 5771.5e6, 5776.5e6, 5786.5e6, 5796.5e6, 5801.5e6, 5816.5e6, 5831.5e6,
];

/// Default dwell per centre frequency, seconds: more than twice the ~600 ms burst interval, so a
/// drone on a visited channel shows at least once per dwell.
pub const DEFAULT_DWELL_S: f64 = 1.3;

/// Default retune settling time, seconds: samples received this long after a retune are
/// discarded (reported as lost).
pub const DEFAULT_SETTLE_S: f64 = 0.005;

/// Half of the 9.015 MHz burst bandwidth, Hz.
const HALF_BURST_HZ: f64 = 4.5075e6;

/// Fraction of the sample rate treated as usable band (anti-alias filter roll-off at the edges).
const USABLE_FRACTION: f64 = 0.8;

/// Scan settings for [`SoapySource`](crate::SoapySource).
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Centre frequencies to visit in turn, Hz.
    pub centers_hz: Vec<f64>,
    /// Time on each centre when nothing is decoded, seconds.
    pub dwell_s: f64,
    /// Locked: the scan stays while the last frame decoded on this centre is younger than this,
    /// seconds (default: the dwell).
    pub hold_s: f64,
    /// Samples after each retune that are discarded, seconds.
    pub settle_s: f64,
    /// Frames reported by the pipeline.
    pub feedback: Arc<ScanFeedback>,
}

impl ScanConfig {
    /// Default dwell, hold and settling for `centers_hz`.
    pub fn new(centers_hz: Vec<f64>, feedback: Arc<ScanFeedback>) -> Self {
        Self {
            centers_hz,
            dwell_s: DEFAULT_DWELL_S,
            hold_s: DEFAULT_DWELL_S,
            settle_s: DEFAULT_SETTLE_S,
            feedback,
        }
    }
}

/// What the pipeline tells the scanning source: shared between the frame callback (writer) and
/// [`SoapySource`](crate::SoapySource) (reader) through an `Arc`.
///
/// The caller bumps it from its frame callback with the frame's `start_sample` (the stream's own
/// sample index, which [`SoapySource`](crate::SoapySource) keeps true across overflows and
/// retunes). The source credits a frame to the centre frequency whose samples it came from, so a
/// frame that the pipeline reports late, after a hop, does not lock the wrong channel.
///
/// Candidates (from a burst tap on the detector thread) are counted per tuned centre frequency,
/// for the summary of a scan: which centres see bursts at all.
#[derive(Debug)]
pub struct ScanFeedback {
    frames: AtomicU64,
    last_frame_sample: AtomicI64,
    /// (tuned centre frequency, Hz; candidates received at it), in order of first candidate.
    /// Locked once per candidate (a few per second; not per sample).
    candidates: Mutex<Vec<(f64, u64)>>,
}

impl Default for ScanFeedback {
    fn default() -> Self {
        Self {
            frames: AtomicU64::new(0),
            last_frame_sample: AtomicI64::new(-1),
            candidates: Mutex::new(Vec::new()),
        }
    }
}

impl ScanFeedback {
    /// A fresh handle.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A frame (CRC24 passed) starting at stream sample `start_sample` was decoded.
    pub fn note_frame(&self, start_sample: i64) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.last_frame_sample
            .fetch_max(start_sample, Ordering::Release);
    }

    /// The detector found a candidate in samples received at `center_freq_hz` (the tuned
    /// frequency that the source reported for them). Counted only: candidates alone do not lock
    /// the scan, since Wi-Fi and video links trigger the energy detector too.
    pub fn note_candidate(&self, center_freq_hz: f64) {
        let mut v = self.candidates.lock().unwrap_or_else(|e| e.into_inner());
        match v.iter_mut().find(|(f, _)| *f == center_freq_hz) {
            Some((_, n)) => *n += 1,
            None => v.push((center_freq_hz, 1)),
        }
    }

    /// Frames reported so far.
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    /// Candidates reported so far per entry of `centers_hz`: each candidate is credited to the
    /// nearest centre (the device may tune a few Hz off the frequency asked for).
    pub fn candidates_per_center(&self, centers_hz: &[f64]) -> Vec<u64> {
        let mut out = vec![0; centers_hz.len()];
        let v = self.candidates.lock().unwrap_or_else(|e| e.into_inner());
        for &(f, n) in v.iter() {
            let nearest = centers_hz
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - f).abs().total_cmp(&(b.1 - f).abs()));
            if let Some((i, _)) = nearest {
                out[i] += n;
            }
        }
        out
    }

    /// Start sample of the latest frame, if any.
    pub fn last_frame_sample(&self) -> Option<i64> {
        let v = self.last_frame_sample.load(Ordering::Acquire);
        (v >= 0).then_some(v)
    }
}

/// Centre frequencies that put every channel of `channels_hz` inside the usable band of one of
/// them at `sample_rate_hz`: channels are grouped greedily in ascending order while the group's
/// bursts (±4.5075 MHz) fit in 80 % of the sample rate; each group's centre is the middle of its
/// outermost channels. At 15.36–20 MS/s that is one centre per channel; at 61.44 MS/s three
/// 2.4 GHz channels share a centre.
pub fn scan_centers(channels_hz: &[f64], sample_rate_hz: f64) -> Vec<f64> {
    let mut ch: Vec<f64> = channels_hz.to_vec();
    ch.sort_by(f64::total_cmp);
    ch.dedup();
    let span = (USABLE_FRACTION * sample_rate_hz - 2.0 * HALF_BURST_HZ).max(0.0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ch.len() {
        let first = ch[i];
        let mut j = i;
        while j + 1 < ch.len() && ch[j + 1] - first <= span {
            j += 1;
        }
        out.push(0.5 * (first + ch[j]));
        i = j + 1;
    }
    out
}

/// `--scan` values: `2.4`, `5.8`, `both` (the DroneID channel tables, grouped by
/// [`scan_centers`] for the sample rate) or an explicit comma-separated list of centre
/// frequencies (`2414.5e6,2429.5M`), visited as given.
pub fn parse_scan(text: &str, sample_rate_hz: f64) -> Result<Vec<f64>, LiveError> {
    let t = text.trim();
    let band = |chs: &[f64]| scan_centers(chs, sample_rate_hz);
    let v = match t {
        "2.4" | "2.4G" | "2G4" => band(&CHANNELS_2G4_HZ),
        "5.8" | "5.8G" | "5G8" => band(&CHANNELS_5G8_HZ),
        "both" => {
            let mut v = band(&CHANNELS_2G4_HZ);
            v.extend(band(&CHANNELS_5G8_HZ));
            v
        }
        _ => t
            .split(',')
            .map(|s| {
                droneid_core::parse_hz(s.trim()).map_err(|e| {
                    LiveError::Config(format!(
                        "--scan: '{s}' is not a frequency ({e}); give 2.4, 5.8, both or a list like 2414.5e6,2429.5e6"
                    ))
                })
            })
            .collect::<Result<Vec<f64>, _>>()?,
    };
    if v.is_empty() {
        return Err(LiveError::Config("--scan: no frequencies".into()));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every channel must lie, with its whole 9.015 MHz, inside 80 % of some centre's band.
    fn covered(channels: &[f64], centers: &[f64], fs: f64) -> bool {
        channels.iter().all(|&c| {
            centers
                .iter()
                .any(|&f| (c - f).abs() + HALF_BURST_HZ <= 0.5 * USABLE_FRACTION * fs + 1.0)
        })
    }

    #[test]
    fn narrow_rates_visit_every_channel() {
        let c = scan_centers(&CHANNELS_2G4_HZ, 15.36e6);
        assert_eq!(c, CHANNELS_2G4_HZ.to_vec());
    }

    #[test]
    fn wide_rates_cover_every_channel_with_fewer_centres() {
        for fs in [30.72e6, 40e6, 56e6, 61.44e6, 122.88e6] {
            for band in [&CHANNELS_2G4_HZ[..], &CHANNELS_5G8_HZ[..]] {
                let c = scan_centers(band, fs);
                assert!(covered(band, &c, fs), "fs {fs}: {c:?}");
                assert!(c.len() <= band.len());
            }
        }
        assert_eq!(
            scan_centers(&CHANNELS_2G4_HZ, 61.44e6),
            vec![2414.5e6, 2459.5e6]
        );
    }

    #[test]
    fn parse_lists_and_bands() {
        assert_eq!(
            parse_scan("2414.5e6, 2429.5M", 15.36e6).unwrap(),
            vec![2414.5e6, 2429.5e6]
        );
        assert_eq!(parse_scan("2.4", 15.36e6).unwrap().len(), 6);
        assert_eq!(parse_scan("both", 15.36e6).unwrap().len(), 15);
        assert!(parse_scan("2.4x", 15.36e6).is_err());
    }

    #[test]
    fn feedback_keeps_latest_frame() {
        let f = ScanFeedback::new();
        assert_eq!(f.last_frame_sample(), None);
        f.note_frame(100);
        f.note_frame(50);
        assert_eq!(f.last_frame_sample(), Some(100));
        assert_eq!(f.frames(), 2);
    }

    #[test]
    fn feedback_counts_candidates_per_centre() {
        let f = ScanFeedback::new();
        let centers = [2414.5e6, 2429.5e6, 2444.5e6];
        assert_eq!(f.candidates_per_center(&centers), vec![0, 0, 0]);
        f.note_candidate(2429.5e6);
        f.note_candidate(2429.5e6 + 3.0); // tuned a few Hz off
        f.note_candidate(2414.5e6);
        assert_eq!(f.candidates_per_center(&centers), vec![1, 2, 0]);
        assert_eq!(f.candidates_per_center(&[]), Vec::<u64>::new());
    }
}
