//! Per-candidate burst receiver: from the input samples around a [`Candidate`] to a decoded
//! [`Frame`] (spec §8).
//!
//! Steps: mix the candidate's estimated centre to DC and resample to 15.36 MS/s
//! ([`ChannelResampler`]); refine the centre frequency to one subcarrier from the averaged
//! spectrum (the 601-carrier block has sharp edges); find the root-600 ZC symbol by FFT
//! correlation; hand over to the OFDM [`BurstDemodulator`] (integer + fractional CFO, timing,
//! channel estimate, soft demap); turbo decode ([`BlockDecoder`]); check CRC24/CRC16 and parse.
//! All buffers are allocated in [`BurstReceiver::new`]; [`BurstReceiver::receive`] does not allocate
//! except for the returned frame.

use std::sync::Arc;

use droneid_core::{
    Complex32, BASE_SAMPLE_RATE_HZ, BITS_PER_SYMBOL, FFT_LEN, SUBCARRIER_SPACING_HZ,
    TRANSPORT_BLOCK_BYTES,
};
use droneid_dsp::{ChannelResampler, ResamplerConfig, Rotator};
use droneid_fec::{BlockDecoder, DecodeOutcome, DecoderConfig};
use droneid_ofdm::{zc_carriers, BaseRateModulator, BurstDemodulator, DemodConfig, DemodResult};
use rustfft::{Fft, FftPlanner};

use crate::frame::Frame;
use crate::Candidate;

/// Base-rate samples kept before the candidate's estimated start and after its end.
pub const SEGMENT_MARGIN_BASE: usize = 2400;
/// Base-rate length of the segment handed to the demodulator (9880-sample burst + margins).
pub const SEGMENT_LEN_BASE: usize = 9880 + 2 * SEGMENT_MARGIN_BASE;
const CORR_FFT_LEN: usize = 16384;
/// Largest centre-frequency correction taken from the spectrum, in subcarriers.
const BAND_SEARCH_BINS: i32 = 48;

/// Why a candidate produced no frame at all (a counted outcome, not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstFailure {
    /// No ZC pilot pair was found: not a DroneID burst, or too weak.
    NoSync,
}

/// What one candidate turned into.
#[derive(Debug)]
pub enum BurstOutcome {
    /// A demodulated and turbo-decoded burst; `frame.crc24_ok` says whether the CRC24 passed.
    Frame(Box<Frame>),
    /// No frame.
    Failed(BurstFailure),
}

/// Settings of the burst receiver.
#[derive(Debug, Clone)]
pub struct BurstReceiverConfig {
    /// Input sample rate, Hz.
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
    resampler: ChannelResampler,
    mixer: Rotator,
    mixed: Vec<Complex32>,
    base: Vec<Complex32>,
    fft_1024: Arc<dyn Fft<f32>>,
    fft_corr: Arc<dyn Fft<f32>>,
    ifft_corr: Arc<dyn Fft<f32>>,
    scratch: Vec<Complex32>,
    spec_buf: Vec<Complex32>,
    spectrum: Vec<f32>,
    corr: Vec<Complex32>,
    zc_template_freq: Vec<Complex32>,
    demod: BurstDemodulator,
    demod_out: Box<DemodResult>,
    decoder: BlockDecoder,
    /// Per-candidate trace on stderr when `DRONEID_DEBUG` is set.
    debug: bool,
}

impl BurstReceiver {
    /// Input samples needed for a candidate: the segment plus the resampler's filter span.
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

