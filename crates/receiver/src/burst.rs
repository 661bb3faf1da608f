//! Per-candidate burst receiver: from the input samples around a [`Candidate`] to the decoded
//! [`Frame`]s of every burst near it (spec §8).
//!
//! Steps of [`BurstReceiver::receive`]:
//! 1. **DC blocker**: a receiver DC offset (HackRF/RTL LO leakage) that clearly stands above
//!    the chance mean of the segment is subtracted at the input rate, before mixing moves it
//!    onto a data carrier. A clean capture has no significant mean and is left untouched.
//! 2. Mix the candidate's estimated centre to DC and resample to 15.36 MS/s
//!    ([`ChannelResampler`]); a capture narrower than 15.36 MS/s (down to
//!    [`MIN_SAMPLE_RATE_HZ`]) is interpolated whole first and mixed at the base rate, and the
//!    carriers outside its band become erasures in the demodulator.
//! 3. Refine the centre frequency to one subcarrier from the averaged spectrum (the
//!    601-carrier block has sharp edges; wideband captures only).
//! 4. **Timing by structure**: correlate the whole segment (the candidate's estimate ± about
//!    0.75 ms) with the root-600 ZC symbol ([`FftCorrelator`]) and take every correlation
//!    peak that stands out, at least one burst apart: back-to-back bursts whose energy boxes
//!    ran together, and a burst whose start the energy box got wrong, each get their own
//!    timing from their pilots.
//! 5. For each peak, the OFDM [`BurstDemodulator`] (integer + fractional CFO, timing, channel
//!    estimate, per-carrier reliability, soft demap) and the turbo decoder ([`BlockDecoder`]);
//!    CRC24/CRC16 checked and parsed.
//! 6. **Inverted spectrum**: when nothing CRC-valid came out, the segment is conjugated (I and
//!    Q swapped) and steps 3–5 are tried again; frames found that way say so
//!    ([`Frame::iq_swapped`]) and report their frequency as the un-swapped recording would.
//!
//! Candidates that find the same burst are merged downstream (the de-duplicator).
//! All buffers are allocated in [`BurstReceiver::new`]; [`BurstReceiver::receive`] allocates
//! only the frames it returns.

use std::sync::Arc;

use droneid_core::{
    Complex32, BASE_SAMPLE_RATE_HZ, FFT_LEN, MIN_SAMPLE_RATE_HZ, SUBCARRIER_SPACING_HZ,
    TRANSPORT_BLOCK_BYTES,
};
use droneid_dsp::{
    remove_significant_dc, ChannelResampler, FftCorrelator, ResamplerConfig, Rotator,
    SpectralExcisor,
};
use droneid_fec::{BlockDecoder, DecodeOutcome, DecoderConfig};
use droneid_ofdm::{zc_carriers, BaseRateModulator, BurstDemodulator, DemodConfig, DemodResult};
use rustfft::{Fft, FftPlanner};

use crate::frame::Frame;
use crate::Candidate;

