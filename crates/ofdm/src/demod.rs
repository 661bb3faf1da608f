//! OFDM burst demodulator (spec §2.4, §3, §4.5 step 1, §8): from 15.36 MS/s samples around a
//! root-600 ZC detection to the 7200 LLRs of the scrambled stream e'.
//!
//! # Steps of [`BurstDemodulator::demodulate`]
//! 1. Copy the burst region (plus margins) into an owned buffer; samples outside the caller's
//!    slice are zero (erasures).
//! 2. **Coarse timing + fractional CFO** from the cyclic prefixes of the 8 symbols common to
//!    both formats: `C(d) = Σ_symbols Σ_cp conj(r[n+d])·r[n+d+1024]` for `d` in ±`timing_search`
//!    around the hint; timing = argmax |C|, `f_frac = arg C·Fs/(2π·1024)` (±7.5 kHz). CP
//!    correlation does not depend on the CFO, so the −1.7 samples/subcarrier bias of the
//!    root-600 hint does not matter here.
//! 3. **Integer CFO** m ∈ ±(`max_int_cfo_subcarriers` + 1): FFT both ZC windows (backed off
//!    into the CP), and maximise the joint ZC metric
//!    `|Σ_i Y600[bin(i)+m]·conj(X600_i)·conj(Y147[bin(i)+m]·conj(X147_i))|`, normalised by
//!    `sqrt(Σ|Y600|²·Σ|Y147|²)` over the same bins (see [`zc_pair_metric_reference`]). Channel and
//!    timing phase are common to both pilots and cancel. The normalised value is reported as
//!    [`DemodResult::zc_metric`] ∈ [0, 1]; for a burst at per-carrier SNR ρ it is ≈ ρ/(1+ρ)
//!    (≈0.33 at −3 dB in-band, ≈0.9 at +10 dB), for noise only it is ≈0.04 (max over m ≈0.07).
//!    Below `min_zc_metric` (default 0.15) the call returns [`DemodFailure::NoZcPair`]; a
//!    receiver that wants a stricter gate can test `zc_metric` (and `zc_runner_up`) itself.
//! 4. Correct the total CFO (fractional + integer) on the whole buffer.
//! 5. **Fine timing** from the phase slope of the raw ZC channel estimates across carriers
//!    (lags 8 then 32, both pilots): it estimates the centre of gravity of the channel delay
//!    profile. All FFT windows are then placed `timing_backoff` samples before it.
//! 6. **Channel model** from the pilots (both ZC symbols, plus symbol 0 when detected):
//!    `H_s(k) = G(k)·exp(jω(t_s − t̄))·exp(−j2πk(τ + ε(t_s − t̄))/1024)`, where
//!    * ω is the residual CFO from the pilot phase differences (a least-squares line when
//!      there are three pilots), refining the CFO estimate to a few Hz;
//!    * τ is the fine timing and ε the sample-clock offset (timing drift), from the phase
//!      slopes of the individual pilots against their mean, shrunk towards 0 by its own
//!      estimated variance (applied at high SNR, where ±20 ppm would otherwise cost ≈0.5 dB
//!      at +10 dB; ignored at −3 dB, where it does not matter and cannot be estimated);
//!    * G is the average of the de-rotated, de-ramped pilots, smoothed across carriers by a
//!      local linear fit ([`crate::chest::LocalLinearSmoother`]) whose window is chosen per
//!      burst by leave-one-out cross-validation (7…127 carriers; `adaptive_smoothing`).
//!
//!    This parametric form has no extrapolation noise on the outer symbols.
//! 7. **Format**: symbol 0's window is compared with the known pilot QPSK(c(0..1200)):
//!    `symbol0_metric = |Σ Y0·conj(X0)·conj(H0)| / Σ|H0|²` (≈1 present, ≈0 absent, noise
//!    std ≈0.04 at −3 dB); ≥ `symbol0_threshold` → [`BurstFormat::Nine`], else
//!    [`BurstFormat::Eight`].
//! 8. **Noise variance** σ² of Y per carrier from the spread of the de-rotated raw pilot
//!    estimates around their mean (the channel cancels exactly); **soft demap**
//!    `L(b0) = 2√2·Re(Y·conj(Ĥ))/σ²_eff`, `L(b1) = 2√2·Im(Y·conj(Ĥ))/σ²_eff` (spec §4.5 with
//!    the per-carrier |H|² folded in), σ²_eff = σ²·(1 + v) with v the relative variance of the
//!    channel estimate. SNR = (mean |raw pilot|² − σ²)·600 / (601·σ²).
//!
//! The soft demap never divides by Ĥ. For constellation plots and EVM, with
//! [`BurstDemodulator::keep_equalised`] on, the demodulator also keeps the zero-forcing
//! equalised data symbols `Y/Ĥ` of the last burst it accepted
//! ([`BurstDemodulator::equalised_symbols`]).
//!
//! Measured (AWGN, 9-symbol, raw BER vs the QPSK bound): ≈0.1 dB implementation loss at −3 dB
//! in-band; ≈0.15 dB against a genie receiver on 3-tap channels (≤ 1 µs) with ±20 ppm.
//!
//! # Conventions
//! * Sample indices are indices into the caller's `samples` slice (15.36 MS/s).
//! * `zc600_hint`: start of the useful part of the root-600 ZC symbol as a time-domain
//!   correlation peak sees it (±~25 samples, plus the −1.70·m bias); only ±`timing_search`
//!   samples around it are searched.
//! * [`DemodResult::burst_start`]: first sample of the first CP (9-symbol: ZC-600 useful start
//!   − 3368; 8-symbol: − 2264, KZ schedule), fractional, negative if the burst is cut off.
//! * LLRs: `L = ln P(0)/P(1)` of e' in transmission order (positive = bit 0), true scale.
//!   Data symbols whose FFT window is not entirely inside `samples` get LLR 0 (erasures).

use std::f64::consts::PI;
use std::sync::Arc;

use droneid_core::{
    carrier_bin, carrier_k, BurstFormat, Complex32, Complex64, BASE_SAMPLE_RATE_HZ,
    BITS_PER_SYMBOL, CODED_BITS, CP_SHORT, FFT_LEN, NUM_CARRIERS, SUBCARRIER_SPACING_HZ,
    ZC_ROOT_FIRST, ZC_ROOT_SECOND, ZC_SPACING,
};
use rustfft::{Fft, FftPlanner};

use crate::chest::{LocalLinearSmoother, ADAPTIVE_TAPS};
use crate::{qpsk_map, zc_carriers, QPSK_AMPLITUDE};