    /// Builds the resampler, FFT plans, demodulator and decoder for `cfg.sample_rate_hz`.
    pub fn new(cfg: &BurstReceiverConfig) -> Result<Self, String> {
        let fs = cfg.sample_rate_hz;
        if !(fs.is_finite() && fs >= BASE_SAMPLE_RATE_HZ * 0.999) {
            return Err(format!(
                "sample rate {fs} Hz is below 15.36 MS/s, the lowest rate that holds a DroneID burst"
            ));
        }
        let rs_cfg = ResamplerConfig {
            passband_hz: 4.6e6,
            stopband_hz: 7.0e6_f64.min(BASE_SAMPLE_RATE_HZ / 2.0),
            ..ResamplerConfig::droneid(fs, 0.0)
        };
        let resampler = ChannelResampler::new(&rs_cfg).map_err(|e| e.to_string())?;
        let ratio = fs / BASE_SAMPLE_RATE_HZ;
        let mut planner = FftPlanner::new();
        let fft_1024 = planner.plan_fft_forward(FFT_LEN);
        let fft_corr = planner.plan_fft_forward(CORR_FFT_LEN);
        let ifft_corr = planner.plan_fft_inverse(CORR_FFT_LEN);
        let scratch_len = fft_1024
            .get_inplace_scratch_len()
            .max(fft_corr.get_inplace_scratch_len())
            .max(ifft_corr.get_inplace_scratch_len());
        // Frequency-domain conjugate template of the root-600 ZC useful part.
        let mut template = vec![Complex32::new(0.0, 0.0); FFT_LEN];
        BaseRateModulator::new().symbol_time(&zc_carriers(600), &mut template);
        let mut zc_template_freq = vec![Complex32::new(0.0, 0.0); CORR_FFT_LEN];
        zc_template_freq[..FFT_LEN].copy_from_slice(&template);
        let mut scratch = vec![Complex32::new(0.0, 0.0); scratch_len];
        fft_corr.process_with_scratch(&mut zc_template_freq, &mut scratch);
        for v in &mut zc_template_freq {
            *v = v.conj();
        }
        let scrambler = droneid_fec::scrambler::droneid_scrambler();
        let demod = BurstDemodulator::new(&cfg.demod, &scrambler[..1200]);
        let decoder = BlockDecoder::new(&DecoderConfig {
            max_iterations: cfg.max_iterations,
            ..DecoderConfig::default()
        })
        .map_err(|e| e.to_string())?;
        let mut me = Self {
            cfg: cfg.clone(),
            ratio,
            resampler,
            mixer: Rotator::new(0.0, fs),
            mixed: Vec::new(),
            base: Vec::new(),
            fft_1024,
            fft_corr,
            ifft_corr,
            scratch,
            spec_buf: vec![Complex32::new(0.0, 0.0); FFT_LEN],
            spectrum: vec![0.0; FFT_LEN],
            corr: vec![Complex32::new(0.0, 0.0); CORR_FFT_LEN],
            zc_template_freq,
            demod,
            demod_out: Box::default(),
            decoder,
            debug: std::env::var_os("DRONEID_DEBUG").is_some(),
        };
        let (_, span) = me.input_span();
        me.mixed = vec![Complex32::new(0.0, 0.0); span];
        me.base = vec![Complex32::new(0.0, 0.0); me.resampler.max_output_len(span) + 16];
        Ok(me)
    }

    /// Receives the candidate whose input samples are `input` (length `input_span().1`, starting at
    /// absolute index `input_start = candidate.start_sample − input_span().0`; missing samples zero).
    pub fn receive(
        &mut self,
        input: &[Complex32],
        input_start: i64,
        cand: &Candidate,
    ) -> BurstOutcome {
        let fs = self.cfg.sample_rate_hz;
        // 1. Mix the estimated centre to DC, low-pass and resample to 15.36 MS/s.
        let n_in = input.len().min(self.mixed.len());
        self.mixer.set_frequency(-cand.freq_offset_hz);
        self.mixer.reset();
        self.mixer.mix(&input[..n_in], &mut self.mixed[..n_in]);
        self.resampler.reset();
        let produced = self.resampler.process(&self.mixed[..n_in], &mut self.base);
        // Base-rate index b sits at input time input_start + b·ratio − delay. Drop the filter
        // warm-up so that base index 0 is the segment start.
        let delay = self.resampler.delay_input_samples();
        let (before, _) = self.input_span();
        let seg_first = ((before as f64 - SEGMENT_MARGIN_BASE as f64 * self.ratio + delay)
            / self.ratio)
            .round()
            .max(0.0) as usize;
        let seg_end = (seg_first + SEGMENT_LEN_BASE).min(produced);
        if seg_end <= seg_first + 4 * FFT_LEN {
            return BurstOutcome::Failed(BurstFailure::NoSync);
        }
        let ratio = self.ratio;
        let seg_input_time =
            move |b: f64| input_start as f64 + (b + seg_first as f64) * ratio - delay;
        let seg = seg_first..seg_end;

        // 2. Centre refinement from the averaged spectrum over the burst's span.
        let shift_bins = self.band_centre(seg.clone());
        let base = &mut self.base[seg.clone()];
        if shift_bins != 0 {
            let mut rot = Rotator::new(
                -(shift_bins as f64) * SUBCARRIER_SPACING_HZ,
                BASE_SAMPLE_RATE_HZ,
            );
            rot.mix_inplace(base);
        }
        let centre_hz = cand.freq_offset_hz + shift_bins as f64 * SUBCARRIER_SPACING_HZ;

        // 3. Root-600 ZC correlation over the plausible window.
        let hint = match self.zc_peak(seg.clone()) {
            Some(h) => h,
            None => return BurstOutcome::Failed(BurstFailure::NoSync),
        };

        // 4. Demodulate.
        let base = &self.base[seg];
        let r = self
            .demod
            .demodulate(base, hint as f64, &mut self.demod_out);
        if self.debug {
            eprintln!(
                "droneid debug: {cand:?} band shift {shift_bins} subcarriers, ZC-600 hint {hint}, demod {:?}",
                r.as_ref().err()
            );
        }
        if r.is_err() {
            return BurstOutcome::Failed(BurstFailure::NoSync);
        }
        let d = &self.demod_out;

        // 5. Decode.
        let mut block = [0u8; TRANSPORT_BLOCK_BYTES];
        let outcome = self.decoder.decode(&d.llrs, &mut block);
        let (crc24_ok, iterations) = match outcome {
            DecodeOutcome::Decoded { iterations } => (true, iterations),
            DecodeOutcome::CrcFailed { iterations } => (false, iterations),
        };
        let start_exact = seg_input_time(d.burst_start);
        let freq_offset_hz = centre_hz + d.cfo_hz;
        let frame = Frame::new(
            start_exact.round() as i64,
            fs,
            freq_offset_hz,
            self.cfg.center_freq_hz,
            d.snr_db,
            d.format.num_symbols() as u8,
            crc24_ok,
            iterations,
            block,
            d.cfo_hz,
        );
        BurstOutcome::Frame(Box::new(frame))
    }