/// Base-rate samples kept before the candidate's estimated start and after its nominal end:
/// a burst whose start is up to ≈ 0.75 ms from the estimate (the energy boxes of back-to-back
/// bursts run together) still lies wholly inside the segment.
pub const SEGMENT_MARGIN_BASE: usize = 11_600;
/// Base-rate length of the segment searched for bursts (9880-sample burst + margins).
pub const SEGMENT_LEN_BASE: usize = 9880 + 2 * SEGMENT_MARGIN_BASE;
/// FFT length of the overlap-save ZC correlator (template 1024 samples).
const CORR_FFT_LEN: usize = 4096;
/// Largest centre-frequency correction taken from the spectrum, in subcarriers.
const BAND_SEARCH_BINS: i32 = 48;
/// When the centre search ends at ±[`BAND_SEARCH_BINS`] and nothing decoded, the segment is
/// mixed and resampled again from the corrected centre, at most this many times (a candidate
/// up to about 2.9 MHz off: a strong Bluetooth hop beside a weak burst pulls the detector's
/// box by its own width and more).
const MAX_RECENTRE_PASSES: usize = 3;
/// Most bursts decoded from one candidate's segment.
pub const MAX_BURSTS_PER_CANDIDATE: usize = 4;
/// ZC correlation peaks closer than this (base-rate samples) belong to one burst: shorter than
/// the shortest burst (8776 samples), longer than any one burst's own correlation structure.
const MIN_PEAK_SEPARATION: usize = 8000;
/// A secondary ZC correlation peak must exceed this multiple of the mean |correlation|² over
/// the search window (noise alone: e^−16 ≈ 1e−7 per sample). The strongest peak is always
/// tried; the demodulator's ZC-pair test rejects what is not a burst.
const PEAK_THRESHOLD_REL_MEAN: f32 = 16.0;
/// DC blocker: the segment mean is removed when `|mean|²·L` exceeds this multiple of the mean
/// power (a zero-mean signal gives ≈ 1 by chance).
const DC_SIGNIFICANCE: f64 = 30.0;
/// Frame length of the narrowband-interference excisor (60 kHz bins at 15.36 MS/s).
const EXCISION_FFT_LEN: usize = 256;
/// A bin is excised when its power exceeds this multiple of the frame's median bin power in
/// the burst band (burst plus noise is flat there: chance ≈ e^−8 ≈ 3e−4 per bin).
const EXCISION_THRESHOLD: f32 = 12.0;
/// … for at least this many consecutive frames (hops of 128 samples, 67 µs in all): a spur or a
/// Bluetooth hop persists, while the chirp-like ZC pilots of a strong burst sweep a bin in two
/// or three hops and are kept.
const EXCISION_MIN_RUN: usize = 8;
/// … or when most (5) of those frames exceed this multiple of their median: noise-like
/// interferers (a Wi-Fi edge, a GFSK hop) fluctuate below the per-frame threshold, but most of
/// their frames stand above this. Burst plus noise is exponential with mean 1/ln 2 ≈ 1.44
/// medians: a frame above 4 has chance 0.06; since adjacent frames overlap by half, 5 of 8
/// comes by chance in about 2e−4 of windows, so a window only counts beside one of a
/// neighbouring bin (`SpectralExcisor::with_majority_threshold`). Without that, 20–130 cells
/// of every segment were cut at −3.5 dB, and 16 of 400 bursts lost there.
const EXCISION_MAJORITY_THRESHOLD: f32 = 4.0;
/// Half-width of the band excised around the candidate's centre, Hz: the burst's 4.5 MHz plus
/// the band-centre search range and its edge bins, so that an interferer beyond an edge cannot
/// pull the centre.
const EXCISION_HALF_BAND_HZ: f64 =
    (300 + BAND_SEARCH_BINS as usize + EDGE_BINS + 2) as f64 * SUBCARRIER_SPACING_HZ;
/// Band-centre spectrum: a cell under this multiple of its frame's median power was zeroed by
/// the excisor (noise alone falls that low with chance 1 − e^(−0.02·ln 2) ≈ 1.4 %).
const HOLE_REL_MEDIAN: f32 = 0.02;
/// Band-centre spectrum: a frame's level is its median power over ±this many bins (inside the
/// burst's 601 carriers whatever the shift searched).
const LEVEL_HALF_BINS: i32 = 300 - BAND_SEARCH_BINS;
/// Band-centre spectrum: a cell at or next to one the excisor cut is left out when under this
/// multiple of its frame's level (what the cut left of it: leakage, a few per cent). One cut
/// for only part of the frame's time keeps most of its power and stays.
const RESIDUE_REL_LEVEL: f32 = 0.25;
/// With holes in the band-centre spectrum, the block is taken to lie beyond the search range
/// when its mean over observed bins is highest at an end of the range and exceeds this
/// multiple of the mean at the candidate's centre.
const FAR_BLOCK_REL_MEAN: f32 = 1.01;
/// Band-centre score: bins on each side of each block edge compared (360 kHz at 15 kHz).
const EDGE_BINS: usize = 24;
/// Fraction of the Nyquist band taken as captured: carriers beyond ±0.46·Fs from the capture
/// centre are erasures (radios' anti-alias filters roll off there).
const CAPTURED_BAND_FRACTION: f64 = 0.92;

/// Why a candidate produced no frame at all (a counted outcome, not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstFailure {
    /// No ZC pilot pair was found: not a DroneID burst, or too weak.
    NoSync,
}

/// What one candidate turned into.
#[derive(Debug)]
pub enum BurstOutcome {
    /// Demodulated and turbo-decoded bursts, in time order (one or more; back-to-back bursts
    /// share a candidate); each `frame.crc24_ok` says whether its CRC24 passed.
    Frames(Vec<Frame>),
    /// No frame.
    Failed(BurstFailure),
}

/// Settings of the burst receiver.
#[derive(Debug, Clone)]
pub struct BurstReceiverConfig {
    /// Input sample rate, Hz (≥ [`MIN_SAMPLE_RATE_HZ`]).
    pub sample_rate_hz: f64,
    /// Capture centre frequency, Hz, if known.
    pub center_freq_hz: Option<f64>,
    /// Turbo iterations at most.
    pub max_iterations: u32,
    /// Demodulator settings.
    pub demod: DemodConfig,
}