const N: usize = FFT_LEN;
const NC: usize = NUM_CARRIERS;
/// Symbols of the 9-symbol layout.
const NSYM: usize = 9;
const SYM0: usize = 0;
const ZC600_SYM: usize = 3;
const ZC147_SYM: usize = 5;
/// Useful-part start of each symbol of the 9-symbol layout relative to the useful part of the
/// root-600 ZC symbol (`BurstFormat::Nine.useful_start(s) − 3368`). The 8-symbol layouts are the
/// same symbols without symbol 0, so one table serves all formats.
pub(crate) const REL: [isize; NSYM] = [-3288, -2192, -1096, 0, 1096, 2192, 3288, 4384, 5488];
/// Data block carried by each symbol of the 9-symbol layout.
pub(crate) const BLOCK: [Option<usize>; NSYM] = [
    None,
    Some(0),
    Some(1),
    None,
    Some(2),
    None,
    Some(3),
    Some(4),
    Some(5),
];
/// Extra backoff (beyond `timing_backoff`) of the ZC windows used for the integer-CFO search,
/// which are placed from the coarse CP timing (error of a few samples at low SNR).
const COARSE_EXTRA_BACKOFF: usize = 12;
/// Slack (samples) kept on both sides of the buffer for fine-timing window moves.
const SLACK: usize = 96;
/// σ² is floored at this fraction of the mean carrier power (caps the LLR scale at 60 dB SNR).
const NOISE_FLOOR_REL: f64 = 1e-6;
/// DC removal threshold (see `DemodConfig::remove_dc`): a DC offset at the level of one data
/// carrier is ≈18× the chance level over a burst and harmless; 30× removes anything stronger.
const DC_SIGNIFICANCE: f64 = 30.0;
/// Largest sample-clock offset applied (timing drift per sample): 200 ppm.
const MAX_SCO: f64 = 200e-6;
/// Fewest carriers inside the captured band for a burst to be demodulated (a 4 MS/s capture
/// holds ≈ 240 of the 600).
const MIN_VALID_CARRIERS: usize = 96;
/// Reliability: half-width (carriers) of the per-symbol window that follows interferers that
/// come and go within a burst (a Bluetooth hop is ≈ 67 carriers wide).
const REL_HALF_WINDOW: usize = 8;
/// Reliability: a carrier's residual averaged over the burst's symbols (≈ 8 values) must
/// exceed the typical level by this factor to lower its weight. Near the decoding threshold
/// (−3.5 dB in-band) many data decisions are wrong, the residuals are heavier-tailed than
/// exponential, and lower factors (3.0 and 2.2 below, as first set) weighted down clean cells
/// and cost 6 of 200 bursts at −3.5 dB (AWGN sweep); these cost none measurable there, and the
/// interference rows stay within noise (100 bursts per point).
const REL_COLUMN_THRESHOLD: f32 = 4.0;
/// Reliability: the same for the per-symbol window (17 carriers).
const REL_WINDOW_THRESHOLD: f32 = 3.0;

/// Demodulator settings. `Default` gives the values documented per field.
#[derive(Debug, Clone, PartialEq)]
pub struct DemodConfig {
    /// Integer CFO range ±m subcarriers (15 kHz each): bursts with a residual CFO up to
    /// ±(m·15 + 7.5) kHz are handled (the search itself covers ±(m + 1) so that a wrapped
    /// fractional estimate at the range edge is still resolved). Default 12. Valid 0..=200.
    pub max_int_cfo_subcarriers: i32,
    /// Channel-estimate smoothing window across carriers when `adaptive_smoothing` is off
    /// (local linear fit over this many carriers; even values round up to odd; 0/1 = none).
    /// Default 15: cuts the estimation noise by 11.8 dB while a 1 µs echo (coherence bandwidth
    /// ≈ 68 carriers) is still followed (model error < −25 dB). Also the fallback when a
    /// burst's pilots are too short to choose.
    pub smoothing_taps: usize,
    /// Choose the smoothing window per burst among [`crate::chest::ADAPTIVE_TAPS`] (7…127) by
    /// leave-one-out cross-validation on the pilot estimate. Default true: long windows on
    /// flat (line-of-sight) channels, where the estimation noise would otherwise cost
    /// ≈0.3 dB at −3 dB SNR (SNR_eff = SNR/(1 + v + v/SNR), v = 1/(pilots·taps)), short ones
    /// under multipath.
    pub adaptive_smoothing: bool,
    /// FFT windows start this many samples into the CP before the estimated timing (centre of
    /// gravity of the channel). Default 4. Must stay below CP − delay spread (72 − spread).
    pub timing_backoff: usize,
    /// Coarse timing search ± samples around the hint (covers hint error ±25 plus the root-600
    /// bias 1.7·m). Default 56; valid 8..=512.
    pub timing_search: usize,
    /// Minimum normalised joint-ZC metric to accept a burst (see module docs). Default 0.15:
    /// noise alone exceeds it with probability ≈ 27·exp(−600·0.15²) ≈ 4e-5 per call; a burst
    /// reaches it down to ≈ −7.5 dB in-band SNR.
    pub min_zc_metric: f32,
    /// Symbol-0 pilot decision threshold on `symbol0_metric`. Default 0.5.
    pub symbol0_threshold: f32,
    /// Subtract the mean of the burst region (receiver DC offset / LO leakage) before
    /// anything else, when it is clearly above the chance mean of a zero-mean signal. An OFDM
    /// burst has no DC content of its own, while a receiver DC spike would bias the CP-based
    /// CFO estimate and, after CFO correction, land on data carriers. Default true.
    pub remove_dc: bool,
    /// Per-carrier (and per-symbol) reliability: estimate noise plus interference of every
    /// carrier and symbol from the residuals `Y − Ĥ·x̂` (pilots known, data hard-decided) and
    /// scale the LLRs of cells that stand clearly above the burst's typical residual by the
    /// inverse of their excess (a CW spur, a Bluetooth hop, the edge of a Wi-Fi burst,
    /// another burst overlapping part of the channel). Cells at the typical level keep their
    /// weight, so a clean burst is demodulated as before. Default true.
    pub carrier_reliability: bool,
}

impl Default for DemodConfig {
    fn default() -> Self {
        Self {
            max_int_cfo_subcarriers: 12,
            smoothing_taps: 15,
            adaptive_smoothing: true,
            timing_backoff: 4,
            timing_search: 56,
            min_zc_metric: 0.15,
            symbol0_threshold: 0.5,
            remove_dc: true,
            carrier_reliability: true,
        }
    }
}

/// Why a burst could not be demodulated. These are counted outcomes, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemodFailure {
    /// The joint ZC-600/ZC-147 metric is below `min_zc_metric` for every integer CFO:
    /// no DroneID burst at the hint (or far too weak). `DemodResult::zc_metric` holds the best.
    NoZcPair,
    /// A ZC symbol window is not entirely inside `samples`, or the hint is not finite.
    OutOfRange,
}

impl std::fmt::Display for DemodFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemodFailure::NoZcPair => write!(f, "no ZC-600/ZC-147 pair at the hint"),
            DemodFailure::OutOfRange => write!(f, "ZC symbols outside the sample slice"),
        }
    }
}

impl std::error::Error for DemodFailure {}

