//! Frames placed in their capture segment: a SigMF recording from a scanning receiver has one
//! `captures` entry per retune, each with its own centre frequency and UTC time.

use droneid_io::{burst_len_samples, segment_holding, CaptureSegment, SampleSource};
use droneid_receiver::Frame;

/// Gives each frame the centre frequency and UTC time of the segment it was received in, and
/// refuses bursts that straddle a retune (their two halves were received at different
/// frequencies: not a burst that can be decoded across the boundary).
#[derive(Debug, Clone)]
pub struct Placement {
    segments: Vec<CaptureSegment>,
    sample_rate_hz: f64,
    /// Bursts refused because they straddle a segment boundary.
    pub straddling: u64,
}

impl Placement {
    /// The segments of an opened input.
    pub fn new(source: &SampleSource) -> Self {
        Self {
            segments: source.segments().to_vec(),
            sample_rate_hz: source.info().sample_rate_hz,
            straddling: 0,
        }
    }

    /// `None` when the burst straddles a retune (counted); otherwise sets the frame's capture
    /// centre from its segment (when the segment has one) and returns the UTC time of its
    /// first sample, when the segment's `core:datetime` is known.
    pub fn place(&mut self, frame: &mut Frame) -> Option<Option<String>> {
        let len = burst_len_samples(frame.symbols, self.sample_rate_hz);
        let Some(i) = segment_holding(&self.segments, frame.start_sample, len) else {
            self.straddling += 1;
            return None;
        };
        let seg = &self.segments[i];
        if let Some(f) = seg.frequency_hz {
            frame.capture_center_freq_hz = Some(f);
        }
        Some(seg.utc_at(frame.start_sample, self.sample_rate_hz))
    }
}