/// Receives one candidate at a time. Owns every buffer it needs.
pub struct BurstReceiver {
    cfg: BurstReceiverConfig,
    ratio: f64,
    /// The capture is narrower than 15.36 MS/s: interpolate first, mix at the base rate.
    narrow: bool,
    resampler: ChannelResampler,
    mixer: Rotator,
    base_mixer: Rotator,
    mixed: Vec<Complex32>,
    base: Vec<Complex32>,
    /// The segment before band-centring, kept for the inverted-spectrum retry.
    base_copy: Vec<Complex32>,
    fft_1024: Arc<dyn Fft<f32>>,
    scratch: Vec<Complex32>,
    spec_buf: Vec<Complex32>,
    /// Mean power per bin over the segment's frames (cells the excisor zeroed left out).
    spectrum: Vec<f32>,
    /// Cells summed into each bin of `spectrum`.
    spectrum_cells: Vec<u32>,
    /// Power spectra of the segment's frames (frames × `FFT_LEN`), for [`Self::band_centre`].
    spec_rows: Vec<f32>,
    /// Per frame of `spec_rows`: the hole level and the median over the burst's band.
    frame_hole: Vec<f32>,
    frame_level: Vec<f32>,
    /// Per 1024-sample frame of the segment and 60 kHz excisor bin: a cut cell overlaps it.
    cut_mask: Vec<bool>,
    /// Scratch for one frame's medians.
    spec_sorted: Vec<f32>,
    correlator: FftCorrelator,
    excisor: SpectralExcisor,
    excise_bins: Vec<usize>,
    corr: Vec<Complex32>,
    corr_pow: Vec<f32>,
    zeros: Vec<Complex32>,
    peaks: Vec<usize>,
    demod: BurstDemodulator,
    demod_out: Box<DemodResult>,
    decoder: BlockDecoder,
    /// Keep each frame's equalised points ([`Self::keep_constellations`]).
    keep_points: bool,
    /// Equalised points of each frame of the last `receive`, by the frame's start sample.
    points: Vec<(i64, Vec<Complex32>)>,
    /// Per-candidate trace on stderr when `DRONEID_DEBUG` is set.
    debug: bool,
}

impl BurstReceiver {
    /// Input samples needed for a candidate: (samples before its estimated start, segment
    /// length), covering the base-rate segment plus the resampler's filter span.
    pub fn input_span(&self) -> (i64, usize) {
        let before =
            (SEGMENT_MARGIN_BASE as f64 * self.ratio + self.resampler.delay_input_samples() + 2.0)
                .ceil() as i64;
        let len = (SEGMENT_LEN_BASE as f64 * self.ratio
            + 2.0 * self.resampler.delay_input_samples()
            + 8.0)
            .ceil() as usize;
        (before, len)
    }