/// Output of [`BurstDemodulator::demodulate`]. Reused between calls (no allocation).
#[derive(Debug, Clone)]
pub struct DemodResult {
    /// LLRs of the scrambled stream e' in transmission order, `L = ln P(0)/P(1)`,
    /// `2√2·Re(Y·conj(H))/σ²` (spec §4.5). 0 for erased blocks. All 0 after a failure.
    pub llrs: [f32; CODED_BITS],
    /// `Nine` if the symbol-0 pilot was detected, else `Eight` (KZ CP schedule). Also `Eight`
    /// when symbol 0's window lies outside `samples` (see `symbol0_checked`): the format is
    /// then undecidable, but the LLRs are the same either way.
    pub format: BurstFormat,
    /// Index in `samples` of the first sample of the first CP (fractional; may be negative),
    /// for `format`: ZC-600 start − 3368 (Nine) or − 2264 (Eight; the RUB schedule
    /// `EightLongFirstCp` would start 8 samples earlier). Referred to the channel's centre of
    /// gravity (the path itself for a single-path channel).
    pub burst_start: f64,
    /// Index in `samples` of the start of the ZC-600 useful part (channel centre of gravity).
    pub zc600_start: f64,
    /// Total residual CFO estimated, Hz (integer + fractional + pilot refinement).
    pub cfo_hz: f64,
    /// Integer part of the CFO, subcarriers.
    pub int_cfo_subcarriers: i32,
    /// In-band SNR estimate, dB: signal power / noise power in 9.015 MHz (601 bins).
    pub snr_db: f32,
    /// Noise variance σ² per carrier of the FFT output Y (the LLR scale; 1024× the per-sample
    /// noise variance for the unnormalised FFT used here).
    pub noise_var: f32,
    /// Normalised joint ZC metric of the chosen integer CFO, in [0, 1] (module docs). Written
    /// also when the call fails with `NoZcPair`.
    pub zc_metric: f32,
    /// Best joint ZC metric among the other integer CFO candidates (ambiguity indicator).
    pub zc_runner_up: f32,
    /// Symbol-0 pilot metric (≈1 present, ≈0 absent); 0 if symbol 0 is out of range.
    pub symbol0_metric: f32,
    /// Whether symbol 0's window was inside `samples`, i.e. whether the format was tested.
    pub symbol0_checked: bool,
    /// Bit b set: data block b (bits 1200b..1200(b+1)) is erased (window outside `samples`).
    pub erased_blocks: u8,
    /// Channel smoothing window used (carriers).
    pub smoothing_taps: u16,
    /// Sample-clock offset applied, ppm (timing drift; 0 when too noisy to estimate).
    pub sco_ppm: f32,
    /// Carriers outside the captured band (see [`BurstDemodulator::set_valid_band`]): their
    /// LLRs are 0 (erasures).
    pub erased_carriers: u16,
    /// Data cells (symbol × carrier) whose LLRs were scaled down by the reliability estimate.
    pub downweighted_cells: u16,
}

impl Default for DemodResult {
    fn default() -> Self {
        Self {
            llrs: [0.0; CODED_BITS],
            format: BurstFormat::Eight,
            burst_start: 0.0,
            zc600_start: 0.0,
            cfo_hz: 0.0,
            int_cfo_subcarriers: 0,
            snr_db: f32::NEG_INFINITY,
            noise_var: 0.0,
            zc_metric: 0.0,
            zc_runner_up: 0.0,
            symbol0_metric: 0.0,
            symbol0_checked: false,
            erased_blocks: 0,
            smoothing_taps: 0,
            sco_ppm: 0.0,
            erased_carriers: 0,
            downweighted_cells: 0,
        }
    }
}

impl DemodResult {
    fn reset(&mut self) {
        self.llrs.fill(0.0);
        self.format = BurstFormat::Eight;
        self.burst_start = 0.0;
        self.zc600_start = 0.0;
        self.cfo_hz = 0.0;
        self.int_cfo_subcarriers = 0;
        self.snr_db = f32::NEG_INFINITY;
        self.noise_var = 0.0;
        self.zc_metric = 0.0;
        self.zc_runner_up = 0.0;
        self.symbol0_metric = 0.0;
        self.symbol0_checked = false;
        self.erased_blocks = 0;
        self.smoothing_taps = 0;
        self.sco_ppm = 0.0;
        self.erased_carriers = 0;
        self.downweighted_cells = 0;
    }
}

/// OFDM burst demodulator. Owns the FFT plan and all scratch; [`Self::demodulate`] does not
/// allocate.
pub struct BurstDemodulator {
    cfg: DemodConfig,
    fft: Arc<dyn Fft<f32>>,
    fft_scratch: Vec<Complex32>,
    /// Known carriers: ZC-600, ZC-147, symbol-0 pilot.
    x600: [Complex32; NC],
    x147: [Complex32; NC],
    x0: [Complex32; NC],
    /// conj(X600)·X147 per carrier (joint ZC metric).
    q: [Complex32; NC],
    smoother: LocalLinearSmoother,
    margin_left: usize,
    /// Raw copy of the burst region and its CFO-corrected version.
    buf: Vec<Complex32>,
    work: Vec<Complex32>,
    /// Full spectra of the two ZC windows (integer CFO search).
    spec_a: Vec<Complex32>,
    spec_b: Vec<Complex32>,
    /// CP correlation: products and accumulated metric per timing offset.
    cp_prod: Vec<Complex64>,
    cp_acc: Vec<Complex64>,
    /// Carriers of every symbol window (9-symbol layout).
    ycar: Vec<[Complex32; NC]>,
    /// Pilot raw estimates (de-ramped), averaged channel, smoothed channel.
    hraw: [[Complex32; NC]; 3],
    g: [Complex32; NC],
    gs: [Complex32; NC],
    ramp: [Complex32; NC],
    /// Channel model of the symbol being processed.
    hmod: [Complex32; NC],
    /// Captured band relative to the input's 0 Hz, Hz (see `set_valid_band`).
    valid_band_hz: (f64, f64),
    /// Carriers inside the captured band for the burst being demodulated.
    valid: [bool; NC],
    /// Residual power |Y − Ĥx̂|² per symbol and carrier (reliability estimate).
    resid: Vec<[f32; NC]>,
    /// LLR weight per symbol and carrier (1 = typical, < 1 = noisier than typical).
    weight: Vec<[f32; NC]>,
    /// Scratch for the median of the residuals.
    sort_buf: Vec<f32>,
    /// Whether [`Self::demodulate`] fills `equalised` (see [`Self::keep_equalised`]).
    keep_equalised: bool,
    /// Equalised data symbols `Y/Ĥ` of the last successful call (when `keep_equalised`).
    equalised: Vec<Complex32>,
}

impl std::fmt::Debug for BurstDemodulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurstDemodulator")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// Pilot model fitted from 2 or 3 pilot symbols.
#[derive(Debug, Clone, Copy)]
struct PilotFit {
    /// Residual CFO, rad/sample.
    omega: f64,
    /// Sample-clock offset: timing drift in samples per sample (applied value, after shrinkage).
    eps: f64,
    /// Channel delay (centre of gravity) relative to the ZC-600 FFT window start, samples.
    tau_w: f64,
    /// Mean |raw pilot estimate|² per carrier (= mean |G|² + σ²).
    raw_power: f64,
    /// Reference time (relative to the ZC-600 window) of G.
    tbar: f64,
    /// Noise variance of Y per carrier.
    noise_var: f64,
    /// Mean variance factor of the smoothed channel relative to σ² (v = Σw²/pilots).
    est_var: f64,
    /// Smoothing window used.
    taps: usize,
}