    /// The data symbols of the last burst that [`receive`](Self::receive) demodulated (it
    /// returned a [`BurstOutcome::Frame`]), for constellation plots: one point per data
    /// carrier of every data symbol not erased, appended to `out` (cleared first).
    ///
    /// Each point is the matched-filter output `Y·conj(Ĥ)` (the demodulator's soft-decision
    /// pair) scaled per OFDM symbol so that its mean |I| and |Q| are 1/√2: the equalised
    /// QPSK symbol (ideal points (±1 ± j)/√2), weighted by |Ĥ|² relative to the symbol's mean
    /// (flat channels: exactly the equalised symbol). Meaningless after a failed `receive`.
    pub fn last_constellation(&self, out: &mut Vec<Complex32>) {
        out.clear();
        let llrs = &self.demod_out.llrs;
        let blocks = llrs.len() / BITS_PER_SYMBOL;
        for b in 0..blocks {
            if self.demod_out.erased_blocks & (1 << b) != 0 {
                continue;
            }
            let l = &llrs[b * BITS_PER_SYMBOL..(b + 1) * BITS_PER_SYMBOL];
            let mean_abs = l.iter().map(|v| v.abs() as f64).sum::<f64>() / l.len() as f64;
            if !(mean_abs.is_finite() && mean_abs > 0.0) {
                continue;
            }
            let scale = (std::f64::consts::FRAC_1_SQRT_2 / mean_abs) as f32;
            out.extend(
                l.chunks_exact(2)
                    .map(|p| Complex32::new(p[0] * scale, p[1] * scale)),
            );
        }
    }

    /// Shift (in subcarriers) that best centres a 601-carrier block in the averaged spectrum.
    fn band_centre(&mut self, seg: std::ops::Range<usize>) -> i32 {
        self.spectrum.fill(0.0);
        let data = &self.base[seg];
        let mut frames = 0;
        for chunk in data.chunks_exact(FFT_LEN) {
            self.spec_buf.copy_from_slice(chunk);
            self.fft_1024
                .process_with_scratch(&mut self.spec_buf, &mut self.scratch);
            for (k, v) in self.spec_buf.iter().enumerate() {
                self.spectrum[k] += v.norm_sqr();
            }
            frames += 1;
        }
        if frames == 0 {
            return 0;
        }
        // Power of the 601-bin block centred at shift m (circular bins), as a running sum.
        let n = FFT_LEN as i32;
        let p = |k: i32| self.spectrum[k.rem_euclid(n) as usize];
        let mut sum: f32 = (-300..=300).map(p).sum();
        let mut best = (sum, 0);
        let mut s = sum;
        for m in 1..=BAND_SEARCH_BINS {
            s += p(m + 300) - p(m - 301);
            if s > best.0 {
                best = (s, m);
            }
        }
        for m in 1..=BAND_SEARCH_BINS {
            sum += p(-m - 300) - p(-m + 301);
            if sum > best.0 {
                best = (sum, -m);
            }
        }
        best.1
    }

    /// Index (in the segment) of the useful start of the root-600 ZC symbol, by FFT correlation.
    fn zc_peak(&mut self, seg: std::ops::Range<usize>) -> Option<usize> {
        let data = &self.base[seg];
        let n = data.len().min(CORR_FFT_LEN - FFT_LEN);
        self.corr.fill(Complex32::new(0.0, 0.0));
        self.corr[..n].copy_from_slice(&data[..n]);
        self.fft_corr
            .process_with_scratch(&mut self.corr, &mut self.scratch);
        for (c, t) in self.corr.iter_mut().zip(&self.zc_template_freq) {
            *c *= t;
        }
        self.ifft_corr
            .process_with_scratch(&mut self.corr, &mut self.scratch);
        // Plausible window: 8- or 9-symbol layout, start estimate ± the detector's uncertainty.
        let lo = (SEGMENT_MARGIN_BASE + 2264).saturating_sub(SEGMENT_MARGIN_BASE - 200);
        let hi =
            (SEGMENT_MARGIN_BASE + 3368 + SEGMENT_MARGIN_BASE - 200).min(n.saturating_sub(FFT_LEN));
        if lo >= hi {
            return None;
        }
        let mut best = (0.0f32, lo);
        for (i, c) in self.corr[lo..hi].iter().enumerate() {
            let m = c.norm_sqr();
            if m > best.0 {
                best = (m, lo + i);
            }
        }
        if best.0 > 0.0 && best.0.is_finite() {
            Some(best.1)
        } else {
            None
        }
    }
}