    /// Builds the resampler, correlator, demodulator and decoder for `cfg.sample_rate_hz`.
    /// Fails (with a one-line reason) for a rate below [`MIN_SAMPLE_RATE_HZ`] or not finite.
    pub fn new(cfg: &BurstReceiverConfig) -> Result<Self, String> {
        let fs = cfg.sample_rate_hz;
        if !(fs.is_finite() && fs >= MIN_SAMPLE_RATE_HZ * 0.999) {
            return Err(format!(
                "sample rate {fs} Hz is below {} MS/s, the lowest rate droneid decodes",
                MIN_SAMPLE_RATE_HZ / 1e6
            ));
        }
        let narrow = fs < BASE_SAMPLE_RATE_HZ * 0.999;
        let rs_cfg = if narrow {
            // Interpolate the whole captured band; its edges become erasures.
            ResamplerConfig {
                passband_hz: 0.42 * fs,
                stopband_hz: 0.5 * fs,
                ..ResamplerConfig::droneid(fs, 0.0)
            }
        } else {
            ResamplerConfig {
                passband_hz: 4.6e6,
                stopband_hz: 7.0e6_f64.min(BASE_SAMPLE_RATE_HZ / 2.0),
                ..ResamplerConfig::droneid(fs, 0.0)
            }
        };
        let resampler = ChannelResampler::new(&rs_cfg).map_err(|e| e.to_string())?;
        let ratio = fs / BASE_SAMPLE_RATE_HZ;
        let fft_1024 = FftPlanner::new().plan_fft_forward(FFT_LEN);
        let scratch = vec![Complex32::new(0.0, 0.0); fft_1024.get_inplace_scratch_len()];
        let mut template = vec![Complex32::new(0.0, 0.0); FFT_LEN];
        BaseRateModulator::new().symbol_time(&zc_carriers(600), &mut template);
        let correlator = FftCorrelator::new(&template, CORR_FFT_LEN);
        let mut demod_cfg = cfg.demod.clone();
        if narrow {
            // The spectrum cannot place a burst wider than the capture: the joint ZC-pair
            // search covers the detector's uncertainty instead (±3 MHz).
            demod_cfg.max_int_cfo_subcarriers = demod_cfg.max_int_cfo_subcarriers.max(200);
        }
        let scrambler = droneid_fec::scrambler::droneid_scrambler();
        let demod = BurstDemodulator::new(&demod_cfg, &scrambler[..1200]);
        let decoder = BlockDecoder::new(&DecoderConfig {
            max_iterations: cfg.max_iterations,
            ..DecoderConfig::default()
        })
        .map_err(|e| e.to_string())?;
        let mut me = Self {
            cfg: cfg.clone(),
            ratio,
            narrow,
            resampler,
            mixer: Rotator::new(0.0, fs),
            base_mixer: Rotator::new(0.0, BASE_SAMPLE_RATE_HZ),
            mixed: Vec::new(),
            base: Vec::new(),
            base_copy: vec![Complex32::new(0.0, 0.0); SEGMENT_LEN_BASE],
            fft_1024,
            scratch,
            spec_buf: vec![Complex32::new(0.0, 0.0); FFT_LEN],
            spectrum: vec![0.0; FFT_LEN],
            spectrum_cells: vec![0; FFT_LEN],
            spec_rows: vec![0.0; SEGMENT_LEN_BASE / FFT_LEN * FFT_LEN],
            frame_hole: vec![0.0; SEGMENT_LEN_BASE / FFT_LEN],
            cut_mask: vec![false; SEGMENT_LEN_BASE / FFT_LEN * EXCISION_FFT_LEN],
            frame_level: vec![0.0; SEGMENT_LEN_BASE / FFT_LEN],
            spec_sorted: Vec::with_capacity(FFT_LEN),
            corr: Vec::new(),
            corr_pow: vec![0.0; SEGMENT_LEN_BASE],
            zeros: vec![Complex32::new(0.0, 0.0); CORR_FFT_LEN],
            peaks: Vec::with_capacity(MAX_BURSTS_PER_CANDIDATE),
            correlator,
            excisor: SpectralExcisor::new(EXCISION_FFT_LEN, SEGMENT_LEN_BASE)
                .with_majority_threshold(EXCISION_MAJORITY_THRESHOLD),
            excise_bins: Vec::with_capacity(EXCISION_FFT_LEN),
            demod,
            demod_out: Box::default(),
            decoder,
            keep_points: false,
            points: Vec::new(),
            debug: std::env::var_os("DRONEID_DEBUG").is_some(),
        };
        let (_, span) = me.input_span();
        me.mixed = vec![Complex32::new(0.0, 0.0); span];
        me.base = vec![Complex32::new(0.0, 0.0); me.resampler.max_output_len(span) + 16];
        me.corr = Vec::with_capacity(SEGMENT_LEN_BASE + 2 * CORR_FFT_LEN);
        Ok(me)
    }

    /// Receives the candidate whose input samples are `input` (length `input_span().1`, starting at
    /// absolute index `input_start = candidate.start_sample − input_span().0`; missing samples
    /// zero): every burst found in the segment, or why there was none.
    pub fn receive(
        &mut self,
        input: &[Complex32],
        input_start: i64,
        cand: &Candidate,
    ) -> BurstOutcome {
        let Some(seg) = self.resample_segment(input, cand) else {
            return BurstOutcome::Failed(BurstFailure::NoSync);
        };
        let mut frames = Vec::new();
        self.points.clear();
        self.base_copy[..seg.len()].copy_from_slice(&self.base[seg.clone()]);
        let mut shift = self.decode_segment(seg.clone(), input_start, cand, false, &mut frames);
        // The centre search ended at its limit: the burst lies further off than the detector's
        // estimate (a strong narrowband interferer beside it pulled the box), beyond what one
        // segment's passband shows well. Mix and resample again from the corrected centre.
        let mut centre = *cand;
        for _ in 0..MAX_RECENTRE_PASSES {
            if frames.iter().any(|f| f.crc24_ok) || shift.abs() < BAND_SEARCH_BINS {
                break;
            }
            centre.freq_offset_hz += shift as f64 * SUBCARRIER_SPACING_HZ;
            let Some(seg2) = self.resample_segment(input, &centre) else {
                break;
            };
            let mut again = Vec::new();
            let kept = self.points.len();
            shift = self.decode_segment(seg2, input_start, &centre, false, &mut again);
            self.keep_if_valid(&mut frames, again, kept);
        }
        if !frames.iter().any(|f| f.crc24_ok) {
            // Nothing valid: try the inverted spectrum (I and Q swapped).
            for (b, c) in self.base[seg.clone()].iter_mut().zip(&self.base_copy) {
                *b = c.conj();
            }
            let mut swapped = Vec::new();
            let kept = self.points.len();
            self.decode_segment(seg, input_start, cand, true, &mut swapped);
            self.keep_if_valid(&mut frames, swapped, kept);
        }
        if frames.is_empty() {
            BurstOutcome::Failed(BurstFailure::NoSync)
        } else {
            frames.sort_by_key(|f| f.start_sample);
            BurstOutcome::Frames(frames)
        }
    }