impl BurstDemodulator {
    /// Plans the FFT and allocates all scratch. `scrambler_first_1200` is c(0..1200) (0/1
    /// values), the content of the symbol-0 pilot.
    ///
    /// Panics if `scrambler_first_1200.len() < 1200` or a config value is outside its
    /// documented range.
    pub fn new(cfg: &DemodConfig, scrambler_first_1200: &[u8]) -> Self {
        assert!(
            scrambler_first_1200.len() >= BITS_PER_SYMBOL,
            "BurstDemodulator::new: need c(0..1200)"
        );
        assert!(
            (0..=200).contains(&cfg.max_int_cfo_subcarriers),
            "max_int_cfo_subcarriers out of 0..=200"
        );
        assert!(
            (8..=512).contains(&cfg.timing_search),
            "timing_search out of 8..=512"
        );
        assert!(
            cfg.timing_backoff + COARSE_EXTRA_BACKOFF < CP_SHORT,
            "timing_backoff must be < {}",
            CP_SHORT - COARSE_EXTRA_BACKOFF
        );
        let fft = FftPlanner::new().plan_fft_forward(N);
        let fft_scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        let x600 = zc_carriers(ZC_ROOT_FIRST);
        let x147 = zc_carriers(ZC_ROOT_SECOND);
        let mut x0 = [Complex32::new(0.0, 0.0); NC];
        qpsk_map(&scrambler_first_1200[..BITS_PER_SYMBOL], &mut x0);
        let mut q = [Complex32::new(0.0, 0.0); NC];
        for i in 0..NC {
            q[i] = x600[i].conj() * x147[i];
        }
        let pad = cfg.timing_search + cfg.timing_backoff + COARSE_EXTRA_BACKOFF + SLACK;
        let margin_left = (-REL[0]) as usize + pad;
        let buf_len = margin_left + REL[NSYM - 1] as usize + N + pad;
        let search_len = 2 * cfg.timing_search + 1;
        Self {
            cfg: cfg.clone(),
            fft,
            fft_scratch,
            x600,
            x147,
            x0,
            q,
            smoother: LocalLinearSmoother::new(),
            margin_left,
            buf: vec![Complex32::new(0.0, 0.0); buf_len],
            work: vec![Complex32::new(0.0, 0.0); buf_len],
            spec_a: vec![Complex32::new(0.0, 0.0); N],
            spec_b: vec![Complex32::new(0.0, 0.0); N],
            cp_prod: vec![Complex64::new(0.0, 0.0); search_len + CP_SHORT],
            cp_acc: vec![Complex64::new(0.0, 0.0); search_len],
            ycar: vec![[Complex32::new(0.0, 0.0); NC]; NSYM],
            hraw: [[Complex32::new(0.0, 0.0); NC]; 3],
            g: [Complex32::new(0.0, 0.0); NC],
            gs: [Complex32::new(0.0, 0.0); NC],
            ramp: [Complex32::new(0.0, 0.0); NC],
            hmod: [Complex32::new(0.0, 0.0); NC],
            valid_band_hz: (f64::NEG_INFINITY, f64::INFINITY),
            valid: [true; NC],
            resid: vec![[0.0; NC]; NSYM],
            weight: vec![[1.0; NC]; NSYM],
            sort_buf: Vec::with_capacity(NSYM * NC),
            keep_equalised: false,
            equalised: Vec::new(),
        }
    }

    /// Sets the band that the input slice really holds, `lo_hz < f < hi_hz` relative to its
    /// 0 Hz (before any CFO correction): carriers of a burst that fall outside it (a capture
    /// narrower than the burst, or a burst beyond the edge of a wideband capture) are erasures,
    /// and noise and SNR are estimated on the others. Default: the whole band. Stays in force
    /// for later calls.
    pub fn set_valid_band(&mut self, lo_hz: f64, hi_hz: f64) {
        self.valid_band_hz = (lo_hz, hi_hz);
    }

    /// The configuration in use.
    pub fn config(&self) -> &DemodConfig {
        &self.cfg
    }

