//! Stage 3, [`BurstDecoder`]: one candidate's samples → a frame (mix, resample, ZC sync, OFDM
//! demodulation, turbo decoding; all in `droneid_receiver::BurstReceiver`). The threaded engine
//! runs several on a rayon pool, [`StreamDecoder`](crate::StreamDecoder) one in line.

use droneid_core::Complex32;
use droneid_receiver::{BurstOutcome, BurstReceiver, BurstReceiverConfig};

use crate::detection::BurstJob;
use crate::lookback::Lookback;
use crate::EngineError;

/// What one [`BurstJob`] turned into.
#[derive(Debug)]
pub struct DecodedBurst {
    /// The job's [`BurstJob::seq`].
    pub seq: u64,
    /// Frame (CRC24 passed or not) or why there is none.
    pub outcome: BurstOutcome,
    /// Centre frequency the samples were received at, Hz, when known.
    pub center_freq_hz: Option<f64>,
    /// Equalised data symbols `Y/Ĥ` of each frame of `outcome`, in its order (see
    /// `BurstReceiver::constellation_of`), when the decoder keeps them
    /// ([`BurstDecoder::keep_constellations`]); empty otherwise.
    pub constellations: Vec<Vec<Complex32>>,
    /// The job's [`BurstJob::burst_end_delivered`].
    pub burst_end_delivered: Option<std::time::Instant>,
}

/// A burst receiver with its segment buffer.
pub struct BurstDecoder {
    burst: BurstReceiver,
    segment: Vec<Complex32>,
    keep_constellations: bool,
}

impl BurstDecoder {
    /// Builds the receiver's resampler, FFT plans, demodulator and turbo decoder.
    pub fn new(cfg: &BurstReceiverConfig) -> Result<Self, EngineError> {
        let burst = BurstReceiver::new(cfg).map_err(EngineError)?;
        let span = burst.input_span().1;
        Ok(Self {
            burst,
            segment: vec![Complex32::new(0.0, 0.0); span],
            keep_constellations: false,
        })
    }

    /// Samples before a candidate's start and segment length, input samples.
    pub fn input_span(&self) -> (i64, usize) {
        self.burst.input_span()
    }

    /// Also return each frame's constellation, the equalised data symbols `Y/Ĥ` (allocates
    /// one vector per frame; for plots).
    pub fn keep_constellations(&mut self, on: bool) {
        self.keep_constellations = on;
        self.burst.keep_constellations(on);
    }

    /// Copies `job`'s segment out of the look-back; returns it (for a [`BurstTap`](crate::BurstTap)).
    pub(crate) fn load(&mut self, job: &BurstJob, lookback: &Lookback) -> &[Complex32] {
        lookback.extract(job.segment_start, &mut self.segment);
        &self.segment
    }

    /// Decodes the segment loaded for `job`.
    pub(crate) fn decode(&mut self, job: &BurstJob) -> DecodedBurst {
        let outcome = self
            .burst
            .receive(&self.segment, job.segment_start, &job.candidate);
        let constellations = match &outcome {
            BurstOutcome::Frames(frames) if self.keep_constellations => frames
                .iter()
                .map(|f| self.burst.constellation_of(f.start_sample).to_vec())
                .collect(),
            _ => Vec::new(),
        };
        DecodedBurst {
            seq: job.seq,
            outcome,
            center_freq_hz: job.center_freq_hz,
            constellations,
            burst_end_delivered: job.burst_end_delivered,
        }
    }
}