    /// A retry's frames replace `frames` when one of them is CRC-valid (with the points the
    /// retry kept, those after index `kept`); otherwise the retry's points are dropped.
    fn keep_if_valid(&mut self, frames: &mut Vec<Frame>, tried: Vec<Frame>, kept: usize) {
        if tried.iter().any(|f| f.crc24_ok) {
            *frames = tried;
            self.points.drain(..kept);
        } else {
            self.points.truncate(kept);
        }
    }

    /// Steps 1–2: DC blocker, mixing and resampling of `input` into `self.base`; returns the
    /// range of `self.base` that is the segment (base index 0 of the range = the segment
    /// start, `SEGMENT_MARGIN_BASE` before the candidate's estimated start), or `None` when too
    /// little of it was produced.
    fn resample_segment(
        &mut self,
        input: &[Complex32],
        cand: &Candidate,
    ) -> Option<std::ops::Range<usize>> {
        let n_in = input.len().min(self.mixed.len());
        let mixed = &mut self.mixed[..n_in];
        mixed.copy_from_slice(&input[..n_in]);
        remove_significant_dc(mixed, DC_SIGNIFICANCE);
        if !self.narrow {
            self.mixer.set_frequency(-cand.freq_offset_hz);
            self.mixer.reset();
            self.mixer.mix_inplace(mixed);
        }
        self.resampler.reset();
        let produced = self.resampler.process(mixed, &mut self.base);
        // Base-rate index b sits at input time b·ratio − delay. Drop the filter warm-up so
        // that the returned range starts at the segment start.
        let delay = self.resampler.delay_input_samples();
        let (before, _) = self.input_span();
        let seg_first = ((before as f64 - SEGMENT_MARGIN_BASE as f64 * self.ratio + delay)
            / self.ratio)
            .round()
            .max(0.0) as usize;
        let seg_end = (seg_first + SEGMENT_LEN_BASE).min(produced);
        if seg_end <= seg_first + 4 * FFT_LEN {
            return None;
        }
        if self.narrow {
            self.base_mixer.set_frequency(-cand.freq_offset_hz);
            self.base_mixer.reset();
            self.base_mixer
                .mix_inplace(&mut self.base[seg_first..seg_end]);
        }
        Some(seg_first..seg_end)
    }