    /// Demodulates one burst. See the module docs for the conventions. On failure `out.llrs`
    /// is all zero and `out.zc_metric` tells how close it came.
    pub fn demodulate(
        &mut self,
        samples: &[Complex32],
        zc600_hint: f64,
        out: &mut DemodResult,
    ) -> Result<(), DemodFailure> {
        out.reset();
        if !zc600_hint.is_finite() || zc600_hint.abs() > 1e15 {
            return Err(DemodFailure::OutOfRange);
        }
        let fs = BASE_SAMPLE_RATE_HZ;
        let base = zc600_hint.floor() as i64 - self.margin_left as i64;
        self.load(samples, base);
        let len = samples.len() as i64;
        let in_range = |w: usize| -> bool {
            let a = base + w as i64;
            a >= 0 && a + N as i64 <= len
        };

        // 2. Coarse timing and fractional CFO from the cyclic prefixes.
        let u_nom = self.margin_left;
        let (d_hat, c_cp) = self.cp_timing(u_nom);
        let f_frac = if c_cp.norm() > 0.0 {
            c_cp.arg() * fs / (2.0 * PI * N as f64)
        } else {
            0.0
        };
        let u_c = (u_nom as isize + d_hat) as usize;

        // 3. Integer CFO from the joint ZC metric.
        let wz = u_c - self.cfg.timing_backoff - COARSE_EXTRA_BACKOFF;
        let wz2 = wz + ZC_SPACING;
        if !in_range(wz) || !in_range(wz2) {
            return Err(DemodFailure::OutOfRange);
        }
        rotate(&self.buf[wz..wz + N], &mut self.spec_a, wz, f_frac / fs);
        rotate(&self.buf[wz2..wz2 + N], &mut self.spec_b, wz2, f_frac / fs);
        self.fft
            .process_with_scratch(&mut self.spec_a, &mut self.fft_scratch);
        self.fft
            .process_with_scratch(&mut self.spec_b, &mut self.fft_scratch);
        let (m, best, second) = zc_pair_search(
            &self.spec_a,
            &self.spec_b,
            &self.q,
            // One extra subcarrier each side: near ±(M·15 + 7.5) kHz the fractional estimate
            // may wrap to the other side, which moves the integer part to ±(M + 1).
            self.cfg.max_int_cfo_subcarriers + 1,
        );
        out.zc_metric = best;
        out.zc_runner_up = second;
        out.int_cfo_subcarriers = m;
        if best.is_nan() || best < self.cfg.min_zc_metric {
            return Err(DemodFailure::NoZcPair);
        }

        // 4. Total CFO correction over the whole buffer; carriers outside the captured band.
        let f_tot = f_frac + m as f64 * SUBCARRIER_SPACING_HZ;
        rotate(&self.buf, &mut self.work, 0, f_tot / fs);
        let (lo, hi) = self.valid_band_hz;
        let mut n_valid = 0;
        for i in 0..NC {
            let f = carrier_k(i) as f64 * SUBCARRIER_SPACING_HZ + f_tot;
            self.valid[i] = f > lo && f < hi;
            n_valid += self.valid[i] as usize;
        }
        out.erased_carriers = (NC - n_valid) as u16;
        if n_valid < MIN_VALID_CARRIERS {
            return Err(DemodFailure::NoZcPair);
        }

        // 5. Fine timing from the ZC channel phase slope.
        self.fft_carriers(wz, ZC600_SYM);
        self.fft_carriers(wz2, ZC147_SYM);
        for i in 0..NC {
            self.hraw[0][i] = self.ycar[ZC600_SYM][i] * self.x600[i].conj();
            self.hraw[1][i] = self.ycar[ZC147_SYM][i] * self.x147[i].conj();
        }
        let tau = fine_delay(&self.hraw[..2]);
        let u_f = wz as f64 + tau;
        let w3 = (u_f.round() as isize - self.cfg.timing_backoff as isize)
            .clamp(-REL[0], (self.work.len() - N) as isize - REL[NSYM - 1])
            as usize;
        let tau_w = u_f - w3 as f64;
        let win = |s: usize| (w3 as isize + REL[s]) as usize;
        if !in_range(win(ZC600_SYM)) || !in_range(win(ZC147_SYM)) {
            return Err(DemodFailure::OutOfRange);
        }
        let mut valid = [false; NSYM];
        for s in 0..NSYM {
            valid[s] = in_range(win(s));
            if valid[s] {
                self.fft_carriers(win(s), s);
            }
        }

        // 6. Pilot model from the two ZC symbols (fixed smoothing: only used to detect symbol 0
        //    unless the burst turns out to have 8 symbols).
        let mut fit = self.fit(false, tau_w, false);
        // 7. Symbol-0 pilot detection.
        let mut format = BurstFormat::Eight;
        out.symbol0_checked = valid[SYM0];
        if valid[SYM0] {
            self.model_channel(&fit, SYM0);
            let (mut num, mut den) = (Complex64::new(0.0, 0.0), 0.0f64);
            for i in (0..NC).filter(|&i| self.valid[i]) {
                let h = self.hmod[i];
                let z = self.ycar[SYM0][i] * self.x0[i].conj() * h.conj();
                num += Complex64::new(z.re as f64, z.im as f64);
                den += h.norm_sqr() as f64;
            }
            let metric = if den > 0.0 { num.norm() / den } else { 0.0 };
            out.symbol0_metric = metric as f32;
            if metric >= self.cfg.symbol0_threshold as f64 {
                format = BurstFormat::Nine;
            }
        }
        if format == BurstFormat::Nine || self.cfg.adaptive_smoothing {
            fit = self.fit(
                format == BurstFormat::Nine,
                tau_w,
                self.cfg.adaptive_smoothing,
            );
        }

        // 8. Noise, SNR, soft demap.
        let noise_var = fit
            .noise_var
            .max(NOISE_FLOOR_REL * fit.raw_power)
            .max(1e-30);
        // Raw pilot power is |G|² + σ² per carrier: unbiased whatever the smoothing does.
        let sig = (fit.raw_power - noise_var).max(0.0) * NC as f64;
        let snr = sig / ((NC + 1) as f64 * noise_var);
        // Mismatched-channel demap: Y = Ĥx + (n − e·x), so the effective noise variance is
        // σ²(1 + v) with v the relative variance of the channel estimate.
        let scale = (2.0 * std::f64::consts::SQRT_2 / (noise_var * (1.0 + fit.est_var))) as f32;
        if self.cfg.carrier_reliability {
            out.downweighted_cells = self.reliability(&fit, format, &valid);
        } else {
            for w in self.weight.iter_mut() {
                w.fill(1.0);
            }
        }
        for s in 0..NSYM {
            let Some(b) = BLOCK[s] else { continue };
            if !valid[s] {
                out.erased_blocks |= 1 << b;
                continue;
            }
            self.model_channel(&fit, s);
            let llr = &mut out.llrs[b * BITS_PER_SYMBOL..(b + 1) * BITS_PER_SYMBOL];
            for i in 0..NC {
                if !self.valid[i] {
                    llr[2 * i] = 0.0;
                    llr[2 * i + 1] = 0.0;
                    continue;
                }
                let z = self.ycar[s][i] * self.hmod[i].conj() * (scale * self.weight[s][i]);
                llr[2 * i] = z.re;
                llr[2 * i + 1] = z.im;
            }
        }
        out.sco_ppm = (fit.eps * 1e6) as f32;
        out.format = format;
        out.zc600_start = base as f64 + u_f;
        out.burst_start = out.zc600_start - format.zc_first_useful_offset() as f64;
        out.cfo_hz = f_tot + fit.omega * fs / (2.0 * PI);
        out.snr_db = (10.0 * snr.log10()) as f32;
        out.noise_var = noise_var as f32;
        out.smoothing_taps = fit.taps as u16;
        if self.keep_equalised {
            self.equalise(&fit, &valid);
        }
        Ok(())
    }

    /// From now on (`on`), also keep the equalised data symbols of every burst that
    /// [`Self::demodulate`] accepts, for [`Self::equalised_symbols`] (≈ 3600 complex divisions
    /// per burst, into a buffer allocated here; no allocation per call). Off by default: the
    /// soft demap does not need them. `false` drops the buffer.
    pub fn keep_equalised(&mut self, on: bool) {
        self.keep_equalised = on;
        if on {
            self.equalised.reserve_exact(CODED_BITS / 2);
        } else {
            self.equalised = Vec::new();
        }
    }

    /// The equalised data symbols `Y/Ĥ` of the last burst that [`Self::demodulate`] accepted
    /// (returned `Ok`) while [`Self::keep_equalised`] was on; a failed call leaves them as they
    /// were, and they are empty before the first. Data symbols in transmission order (blocks
    /// 0..6), within each the carriers from the lowest frequency up, leaving out erased blocks
    /// (windows outside `samples`, see [`DemodResult::erased_blocks`]), carriers outside the
    /// captured band and carriers whose channel estimate is 0: 3600 points for a whole burst
    /// inside the band.
    ///
    /// `Ĥ` is the channel model of the soft demap, in the scale of the transmitted symbols, so
    /// the points lie near the ideal QPSK points (±1 ± j)/√2 whatever the carrier's gain: a
    /// faded carrier is noisier, not smaller. The reliability weights are not applied.
    pub fn equalised_symbols(&self) -> &[Complex32] {
        &self.equalised
    }

    /// `Y/Ĥ` of every data cell into `equalised` (see [`Self::equalised_symbols`]).
    fn equalise(&mut self, fit: &PilotFit, sym_valid: &[bool; NSYM]) {
        self.equalised.clear();
        for s in 0..NSYM {
            if BLOCK[s].is_none() || !sym_valid[s] {
                continue;
            }
            self.model_channel(fit, s);
            for i in 0..NC {
                let h = self.hmod[i];
                let p = h.norm_sqr();
                if !self.valid[i] || !p.is_normal() {
                    continue;
                }
                let z = self.ycar[s][i] * h.conj() / p;
                if z.re.is_finite() && z.im.is_finite() {
                    self.equalised.push(z);
                }
            }
        }
    }