    /// Steps 3–5 on the base-rate segment `self.base[seg]` (conjugated when `swapped`):
    /// appends a frame for every burst demodulated; returns the centre shift applied
    /// (subcarriers, see [`Self::band_centre`]).
    fn decode_segment(
        &mut self,
        seg: std::ops::Range<usize>,
        input_start: i64,
        cand: &Candidate,
        swapped: bool,
        frames: &mut Vec<Frame>,
    ) -> i32 {
        let fs = self.cfg.sample_rate_hz;
        let half_band = 0.5 * CAPTURED_BAND_FRACTION * fs;
        // Narrowband interference (spurs, Bluetooth hops, Wi-Fi edges) cut out first, over the
        // burst band that the capture holds (segment 0 Hz is the candidate's centre, in the
        // recording's own spectrum, or mirrored when `swapped`).
        let c0 = if swapped {
            -cand.freq_offset_hz
        } else {
            cand.freq_offset_hz
        };
        self.excise_bins.clear();
        for k in 0..EXCISION_FFT_LEN {
            let kk = if k < EXCISION_FFT_LEN / 2 {
                k as f64
            } else {
                k as f64 - EXCISION_FFT_LEN as f64
            };
            let f = kk * BASE_SAMPLE_RATE_HZ / EXCISION_FFT_LEN as f64;
            if f.abs() <= EXCISION_HALF_BAND_HZ && f > -half_band - c0 && f < half_band - c0 {
                self.excise_bins.push(k);
            }
        }
        let excised = if self.excise_bins.len() >= 16 {
            self.excisor.process(
                &mut self.base[seg.clone()],
                &self.excise_bins,
                EXCISION_THRESHOLD,
                EXCISION_MIN_RUN,
            )
        } else {
            0
        };
        self.mark_cut_cells(excised);
        // 3. Centre refinement from the averaged spectrum (not for captures narrower than a
        //    burst: the block's edges are not there to see).
        let shift_bins = if self.narrow {
            0
        } else {
            self.band_centre(seg.clone())
        };
        if shift_bins != 0 {
            let mut rot = Rotator::new(
                -(shift_bins as f64) * SUBCARRIER_SPACING_HZ,
                BASE_SAMPLE_RATE_HZ,
            );
            rot.mix_inplace(&mut self.base[seg.clone()]);
        }
        // Segment 0 Hz relative to the capture centre, in the recording's own (possibly
        // inverted) spectrum, then as the un-inverted spectrum has it.
        let seen_hz = cand.freq_offset_hz
            + if swapped { -1.0 } else { 1.0 } * shift_bins as f64 * SUBCARRIER_SPACING_HZ;
        let centre_hz = if swapped { -seen_hz } else { seen_hz };
        // Carriers outside the captured band are erasures (same formula either way: see docs).
        self.demod
            .set_valid_band(-half_band - centre_hz, half_band - centre_hz);

        // 4. Every root-600 ZC correlation peak that stands out.
        self.zc_peaks(seg.clone());
        let (seg_first, ratio) = (seg.start as f64, self.ratio);
        let delay = self.resampler.delay_input_samples();
        // Input time of segment index b (the resampler's time convention).
        let seg_input_time = move |b: f64| input_start as f64 + (b + seg_first) * ratio - delay;
        for p in 0..self.peaks.len() {
            let hint = self.peaks[p];
            // 5. Demodulate and decode.
            let r =
                self.demod
                    .demodulate(&self.base[seg.clone()], hint as f64, &mut self.demod_out);
            if self.debug {
                eprintln!(
                    "droneid debug: {cand:?} swapped {swapped} excised {excised} band shift {shift_bins} subcarriers, ZC-600 peak {hint} ({} of {}), demod {:?} zc {:.3} erased carriers {} down-weighted cells {}",
                    p + 1,
                    self.peaks.len(),
                    r.as_ref().err(),
                    self.demod_out.zc_metric,
                    self.demod_out.erased_carriers,
                    self.demod_out.downweighted_cells,
                );
            }
            if r.is_err() {
                continue;
            }
            let d = &self.demod_out;
            let mut block = [0u8; TRANSPORT_BLOCK_BYTES];
            let outcome = self.decoder.decode(&d.llrs, &mut block);
            let (crc24_ok, iterations) = match outcome {
                DecodeOutcome::Decoded { iterations } => (true, iterations),
                DecodeOutcome::CrcFailed { iterations } => (false, iterations),
            };
            let start_exact = seg_input_time(d.burst_start);
            let mut frame = Frame::new(
                start_exact.round() as i64,
                fs,
                centre_hz + d.cfo_hz,
                self.cfg.center_freq_hz,
                d.snr_db,
                d.format.num_symbols() as u8,
                crc24_ok,
                iterations,
                block,
                d.cfo_hz,
            );
            frame.iq_swapped = swapped;
            if self.keep_points {
                self.points
                    .push((frame.start_sample, self.demod.equalised_symbols().to_vec()));
            }
            frames.push(frame);
        }
        shift_bins
    }

    /// From now on (`on`), keep the equalised data symbols of every frame, for
    /// [`constellation_of`](Self::constellation_of) (plots: ≈ 3600 complex divisions and one
    /// vector per frame). Off by default.
    pub fn keep_constellations(&mut self, on: bool) {
        self.demod.keep_equalised(on);
        self.keep_points = on;
    }

    /// The data symbols of the frame starting at `start_sample` that the last
    /// [`receive`](Self::receive) returned, for constellation plots and EVM; empty when
    /// [`keep_constellations`](Self::keep_constellations) is off or there is no such frame.
    /// They are the equalised symbols `Y/Ĥ` of [`BurstDemodulator::equalised_symbols`]: one
    /// point per data carrier of every data symbol, erased symbols and carriers outside the
    /// captured band left out, ideal points (±1 ± j)/√2 on every carrier, so a faded carrier is
    /// noisier but not pulled toward the origin. Each frame of a segment that holds several
    /// bursts has its own.
    pub fn constellation_of(&self, start_sample: i64) -> &[Complex32] {
        self.points
            .iter()
            .find(|(s, _)| *s == start_sample)
            .map_or(&[], |(_, p)| p.as_slice())
    }

    /// `cut_mask` from the excisor's last call (`excised` cells cut): for every 1024-sample
    /// frame of the segment (as [`Self::band_centre`] cuts it) and 60 kHz excisor bin, whether
    /// a cell overlapping it was cut.
    fn mark_cut_cells(&mut self, excised: usize) {
        self.cut_mask.fill(false);
        if excised == 0 {
            return;
        }
        let cells = self.excisor.cut_cells();
        let nb = self.excise_bins.len();
        if nb == 0 {
            return;
        }
        let hop = EXCISION_FFT_LEN / 2;
        let band_frames = self.cut_mask.len() / EXCISION_FFT_LEN;
        for (f, row) in cells.chunks_exact(nb).enumerate() {
            // Excisor frame f covers segment samples (f − 1)·hop .. (f + 1)·hop.
            let first = (f * hop).saturating_sub(hop) / FFT_LEN;
            let last = ((f + 1) * hop - 1) / FFT_LEN;
            for (&cut, &k) in row.iter().zip(&self.excise_bins) {
                if !cut {
                    continue;
                }
                for j in first..=last.min(band_frames.saturating_sub(1)) {
                    self.cut_mask[j * EXCISION_FFT_LEN + k] = true;
                }
            }
        }
    }

    /// Shift (in subcarriers) that best centres a 601-carrier block in the segment's averaged
    /// spectrum, within ±[`BAND_SEARCH_BINS`].
    ///
    /// Cells (frame, bin) far below their frame's median power (under [`HOLE_REL_MEDIAN`]),
    /// and cells the excisor cut (or beside them) that kept under [`RESIDUE_REL_LEVEL`] of the
    /// frame's level, are left out of their bin's mean. Normally the score
    /// of shift `m` is the block's power (optimal on a flat spectrum). When the excisor left
    /// bins near the block unobserved in a quarter of the frames or more (a Wi-Fi frame over
    /// one edge of the burst), such a bin reads as noise and the block's power would slide it
    /// away from that edge; the score is then, at each edge, the power of the [`EDGE_BINS`]
    /// observed bins just inside minus the observed ones just outside, so the visible edge
    /// places the block.
    fn band_centre(&mut self, seg: std::ops::Range<usize>) -> i32 {
        self.spectrum.fill(0.0);
        self.spectrum_cells.fill(0);
        // 1. Power spectrum of every frame, with each frame's hole level and its median over
        //    the burst's band (its level there: burst plus noise while the burst is on).
        let data = &self.base[seg];
        let mut frames_all = 0usize;
        for (chunk, row) in data
            .chunks_exact(FFT_LEN)
            .zip(self.spec_rows.chunks_exact_mut(FFT_LEN))
        {
            self.spec_buf.copy_from_slice(chunk);
            self.fft_1024
                .process_with_scratch(&mut self.spec_buf, &mut self.scratch);
            for (p, v) in row.iter_mut().zip(&self.spec_buf) {
                let q = v.norm_sqr();
                *p = if q.is_finite() { q } else { 0.0 };
            }
            self.spec_sorted.clear();
            self.spec_sorted.extend_from_slice(row);
            let mid = FFT_LEN / 2;
            let hole = *self
                .spec_sorted
                .select_nth_unstable_by(mid, f32::total_cmp)
                .1
                * HOLE_REL_MEDIAN;
            self.spec_sorted.clear();
            self.spec_sorted.extend(
                (-LEVEL_HALF_BINS..=LEVEL_HALF_BINS)
                    .map(|k| row[k.rem_euclid(FFT_LEN as i32) as usize])
                    .filter(|&p| p >= hole),
            );
            let level = if self.spec_sorted.is_empty() {
                0.0
            } else {
                let mid = self.spec_sorted.len() / 2;
                *self
                    .spec_sorted
                    .select_nth_unstable_by(mid, f32::total_cmp)
                    .1
            };
            self.frame_hole[frames_all] = hole;
            self.frame_level[frames_all] = level;
            frames_all += 1;
        }
        if frames_all == 0 {
            return 0;
        }
        let mut frames = 0u32;
        for (f, row) in self
            .spec_rows
            .chunks_exact(FFT_LEN)
            .take(frames_all)
            .enumerate()
        {
            // Cells at or next to (±1 of its 60 kHz bins) one the excisor cut are left out
            // when what is left of them is low (leakage: counted, it reads as a dip).
            let mask = &self.cut_mask[f * EXCISION_FFT_LEN..(f + 1) * EXCISION_FFT_LEN];
            let hole = self.frame_hole[f];
            let residue = RESIDUE_REL_LEVEL * self.frame_level[f];
            let near_cut = |k: usize| {
                let b = k / (FFT_LEN / EXCISION_FFT_LEN);
                mask[b]
                    || mask[(b + 1) % EXCISION_FFT_LEN]
                    || mask[(b + EXCISION_FFT_LEN - 1) % EXCISION_FFT_LEN]
            };
            for (k, ((acc, cells), &p)) in self
                .spectrum
                .iter_mut()
                .zip(self.spectrum_cells.iter_mut())
                .zip(row)
                .enumerate()
            {
                if p >= hole && (p >= residue || !near_cut(k)) {
                    *acc += p;
                    *cells += 1;
                }
            }
            frames += 1;
        }
        for (acc, &cells) in self.spectrum.iter_mut().zip(&self.spectrum_cells) {
            *acc /= cells.max(1) as f32;
        }
        let n = FFT_LEN as i32;
        let wrap = |k: i32| k.rem_euclid(n) as usize;
        let observed = |k: i32| 4 * self.spectrum_cells[wrap(k)] >= 3 * frames;
        let reach = 300 + BAND_SEARCH_BINS + EDGE_BINS as i32;
        let unobserved = (-reach..=reach).filter(|&k| !observed(k)).count();
        let p = |k: i32| self.spectrum[wrap(k)];
        // Power of the 601-bin block centred at shift m, as a running sum.
        let mut sum: f32 = (-300..=300).map(p).sum();
        let mut by_power = (sum, 0);
        let mut s = sum;
        for m in 1..=BAND_SEARCH_BINS {
            s += p(m + 300) - p(m - 301);
            if s > by_power.0 {
                by_power = (s, m);
            }
        }
        for m in 1..=BAND_SEARCH_BINS {
            sum += p(-m - 300) - p(-m + 301);
            if sum > by_power.0 {
                by_power = (sum, -m);
            }
        }
        if unobserved < EDGE_BINS / 2 {
            return by_power.1;
        }
        // Holes: the block's mean over its observed bins (a hole neither adds nor takes away).
        // When that mean is clearly highest at an end of the range, the burst lies further off
        // than the edge score can reach (the caller re-centres and searches again).
        let block_mean = |m: i32| {
            let (mut sum, mut cnt) = (0.0f32, 0u32);
            for k in m - 300..=m + 300 {
                if observed(k) {
                    sum += p(k);
                    cnt += 1;
                }
            }
            if cnt == 0 {
                0.0
            } else {
                sum / cnt as f32
            }
        };
        let (far_m, far_mean) = (-BAND_SEARCH_BINS..=BAND_SEARCH_BINS)
            .map(|m| (m, block_mean(m)))
            .fold((0, f32::NEG_INFINITY), |b, x| if x.1 > b.1 { x } else { b });
        if far_m.abs() == BAND_SEARCH_BINS && far_mean > FAR_BLOCK_REL_MEAN * block_mean(0) {
            return far_m;
        }
        let mut best = (f32::NEG_INFINITY, 0i32);
        let q = |k: i32| if observed(k) { p(k) } else { 0.0 };
        let e = EDGE_BINS as i32;
        for m in -BAND_SEARCH_BINS..=BAND_SEARCH_BINS {
            let lower: f32 = (0..e).map(|i| q(m - 300 + i) - q(m - 301 - i)).sum();
            let upper: f32 = (0..e).map(|i| q(m + 300 - i) - q(m + 301 + i)).sum();
            if lower + upper > best.0 || (lower + upper == best.0 && m.abs() < best.1.abs()) {
                best = (lower + upper, m);
            }
        }
        best.1
    }