    /// Per-cell LLR weights into `weight` from the residuals `Y − Ĥ·x̂` (pilots against their
    /// known values, data against the hard decision), see `DemodConfig::carrier_reliability`.
    /// A cell's weight is `1 / excess` where its carrier's residual over the whole burst, or
    /// its symbol's residual over ±`REL_HALF_WINDOW` carriers, exceeds the burst's typical
    /// (median) level by more than the threshold; otherwise 1. Returns the number of data
    /// cells weighted down.
    fn reliability(
        &mut self,
        fit: &PilotFit,
        format: BurstFormat,
        sym_valid: &[bool; NSYM],
    ) -> u16 {
        self.sort_buf.clear();
        let mut used = [false; NSYM];
        for s in 0..NSYM {
            // What the symbol carries: 0 = ZC-600, 1 = ZC-147, 2 = symbol-0 pilot, 3 = data.
            let kind = match s {
                ZC600_SYM => 0,
                ZC147_SYM => 1,
                SYM0 if format == BurstFormat::Nine => 2,
                _ if BLOCK[s].is_some() => 3,
                _ => continue,
            };
            if !sym_valid[s] {
                continue;
            }
            self.model_channel(fit, s);
            for i in 0..NC {
                if !self.valid[i] {
                    self.resid[s][i] = 0.0;
                    continue;
                }
                let y = self.ycar[s][i];
                let h = self.hmod[i];
                let x = match kind {
                    0 => self.x600[i],
                    1 => self.x147[i],
                    2 => self.x0[i],
                    _ => {
                        let z = y * h.conj();
                        Complex32::new(QPSK_AMPLITUDE.copysign(z.re), QPSK_AMPLITUDE.copysign(z.im))
                    }
                };
                let r = (y - h * x).norm_sqr();
                let r = if r.is_finite() { r } else { f32::MAX };
                self.resid[s][i] = r;
                self.sort_buf.push(r);
            }
            used[s] = true;
        }
        for w in self.weight.iter_mut() {
            w.fill(1.0);
        }
        if self.sort_buf.is_empty() {
            return 0;
        }
        // Typical level: the median residual as a mean (Exp(1): median = ln 2 · mean).
        let mid = self.sort_buf.len() / 2;
        let (_, median, _) = self
            .sort_buf
            .select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
        let typical = *median / std::f32::consts::LN_2;
        if !(typical.is_finite() && typical > 0.0) {
            return 0;
        }
        let inv = 1.0 / typical;
        let n_used = used.iter().filter(|&&u| u).count() as f32;
        let mut column = [0.0f32; NC];
        for (i, c) in column.iter_mut().enumerate() {
            let sum: f32 = (0..NSYM)
                .filter(|&s| used[s])
                .map(|s| self.resid[s][i])
                .sum();
            *c = sum * inv / n_used;
        }
        let mut downweighted = 0u16;
        // Prefix sums over carriers (values and counts of carriers in the band) per symbol.
        let mut psum = [0.0f32; NC + 1];
        let mut pcnt = [0u16; NC + 1];
        for s in 0..NSYM {
            if !used[s] || BLOCK[s].is_none() {
                continue;
            }
            for i in 0..NC {
                let v = self.valid[i];
                psum[i + 1] = psum[i] + if v { self.resid[s][i] * inv } else { 0.0 };
                pcnt[i + 1] = pcnt[i] + v as u16;
            }
            for i in 0..NC {
                if !self.valid[i] {
                    continue;
                }
                let a = i.saturating_sub(REL_HALF_WINDOW);
                let b = (i + REL_HALF_WINDOW + 1).min(NC);
                let cnt = (pcnt[b] - pcnt[a]).max(1) as f32;
                let win = (psum[b] - psum[a]) / cnt;
                let mut excess = 1.0f32;
                if column[i] > REL_COLUMN_THRESHOLD {
                    excess = excess.max(column[i]);
                }
                if win > REL_WINDOW_THRESHOLD {
                    excess = excess.max(win);
                }
                if excess > 1.0 {
                    self.weight[s][i] = 1.0 / excess;
                    downweighted += 1;
                }
            }
        }
        downweighted
    }

    /// Copies `samples[base..base + buf.len()]` into `buf`, zero outside the slice.
    fn load(&mut self, samples: &[Complex32], base: i64) {
        let len = samples.len() as i64;
        let blen = self.buf.len() as i64;
        self.buf.fill(Complex32::new(0.0, 0.0));
        let lo = base.max(0);
        let hi = (base + blen).min(len);
        if hi > lo {
            let dst = (lo - base) as usize;
            let valid = &mut self.buf[dst..dst + (hi - lo) as usize];
            valid.copy_from_slice(&samples[lo as usize..hi as usize]);
            if self.cfg.remove_dc {
                // Only a clear DC offset is removed: subtracting the chance mean of a clean
                // burst would itself put a −10 dB tone on one carrier.
                droneid_dsp::remove_significant_dc(valid, DC_SIGNIFICANCE);
            }
        }
    }

    /// CP correlation over symbols 1..9 (9-symbol layout) for timing offsets ±timing_search
    /// around `u_nom` (buffer index of the nominal ZC-600 useful start). Returns the best
    /// offset and its correlation.
    fn cp_timing(&mut self, u_nom: usize) -> (isize, Complex64) {
        let d = self.cfg.timing_search as isize;
        self.cp_acc.fill(Complex64::new(0.0, 0.0));
        for s in 1..NSYM {
            let a0 = u_nom as isize + REL[s] - CP_SHORT as isize - d;
            let a0 = a0 as usize;
            for (j, p) in self.cp_prod.iter_mut().enumerate() {
                let x = self.buf[a0 + j];
                let y = self.buf[a0 + j + N];
                let z = x.conj() * y;
                *p = Complex64::new(z.re as f64, z.im as f64);
            }
            let mut run: Complex64 = self.cp_prod[..CP_SHORT].iter().sum();
            for k in 0..self.cp_acc.len() {
                self.cp_acc[k] += run;
                if k + CP_SHORT < self.cp_prod.len() {
                    run += self.cp_prod[k + CP_SHORT] - self.cp_prod[k];
                }
            }
        }
        let mut best = 0;
        let mut best_v = -1.0;
        for (k, c) in self.cp_acc.iter().enumerate() {
            let v = c.norm_sqr();
            if v > best_v {
                best_v = v;
                best = k;
            }
        }
        (best as isize - d, self.cp_acc[best])
    }

    /// FFT of `work[w..w+1024]`; its 600 carriers go to `ycar[slot]`.
    fn fft_carriers(&mut self, w: usize, slot: usize) {
        self.spec_a.copy_from_slice(&self.work[w..w + N]);
        self.fft
            .process_with_scratch(&mut self.spec_a, &mut self.fft_scratch);
        for i in 0..NC {
            self.ycar[slot][i] = self.spec_a[carrier_bin(i, N)];
        }
    }