    /// Indices (in the segment) of the useful starts of root-600 ZC symbols, strongest first,
    /// into `self.peaks`: the strongest correlation peak, then up to
    /// [`MAX_BURSTS_PER_CANDIDATE`]` − 1` more that exceed `PEAK_THRESHOLD_REL_MEAN` × the mean
    /// and lie at least `MIN_PEAK_SEPARATION` from every peak taken.
    fn zc_peaks(&mut self, seg: std::ops::Range<usize>) {
        self.peaks.clear();
        let len = seg.len();
        self.correlator.reset();
        self.corr.clear();
        self.correlator.correlate(&self.base[seg], &mut self.corr);
        // Flush: zeros push out the outputs of the segment's last samples.
        self.correlator.correlate(&self.zeros, &mut self.corr);
        // Plausible ZC-600 positions: the pair's second symbol (2192 later) inside the segment.
        let lo = FFT_LEN;
        let hi = len.min(self.corr.len()).saturating_sub(FFT_LEN + 2192);
        if lo >= hi {
            return;
        }
        let pow = &mut self.corr_pow[..hi - lo];
        let mut sum = 0.0f64;
        for (p, c) in pow.iter_mut().zip(&self.corr[lo..hi]) {
            let v = c.norm_sqr();
            *p = if v.is_finite() { v } else { 0.0 };
            sum += *p as f64;
        }
        let threshold = PEAK_THRESHOLD_REL_MEAN * (sum / pow.len() as f64) as f32;
        while self.peaks.len() < MAX_BURSTS_PER_CANDIDATE {
            let (best_i, best_v) =
                pow.iter()
                    .enumerate()
                    .fold((0, 0.0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            if best_v <= 0.0 || (!self.peaks.is_empty() && best_v <= threshold) {
                break;
            }
            self.peaks.push(lo + best_i);
            let a = best_i.saturating_sub(MIN_PEAK_SEPARATION);
            let b = (best_i + MIN_PEAK_SEPARATION).min(pow.len());
            pow[a..b].fill(0.0);
        }
    }
}