    /// Channel model of symbol `s` into `hmod`:
    /// `G(k)·exp(jω(t_s − t̄))·exp(−j2πk(τ_w + ε(t_s − t̄))/N)`.
    fn model_channel(&mut self, fit: &PilotFit, s: usize) {
        let dt = REL[s] as f64 - fit.tbar;
        let ph = fit.omega * dt;
        let rot = Complex32::new(ph.cos() as f32, ph.sin() as f32);
        fill_ramp(-(fit.tau_w + fit.eps * dt), &mut self.ramp);
        for i in 0..NC {
            self.hmod[i] = self.gs[i] * rot * self.ramp[i];
        }
    }

    /// Raw pilot estimates `Y·conj(X)·exp(+j2πkτ_p/N)` (timing ramp removed) for the pilots.
    fn load_pilots(&mut self, np: usize, tau_w: f64, eps: f64, tbar: f64) {
        for p in 0..np {
            let (s, x) = match p {
                0 => (ZC600_SYM, &self.x600),
                1 => (ZC147_SYM, &self.x147),
                _ => (SYM0, &self.x0),
            };
            fill_ramp(tau_w + eps * (REL[s] as f64 - tbar), &mut self.ramp);
            for i in 0..NC {
                self.hraw[p][i] = self.ycar[s][i] * x[i].conj() * self.ramp[i];
            }
        }
    }

    /// Fits the pilot model from the ZC pair, plus symbol 0 if `with_sym0`: residual CFO ω,
    /// sample-clock offset ε (shrunk towards 0 by its estimated variance), channel G smoothed
    /// into `gs` (adaptive window if `adaptive`), noise variance from the pilot spread.
    fn fit(&mut self, with_sym0: bool, tau_w: f64, adaptive: bool) -> PilotFit {
        let np = if with_sym0 { 3 } else { 2 };
        let times = [
            REL[ZC600_SYM] as f64,
            REL[ZC147_SYM] as f64,
            REL[SYM0] as f64,
        ];
        let tbar = times[..np].iter().sum::<f64>() / np as f64;
        // Pass A without clock offset, fixed smoothing; pass B with the estimated offset.
        self.load_pilots(np, tau_w, 0.0, tbar);
        let omega = self.estimate_omega(np, &times);
        let (_, noise_a) = self.average_pilots(np, omega, &times, tbar);
        self.smoother
            .smooth(self.cfg.smoothing_taps, &self.g, &mut self.gs);
        let eps = self.estimate_sco(np, &times, tbar, noise_a);
        if eps != 0.0 {
            self.load_pilots(np, tau_w, eps, tbar);
        }
        let omega = self.estimate_omega(np, &times);
        let (raw_power, resid) = self.average_pilots(np, omega, &times, tbar);
        let (taps, wmean) = if adaptive {
            self.smoother
                .smooth_adaptive(&ADAPTIVE_TAPS, &self.g, &mut self.gs)
        } else {
            let t = self.cfg.smoothing_taps;
            (t, self.smoother.smooth(t, &self.g, &mut self.gs))
        };
        PilotFit {
            omega,
            eps,
            tau_w,
            tbar,
            noise_var: resid,
            raw_power,
            est_var: wmean / np as f64,
            taps,
        }
    }

    /// Residual CFO (rad/sample) from the pilot phase differences: ZC pair, then a
    /// least-squares line through all three pilot phases when symbol 0 is used.
    fn estimate_omega(&self, np: usize, times: &[f64; 3]) -> f64 {
        let cross = |a: &[Complex32; NC], b: &[Complex32; NC]| -> Complex64 {
            let mut acc = Complex64::new(0.0, 0.0);
            for i in 0..NC {
                let z = a[i].conj() * b[i];
                acc += Complex64::new(z.re as f64, z.im as f64);
            }
            acc
        };
        let psi1 = cross(&self.hraw[0], &self.hraw[1]).arg();
        let omega_pair = psi1 / (times[1] - times[0]);
        if np < 3 {
            return omega_pair;
        }
        let raw0 = cross(&self.hraw[0], &self.hraw[2]).arg();
        let pred = omega_pair * (times[2] - times[0]);
        let psi0 = raw0 + 2.0 * PI * ((pred - raw0) / (2.0 * PI)).round();
        let ts = [0.0, times[1] - times[0], times[2] - times[0]];
        let ps = [0.0, psi1, psi0];
        let tm = ts.iter().sum::<f64>() / 3.0;
        let pm = ps.iter().sum::<f64>() / 3.0;
        let (mut num, mut den) = (0.0, 0.0);
        for j in 0..3 {
            num += (ts[j] - tm) * (ps[j] - pm);
            den += (ts[j] - tm) * (ts[j] - tm);
        }
        num / den
    }

    /// G = mean of the de-rotated pilots into `g`. Returns (mean raw power per carrier,
    /// noise variance from the spread around the mean).
    fn average_pilots(&mut self, np: usize, omega: f64, times: &[f64; 3], tbar: f64) -> (f64, f64) {
        let mut rots = [Complex32::new(0.0, 0.0); 3];
        for p in 0..np {
            let ph = -omega * (times[p] - tbar);
            rots[p] = Complex32::new(ph.cos() as f32, ph.sin() as f32);
        }
        let (mut resid, mut power) = (0.0f64, 0.0f64);
        let mut n_valid = 0usize;
        for i in 0..NC {
            if !self.valid[i] {
                self.g[i] = Complex32::new(0.0, 0.0);
                continue;
            }
            n_valid += 1;
            let mut acc = Complex32::new(0.0, 0.0);
            for p in 0..np {
                acc += self.hraw[p][i] * rots[p];
                power += self.hraw[p][i].norm_sqr() as f64;
            }
            let mean = acc / np as f32;
            for p in 0..np {
                resid += (self.hraw[p][i] * rots[p] - mean).norm_sqr() as f64;
            }
            self.g[i] = mean;
        }
        let n_valid = n_valid.max(1);
        (
            power / (n_valid * np) as f64,
            resid / (n_valid * (np - 1)) as f64,
        )
    }

    /// Sample-clock offset ε (timing drift per sample) from the phase slopes of the pilots
    /// against the smoothed mean channel, with Wiener-style shrinkage ε̂·ε̂²/(ε̂² + var ε̂): a
    /// noisy estimate (low SNR, where the drift does not matter) is hardly applied.
    fn estimate_sco(&self, np: usize, times: &[f64; 3], tbar: f64, noise_var: f64) -> f64 {
        let (mut num, mut den_t, mut var_num) = (0.0, 0.0, 0.0);
        for p in 0..np {
            let dt = times[p] - tbar;
            let mut sum = Complex64::new(0.0, 0.0);
            for i in 0..NC {
                let z = self.gs[i].conj() * self.hraw[p][i];
                sum += Complex64::new(z.re as f64, z.im as f64);
            }
            if sum.norm() <= 0.0 {
                return 0.0;
            }
            let phi = sum.conj() / sum.norm();
            let (mut skim, mut skk) = (0.0, 0.0);
            for i in 0..NC {
                let k = carrier_k(i) as f64;
                let z = self.gs[i].conj() * self.hraw[p][i];
                skim += k * (Complex64::new(z.re as f64, z.im as f64) * phi).im;
                skk += k * k * self.gs[i].norm_sqr() as f64;
            }
            if skk <= 0.0 {
                return 0.0;
            }
            // conj(G)·H_p ≈ |G|²·(1 + j·b·k): b is the pilot's phase slope (rad/subcarrier),
            // with variance σ²/(2·Σk²|G|²).
            num += (skim / skk) * dt;
            den_t += dt * dt;
            var_num += dt * dt * noise_var / (2.0 * skk);
        }
        if den_t <= 0.0 {
            return 0.0;
        }
        let scale = -(N as f64) / (2.0 * PI);
        let eps = scale * num / den_t;
        let var = scale * scale * var_num / (den_t * den_t);
        let shrunk = eps * eps * eps / (eps * eps + var);
        if shrunk.is_finite() {
            shrunk.clamp(-MAX_SCO, MAX_SCO)
        } else {
            0.0
        }
    }
}

/// `out[i] = exp(+j2π·k(i)·tau/N)`: multiplying by it removes a delay of `tau` samples.
fn fill_ramp(tau: f64, out: &mut [Complex32; NC]) {
    let w = 2.0 * PI * tau / N as f64;
    let step = Complex64::new(w.cos(), w.sin());
    let mut p = Complex64::from_polar(1.0, w * carrier_k(0) as f64);
    for i in 0..NC {
        if i == 300 {
            p *= step; // skip k = 0
        }
        out[i] = Complex32::new(p.re as f32, p.im as f32);
        p *= step;
    }
}

/// `dst[j] = src[j]·exp(−j2π·f_norm·(n0 + j))` (f_norm = f/Fs), phasor recomputed exactly every
/// 256 samples.
fn rotate(src: &[Complex32], dst: &mut [Complex32], n0: usize, f_norm: f64) {
    let w = -2.0 * PI * f_norm;
    let step = Complex64::new(w.cos(), w.sin());
    for (blk, (s, d)) in src.chunks(256).zip(dst.chunks_mut(256)).enumerate() {
        let ph = w * (n0 + blk * 256) as f64;
        let mut p = Complex64::new(ph.cos(), ph.sin());
        for (x, y) in s.iter().zip(d.iter_mut()) {
            let pf = Complex32::new(p.re as f32, p.im as f32);
            *y = x * pf;
            p *= step;
        }
    }
}

/// Joint ZC-pair integer-CFO search (fast form) over m ∈ −max_m..=max_m. `ya`, `yb`: full
/// 1024-bin spectra of the ZC-600 and ZC-147 windows (panics if shorter);
/// `q[i] = conj(X600_i)·X147_i`. Returns (best m, its normalised metric, best metric among the
/// other m). Tested against [`zc_pair_metric_reference`].
pub fn zc_pair_search(
    ya: &[Complex32],
    yb: &[Complex32],
    q: &[Complex32; NC],
    max_m: i32,
) -> (i32, f32, f32) {
    assert!(
        ya.len() >= N && yb.len() >= N,
        "zc_pair_search: spectra of 1024 bins"
    );
    let (ya, yb) = (&ya[..N], &yb[..N]);
    let mut best = (0, -1.0f32);
    let mut second = 0.0f32;
    for m in -max_m..=max_m {
        // Four independent accumulators (lets the CPU overlap the adds).
        let mut s = [Complex32::new(0.0, 0.0); 4];
        let mut ea = [0.0f32; 4];
        let mut eb = [0.0f32; 4];
        for (c, qc) in q.chunks_exact(4).enumerate() {
            for l in 0..4 {
                let i = 4 * c + l;
                let b = (carrier_bin(i, N) as i32 + m) as usize & (N - 1);
                let (a, y) = (ya[b], yb[b]);
                s[l] += a * y.conj() * qc[l];
                ea[l] += a.norm_sqr();
                eb[l] += y.norm_sqr();
            }
        }
        let s = (s[0] + s[1]) + (s[2] + s[3]);
        let ea = (ea[0] + ea[1]) + (ea[2] + ea[3]);
        let eb = (eb[0] + eb[1]) + (eb[2] + eb[3]);
        let den = (ea as f64 * eb as f64).sqrt();
        let v = if den > 0.0 {
            (s.norm() as f64 / den) as f32
        } else {
            0.0
        };
        if v > best.1 {
            second = second.max(best.1);
            best = (m, v);
        } else {
            second = second.max(v);
        }
    }
    (best.0, best.1.max(0.0), second)
}

/// Scalar reference of the joint ZC metric for one integer CFO `m`, straight from the
/// definition: `|Σ_i Y600[bin(i)+m]·conj(X600_i)·conj(Y147[bin(i)+m]·conj(X147_i))|
/// / sqrt(Σ|Y600[bin(i)+m]|²·Σ|Y147[bin(i)+m]|²)`, in f64.
pub fn zc_pair_metric_reference(ya: &[Complex32], yb: &[Complex32], m: i32) -> f64 {
    let x600 = zc_carriers(ZC_ROOT_FIRST);
    let x147 = zc_carriers(ZC_ROOT_SECOND);
    let c64 = |z: Complex32| Complex64::new(z.re as f64, z.im as f64);
    let mut s = Complex64::new(0.0, 0.0);
    let (mut ea, mut eb) = (0.0, 0.0);
    for i in 0..NC {
        let b = (carrier_bin(i, N) as i32 + m).rem_euclid(N as i32) as usize;
        let a = c64(ya[b]) * c64(x600[i]).conj();
        let c = c64(yb[b]) * c64(x147[i]).conj();
        s += a * c.conj();
        ea += c64(ya[b]).norm_sqr();
        eb += c64(yb[b]).norm_sqr();
    }
    let den = (ea * eb).sqrt();
    if den > 0.0 {
        s.norm() / den
    } else {
        0.0
    }
}

/// Delay (samples, relative to the FFT window start) of the centre of gravity of the channel,
/// from the phase slope of raw pilot estimates `h` (Y·conj(X)) across carriers: a coarse
/// estimate from lag-8 products (unambiguous ±64) refined with lag 32 (±16).
fn fine_delay(h: &[[Complex32; NC]]) -> f64 {
    let lag_sum = |lag: usize| -> Complex64 {
        let mut acc = Complex64::new(0.0, 0.0);
        for hp in h {
            for side in [0..300 - lag, 300..NC - lag] {
                for i in side {
                    let z = hp[i + lag] * hp[i].conj();
                    acc += Complex64::new(z.re as f64, z.im as f64);
                }
            }
        }
        acc
    };
    let s8 = lag_sum(8);
    let s32 = lag_sum(32);
    let per = |lag: f64| N as f64 / lag;
    let t8 = -s8.arg() * per(8.0) / (2.0 * PI);
    let t32 = -s32.arg() * per(32.0) / (2.0 * PI);
    // Choose the lag-32 alias closest to the lag-8 estimate.
    let p32 = per(32.0);
    t32 + p32 * ((t8 - t32) / p32).round()
}

#[cfg(test)]
#[path = "demod_tests.rs"]
pub(crate) mod tests;
