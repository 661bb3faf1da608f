//! Bursts with impairments, captures with noise, and ground truth.

use droneid_core::{
    BurstFormat, Complex32, Complex64, NUM_CARRIERS, OCCUPIED_BANDWIDTH_HZ, TRANSPORT_BLOCK_BYTES,
};
use droneid_payload::{parse_block, to_hex, MessageBody};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::impair::{ImpairmentRenderer, Impairments};
use crate::waveform::{path_extent, BurstRenderer, PathSpec, TimeAxis};
use crate::SynthError;

/// Noise power per complex sample (σ², I and Q each σ²/2) of every capture with noise.
///
/// The in-band noise power is therefore `NOISE_POWER · 9.015e6 / Fs`, and a burst with in-band
/// SNR `x` dB gets amplitude `A = sqrt(10^(x/10) · NOISE_POWER · 9.015e6 / Fs)` (unit bursts have
/// mean power 1.0, spec §2.5 scaling of `droneid-ofdm`).
pub const NOISE_POWER: f64 = 1.0;

/// Lowest output rate a capture may have, Hz (4 MS/s: narrow radios such as RTL-style front
/// ends). Below 15.36 MS/s no burst fits the band whole; see [`AntiAlias`].
pub const MIN_SAMPLE_RATE_HZ: f64 = 4.0e6;

/// Default rendering block length for [`render_to_vec`] and the CLI (samples).
pub const DEFAULT_BLOCK_LEN: usize = 1 << 16;

/// One burst in a capture.
///
/// Time convention: `start_sample` is the exact (fractional) position, at the capture's output
/// rate, of the first sample of the first cyclic prefix of the direct path — the instant where
/// the continuous-time burst begins. Output sample `n` sees burst time
/// `(n − start_sample)·(1 + ppm·1e-6)/Fs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstSpec {
    /// The 176-byte transport block (record + filler + CRC24A), spec §5.1.
    pub block: [u8; TRANSPORT_BLOCK_BYTES],
    /// 9- or 8-symbol layout (and the 8-symbol CP schedule).
    pub format: BurstFormat,
    /// Burst start in output samples (fractional allowed), see above.
    pub start_sample: f64,
    /// Channel offset: burst centre relative to the capture centre, Hz.
    pub freq_offset_hz: f64,
    /// Carrier frequency error, Hz. Mixed together with `freq_offset_hz`, reported separately.
    pub cfo_hz: f64,
    /// In-band SNR in dB (burst power over noise power in 9.015 MHz, before multipath taps).
    /// `None`: amplitude 1.0.
    pub snr_db: Option<f64>,
    /// Carrier phase at `start_sample`, radians.
    pub phase_rad: f64,
    /// Transmitter sample-clock error, ppm (positive: the burst is shorter on the output grid).
    pub sample_clock_ppm: f64,
    /// Multipath taps `(delay_s ≥ 0, complex gain)`. Empty = one direct path with gain 1. When
    /// non-empty the taps are the whole channel (include `(0.0, 1)` for a direct path); the
    /// delayed copies are `g·s(t − τ)` of the transmitted (mixed) signal, exact in continuous time.
    pub multipath: Vec<(f64, Complex64)>,
    /// Free label copied to the truth (the drone index in scenarios).
    pub drone: u32,
}

impl BurstSpec {
    /// A clean burst: given block, format and start, no offset, no noise scaling, no impairments.
    pub fn new(block: [u8; TRANSPORT_BLOCK_BYTES], format: BurstFormat, start_sample: f64) -> Self {
        Self {
            block,
            format,
            start_sample,
            freq_offset_hz: 0.0,
            cfo_hz: 0.0,
            snr_db: None,
            phase_rad: 0.0,
            sample_clock_ppm: 0.0,
            multipath: Vec::new(),
            drone: 0,
        }
    }

    /// Mixing frequency: channel offset plus CFO, Hz.
    pub fn total_freq_offset_hz(&self) -> f64 {
        self.freq_offset_hz + self.cfo_hz
    }

    /// Burst amplitude for the in-band SNR definition (see [`NOISE_POWER`]). `sample_rate_hz` is
    /// the capture's output rate (also for bursts rendered through the anti-alias filter).
    pub fn amplitude(&self, sample_rate_hz: f64) -> f64 {
        match self.snr_db {
            Some(snr) => (10f64.powf(snr / 10.0) * NOISE_POWER * OCCUPIED_BANDWIDTH_HZ
                / sample_rate_hz)
                .sqrt(),
            None => 1.0,
        }
    }

    fn paths(&self) -> Vec<(f64, Complex64)> {
        if self.multipath.is_empty() {
            vec![(0.0, Complex64::new(1.0, 0.0))]
        } else {
            self.multipath.clone()
        }
    }

    fn axis(&self, sample_rate_hz: f64) -> TimeAxis {
        TimeAxis {
            sample_rate_hz,
            sample_clock_ppm: self.sample_clock_ppm,
        }
    }

    /// Highest |frequency| the burst occupies: `|freq_offset_hz + cfo_hz| + 4.5075 MHz`.
    pub fn band_edge_hz(&self) -> f64 {
        self.total_freq_offset_hz().abs() + OCCUPIED_BANDWIDTH_HZ / 2.0
    }

    /// Fraction (0..=1) of the burst's 9.015 MHz occupied band that lies inside the captured band
    /// `±sample_rate_hz / 2`.
    pub fn in_band_fraction(&self, sample_rate_hz: f64) -> f64 {
        let c = self.total_freq_offset_hz();
        let half = OCCUPIED_BANDWIDTH_HZ / 2.0;
        let lo = (c - half).max(-sample_rate_hz / 2.0);
        let hi = (c + half).min(sample_rate_hz / 2.0);
        ((hi - lo) / OCCUPIED_BANDWIDTH_HZ).clamp(0.0, 1.0)
    }

    /// How this burst is rendered at `sample_rate_hz`: `None` when its whole band lies inside
    /// `±Fs/2` (exact band-limited evaluation at the output rate, no filter); otherwise the
    /// anti-alias decimator that renders it at `M·Fs` and filters it down (see [`AntiAlias`]).
    pub fn anti_alias(&self, sample_rate_hz: f64) -> Option<AntiAlias> {
        if self.band_edge_hz() <= sample_rate_hz / 2.0 {
            None
        } else {
            Some(AntiAlias::new(sample_rate_hz, self.band_edge_hz()))
        }
    }

    /// Output-sample range `[first, end)` touched by any path of this burst (including the
    /// anti-alias filter's tails when the burst reaches beyond `±Fs/2`).
    pub fn extent(&self, sample_rate_hz: f64) -> (i64, i64) {
        match self.anti_alias(sample_rate_hz) {
            None => self.direct_extent(sample_rate_hz),
            Some(aa) => {
                let (a, e) = self.scaled(aa.factor).direct_extent(aa.render_rate_hz());
                aa.output_extent(a, e)
            }
        }
    }

    /// This burst on a grid `factor` times finer (start scaled; everything else equal).
    fn scaled(&self, factor: usize) -> BurstSpec {
        let mut b = self.clone();
        b.start_sample *= factor as f64;
        b
    }

    fn direct_extent(&self, sample_rate_hz: f64) -> (i64, i64) {
        let axis = self.axis(sample_rate_hz);
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        for (delay, _) in self.paths() {
            let (a, b) = path_extent(
                self.format,
                &axis,
                self.start_sample + delay * sample_rate_hz,
            );
            lo = lo.min(a);
            hi = hi.max(b);
        }
        (lo, hi)
    }

    /// Checks every field; `index` names the burst in the error.
    pub fn validate(&self, index: usize, sample_rate_hz: f64) -> Result<(), SynthError> {
        let bad = |field: &str, reason: String| SynthError::Burst {
            index,
            field: field.to_string(),
            reason,
        };
        if !self.start_sample.is_finite() {
            return Err(bad("start_sample", "must be finite".into()));
        }
        if self.start_sample.abs() > 9.0e15 {
            return Err(bad("start_sample", "out of range".into()));
        }
        for (name, v) in [
            ("freq_offset_hz", self.freq_offset_hz),
            ("cfo_hz", self.cfo_hz),
            ("phase_rad", self.phase_rad),
        ] {
            if !v.is_finite() {
                return Err(bad(name, "must be finite".into()));
            }
        }
        if let Some(snr) = self.snr_db {
            if !snr.is_finite() || !(-100.0..=200.0).contains(&snr) {
                return Err(bad("snr_db", format!("{snr} is outside -100..=200 dB")));
            }
        }
        if !self.sample_clock_ppm.is_finite() || self.sample_clock_ppm.abs() > 1000.0 {
            return Err(bad(
                "sample_clock_ppm",
                format!("{} is outside -1000..=1000 ppm", self.sample_clock_ppm),
            ));
        }
        let max_offset = sample_rate_hz / 2.0 + OCCUPIED_BANDWIDTH_HZ;
        if self.total_freq_offset_hz().abs() > max_offset {
            return Err(bad(
                "freq_offset_hz",
                format!(
                    "|offset + cfo| = {:.0} Hz is more than Fs/2 + 9.015 MHz = {:.0} Hz (the burst must lie within one burst width of the captured band)",
                    self.total_freq_offset_hz().abs(),
                    max_offset
                ),
            ));
        }
        for (delay, gain) in &self.multipath {
            if !delay.is_finite() || !(0.0..=1e-3).contains(delay) {
                return Err(bad(
                    "multipath",
                    format!("delay {delay} s is outside 0..=1e-3 s"),
                ));
            }
            if !gain.re.is_finite() || !gain.im.is_finite() {
                return Err(bad("multipath", "gain must be finite".into()));
            }
        }
        Ok(())
    }

    /// Carrier vectors of every symbol (turbo-encodes and scrambles the block).
    pub fn carrier_symbols(&self) -> Vec<[Complex32; NUM_CARRIERS]> {
        let bits = droneid_fec::encode_and_scramble(&self.block);
        let scr = droneid_fec::scrambler::droneid_scrambler();
        droneid_ofdm::burst_carrier_symbols(self.format, &bits, &scr[..1200])
    }

    /// Renders this burst alone (no noise) at `sample_rate_hz`: returns the first output sample
    /// index and the samples of [`BurstSpec::extent`].
    pub fn render(
        &self,
        sample_rate_hz: f64,
        renderer: &mut BurstRenderer,
    ) -> (i64, Vec<Complex32>) {
        let symbols = self.carrier_symbols();
        self.render_symbols(&symbols, sample_rate_hz, renderer)
    }

    /// As [`BurstSpec::render`], with the carrier vectors given (e.g. arbitrary test content).
    pub fn render_symbols(
        &self,
        symbols: &[[Complex32; NUM_CARRIERS]],
        sample_rate_hz: f64,
        renderer: &mut BurstRenderer,
    ) -> (i64, Vec<Complex32>) {
        let amp = self.amplitude(sample_rate_hz);
        match self.anti_alias(sample_rate_hz) {
            None => {
                let (first, acc) = self.render_direct(symbols, sample_rate_hz, amp, renderer);
                let out = acc
                    .iter()
                    .map(|v| Complex32::new(v.re as f32, v.im as f32))
                    .collect();
                (first, out)
            }
            Some(aa) => {
                let fine = self.scaled(aa.factor);
                let (first, acc) = fine.render_direct(symbols, aa.render_rate_hz(), amp, renderer);
                aa.decimate(first, &acc)
            }
        }
    }

    /// Exact evaluation at `sample_rate_hz` (which must hold the whole burst band) with the given
    /// amplitude, mixed; f64 samples over [`BurstSpec::direct_extent`].
    fn render_direct(
        &self,
        symbols: &[[Complex32; NUM_CARRIERS]],
        sample_rate_hz: f64,
        amp: f64,
        renderer: &mut BurstRenderer,
    ) -> (i64, Vec<Complex64>) {
        let (first, end) = self.direct_extent(sample_rate_hz);
        let len = (end - first).max(0) as usize;
        let mut acc = vec![Complex64::new(0.0, 0.0); len];
        let axis = self.axis(sample_rate_hz);
        let f_mix = self.total_freq_offset_hz();
        let base = Complex64::from_polar(amp, self.phase_rad);
        for (delay, g) in self.paths() {
            // Delayed copy of the mixed signal: g · b(t − τ) · e^{j2πf(t − τ)}.
            let mix_phase = cis_cycles(-f_mix * delay);
            let path = PathSpec {
                start_sample: self.start_sample + delay * sample_rate_hz,
                gain: base * g * mix_phase,
            };
            renderer.add_burst_path(self.format, symbols, &axis, &path, first, &mut acc);
        }
        // Mixing, referenced to the direct-path start: e^{j2π f (n − n0)/Fs}.
        let cyc_per_sample = f_mix / sample_rate_hz;
        if f_mix != 0.0 {
            // Exact phase re-anchored every 256 samples, phasor recurrence in between.
            let rot = cis_cycles(cyc_per_sample);
            for (c, chunk) in acc.chunks_mut(256).enumerate() {
                let n = first + (c * 256) as i64;
                let x = (n as f64 - self.start_sample) * cyc_per_sample;
                let mut ph = cis_cycles(x);
                for v in chunk {
                    *v *= ph;
                    ph *= rot;
                }
            }
        }
        (first, acc)
    }
}

/// Passband edge of the anti-alias filter, as a fraction of the output rate: flat (ripple
/// < 0.003 dB) within `±0.48·Fs`.
pub const ANTI_ALIAS_PASSBAND: f64 = 0.48;
/// Stopband edge of the anti-alias filter, as a fraction of the output rate: at least
/// [`ANTI_ALIAS_ATTENUATION_DB`] down from `±0.5·Fs` (the output Nyquist frequency) outwards,
/// so nothing aliases into the captured band above that level.
pub const ANTI_ALIAS_STOPBAND: f64 = 0.5;
/// Stopband attenuation of the anti-alias filter, dB.
pub const ANTI_ALIAS_ATTENUATION_DB: f64 = 70.0;

/// The radio's anti-alias filter for a burst whose band reaches beyond `±Fs/2` (a narrow
/// capture, or a burst at the edge of a wideband one).
///
/// The burst is rendered exactly at `M·Fs` (`M` the smallest integer ≥ 2 whose Nyquist holds the
/// whole burst band, so nothing aliases there), low-pass filtered by a linear-phase Kaiser FIR
/// (unit DC gain, flat to [`ANTI_ALIAS_PASSBAND`]·Fs, ≥ [`ANTI_ALIAS_ATTENUATION_DB`] dB down from
/// [`ANTI_ALIAS_STOPBAND`]·Fs) and decimated by `M`: output sample `n` is the filtered signal at
/// fine-grid sample `M·n` (zero delay: the filter is centred), so burst times, starts and truth
/// stay exactly as at any other rate. Carriers between 0.48·Fs and 0.5·Fs are attenuated by the
/// transition; carriers beyond 0.5·Fs are gone.
#[derive(Debug, Clone, PartialEq)]
pub struct AntiAlias {
    /// Decimation factor `M` (≥ 2).
    pub factor: usize,
    /// Output rate `Fs`, Hz.
    pub output_rate_hz: f64,
    /// Symmetric taps at the fine rate, odd length `2H + 1`, `Σ h = 1`.
    taps: Vec<f64>,
}

impl AntiAlias {
    /// The filter for output rate `output_rate_hz` and a signal occupying `±band_edge_hz`.
    pub fn new(output_rate_hz: f64, band_edge_hz: f64) -> Self {
        let need = (2.0 * band_edge_hz / output_rate_hz - 1e-9).ceil();
        let factor = (need.max(2.0)) as usize;
        let m = factor as f64;
        let transition = (ANTI_ALIAS_STOPBAND - ANTI_ALIAS_PASSBAND) / m;
        let cutoff = 0.5 * (ANTI_ALIAS_STOPBAND + ANTI_ALIAS_PASSBAND) / m;
        // +1 dB over Kaiser's approximate length and β formulas.
        let atten = ANTI_ALIAS_ATTENUATION_DB as f32 + 1.0;
        let n = droneid_dsp::kaiser_num_taps(transition, atten) | 1;
        let beta = droneid_dsp::kaiser_beta_for_attenuation(atten) as f64;
        let taps = droneid_dsp::fir::design_lowpass_f64(n, cutoff, beta);
        Self {
            factor,
            output_rate_hz,
            taps,
        }
    }

    /// The fine rate the burst is rendered at, `M·Fs`.
    pub fn render_rate_hz(&self) -> f64 {
        self.factor as f64 * self.output_rate_hz
    }

    /// The filter taps (fine rate, symmetric, odd length, unit DC gain).
    pub fn taps(&self) -> &[f64] {
        &self.taps
    }

    fn half(&self) -> i64 {
        (self.taps.len() / 2) as i64
    }

    /// Output range `[first, end)` touched by fine-grid samples `[a, e)`.
    pub fn output_extent(&self, a: i64, e: i64) -> (i64, i64) {
        if e <= a {
            return (
                a.div_euclid(self.factor as i64),
                a.div_euclid(self.factor as i64),
            );
        }
        let m = self.factor as i64;
        let h = self.half();
        let lo = (a - h + m - 1).div_euclid(m);
        let hi = (e - 1 + h).div_euclid(m);
        (lo, hi + 1)
    }

    /// Filters and decimates fine-grid samples `x` (element 0 is fine sample `first`): returns
    /// the first output sample index and the outputs over [`AntiAlias::output_extent`].
    pub fn decimate(&self, first: i64, x: &[Complex64]) -> (i64, Vec<Complex32>) {
        let m = self.factor as i64;
        let h = self.half();
        let end = first + x.len() as i64;
        let (lo, hi) = self.output_extent(first, end);
        let mut out = Vec::with_capacity((hi - lo).max(0) as usize);
        for n in lo..hi {
            // y[n] = Σ_i h[i] · x[M·n − H + i]
            let base = m * n - h;
            let i0 = (first - base).max(0);
            let i1 = (end - base).min(self.taps.len() as i64);
            let mut acc = Complex64::new(0.0, 0.0);
            if i0 < i1 {
                let xs = &x[(base + i0 - first) as usize..(base + i1 - first) as usize];
                for (t, v) in self.taps[i0 as usize..i1 as usize].iter().zip(xs) {
                    acc += v * *t;
                }
            }
            out.push(Complex32::new(acc.re as f32, acc.im as f32));
        }
        (lo, out)
    }
}

#[inline]
fn cis_cycles(c: f64) -> Complex64 {
    let r = c - c.round();
    let (s, co) = (std::f64::consts::TAU * r).sin_cos();
    Complex64::new(co, s)
}

/// A whole capture: rate, length, noise and bursts.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureSpec {
    /// Output sample rate, Hz ([`MIN_SAMPLE_RATE_HZ`]..=20e9, any value). Bursts whose band
    /// reaches beyond `±Fs/2` go through the anti-alias filter ([`AntiAlias`]).
    pub sample_rate_hz: f64,
    /// Capture centre frequency (metadata and truth only).
    pub center_freq_hz: Option<f64>,
    /// Number of output samples.
    pub total_samples: u64,
    /// Add complex white Gaussian noise of power [`NOISE_POWER`] per sample.
    pub noise: bool,
    /// The bursts (any order; may overlap in time and frequency).
    pub bursts: Vec<BurstSpec>,
    /// Seed of the noise (ChaCha8). The noise of sample `n` depends only on `seed` and `n`.
    pub seed: u64,
}

impl CaptureSpec {
    /// Checks the rate and every burst.
    pub fn validate(&self) -> Result<(), SynthError> {
        let fs = self.sample_rate_hz;
        if !(MIN_SAMPLE_RATE_HZ..=20e9).contains(&fs) {
            return Err(SynthError::SampleRate { value: fs });
        }
        if let Some(c) = self.center_freq_hz {
            if !c.is_finite() {
                return Err(SynthError::CenterFreq { value: c });
            }
        }
        for (i, b) in self.bursts.iter().enumerate() {
            b.validate(i, fs)?;
        }
        Ok(())
    }
}

/// One multipath tap as written to the truth file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthTap {
    /// Delay, seconds.
    pub delay_s: f64,
    /// Complex gain, real part.
    pub gain_re: f64,
    /// Complex gain, imaginary part.
    pub gain_im: f64,
}

/// Ground truth of one burst (one line of `PATH.truth.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthRecord {
    /// Index of the burst in [`CaptureSpec::bursts`].
    pub burst_index: usize,
    /// [`BurstSpec::drone`].
    pub drone: u32,
    /// `round(start_sample_exact)`: index of the output sample nearest to the start of the first
    /// cyclic prefix (what `droneid decode` reports as `start_sample`).
    pub start_sample: i64,
    /// Exact fractional start of the first cyclic prefix, output samples.
    pub start_sample_exact: f64,
    /// `start_sample_exact / sample_rate_hz`.
    pub time_s: f64,
    /// Burst duration on the output grid, samples (fractional; includes the ppm scaling).
    pub length_samples: f64,
    /// Output sample rate.
    pub sample_rate_hz: f64,
    /// Channel offset, Hz (excludes the CFO).
    pub freq_offset_hz: f64,
    /// Carrier frequency error, Hz.
    pub cfo_hz: f64,
    /// `freq_offset_hz + cfo_hz`: what a receiver measures as the burst's offset.
    pub total_freq_offset_hz: f64,
    /// `capture centre + total_freq_offset_hz` when the capture centre is known.
    pub center_freq_hz: Option<f64>,
    /// In-band SNR, dB: as requested, or the SNR that amplitude 1 gives when the capture has
    /// noise; `null` without noise.
    pub snr_db: Option<f64>,
    /// Linear amplitude applied to the unit-power burst.
    pub amplitude: f64,
    /// Carrier phase at the start, radians.
    pub phase_rad: f64,
    /// 9 or 8.
    pub symbols: u8,
    /// `"nine"`, `"kz"` (8-symbol, CPs [72×7, 80]) or `"rub"` (8-symbol, CPs [80, 72×6, 80]).
    pub cp_schedule: &'static str,
    /// Byte 1 of the block.
    pub msg_type: u8,
    /// Message bytes (length byte through CRC16), lower-case hex.
    pub message_hex: String,
    /// All 176 block bytes, lower-case hex.
    pub block_hex: String,
    /// Serial number for 0x10/0x11 messages.
    pub serial_number: Option<String>,
    /// Sequence number for 0x10 messages.
    pub sequence_number: Option<u16>,
    /// Message CRC16 valid (as built).
    pub crc16_ok: bool,
    /// Sample-clock error, ppm.
    pub sample_clock_ppm: f64,
    /// Multipath taps (empty = direct path only).
    pub multipath: Vec<TruthTap>,
    /// Fraction (0..=1) of the burst's 9.015 MHz occupied band inside the captured band ±Fs/2.
    pub in_band_fraction: f64,
}

/// Name of the CP schedule used in truth and the CLI.
pub fn cp_schedule_name(format: BurstFormat) -> &'static str {
    match format {
        BurstFormat::Nine => "nine",
        BurstFormat::Eight => "kz",
        BurstFormat::EightLongFirstCp => "rub",
    }
}

impl TruthRecord {
    /// Ground truth of burst `index` of `spec`.
    pub fn new(spec: &CaptureSpec, index: usize) -> Self {
        let b = &spec.bursts[index];
        let fs = spec.sample_rate_hz;
        let parsed = parse_block(&b.block);
        let sequence_number = match &parsed.body {
            MessageBody::Telemetry(f) => Some(f.sequence_number),
            _ => None,
        };
        let amplitude = b.amplitude(fs);
        let snr_db = match (b.snr_db, spec.noise) {
            (Some(s), _) => Some(s),
            (None, true) => Some(10.0 * (fs / (NOISE_POWER * OCCUPIED_BANDWIDTH_HZ)).log10()),
            (None, false) => None,
        };
        let axis = TimeAxis {
            sample_rate_hz: fs,
            sample_clock_ppm: b.sample_clock_ppm,
        };
        TruthRecord {
            burst_index: index,
            drone: b.drone,
            start_sample: b.start_sample.round() as i64,
            start_sample_exact: b.start_sample,
            time_s: b.start_sample / fs,
            length_samples: axis.burst_len_out(b.format),
            sample_rate_hz: fs,
            freq_offset_hz: b.freq_offset_hz,
            cfo_hz: b.cfo_hz,
            total_freq_offset_hz: b.total_freq_offset_hz(),
            center_freq_hz: spec.center_freq_hz.map(|c| c + b.total_freq_offset_hz()),
            snr_db,
            amplitude,
            phase_rad: b.phase_rad,
            symbols: b.format.num_symbols() as u8,
            cp_schedule: cp_schedule_name(b.format),
            msg_type: parsed.msg_type,
            message_hex: to_hex(&parsed.message),
            block_hex: to_hex(&b.block),
            serial_number: parsed.serial_number().map(str::to_string),
            sequence_number,
            crc16_ok: parsed.crc16_ok,
            sample_clock_ppm: b.sample_clock_ppm,
            multipath: b
                .multipath
                .iter()
                .map(|(d, g)| TruthTap {
                    delay_s: *d,
                    gain_re: g.re,
                    gain_im: g.im,
                })
                .collect(),
            in_band_fraction: b.in_band_fraction(fs),
        }
    }
}

/// Complex white Gaussian noise whose value at sample `n` depends only on the seed and `n`
/// (ChaCha8, 3 words per sample, Box–Muller with a 53-bit radius uniform and a 32-bit angle),
/// so output does not depend on the block length.
#[derive(Debug, Clone)]
pub struct NoiseSource {
    rng: ChaCha8Rng,
    power: f64,
}

impl NoiseSource {
    /// Noise of power `power` per complex sample.
    pub fn new(seed: u64, power: f64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            power,
        }
    }

    /// Adds the noise of samples `first..first + out.len()` to `out`.
    pub fn add(&mut self, first: u64, out: &mut [Complex32]) {
        self.rng.set_word_pos(3 * first as u128);
        for v in out.iter_mut() {
            let a = self.rng.next_u64();
            let b = self.rng.next_u32();
            // u1 ∈ (0, 1]: never 0, so ln is finite.
            let u1 = ((a >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64);
            let r = (-self.power * u1.ln()).sqrt() as f32;
            let theta = b as f32 * (std::f32::consts::TAU / 4_294_967_296.0);
            let (s, c) = theta.sin_cos();
            v.re += r * c;
            v.im += r * s;
        }
    }
}

/// Streams a capture to `sink` in blocks of `block_len` samples (the last one shorter) and
/// returns the truth, one record per burst, sorted by start.
///
/// Memory is bounded by one block plus the bursts overlapping it, so captures of any length can
/// be written. Output is a deterministic function of `spec` (independent of `block_len`).
/// An invalid `spec` is reported as `E::from(SynthError)` before `sink` is first called.
pub fn render_capture<E: From<SynthError>>(
    spec: &CaptureSpec,
    block_len: usize,
    sink: &mut dyn FnMut(&[Complex32]) -> Result<(), E>,
) -> Result<Vec<TruthRecord>, E> {
    render_capture_with(spec, &Impairments::default(), block_len, sink)
}

/// [`render_capture`] with real-air impairments added after the bursts and the noise (see
/// [`Impairments`] for the chain and what each level means). With `Impairments::default()` the
/// output is exactly [`render_capture`]'s. Both `spec` and `impairments` are checked before
/// `sink` is first called.
pub fn render_capture_with<E: From<SynthError>>(
    spec: &CaptureSpec,
    impairments: &Impairments,
    block_len: usize,
    sink: &mut dyn FnMut(&[Complex32]) -> Result<(), E>,
) -> Result<Vec<TruthRecord>, E> {
    spec.validate()?;
    impairments.validate(spec.sample_rate_hz)?;
    let mut chain = (!impairments.is_empty())
        .then(|| ImpairmentRenderer::new(impairments, spec.sample_rate_hz, spec.seed));
    if block_len == 0 {
        return Err(SynthError::BlockLen.into());
    }
    let fs = spec.sample_rate_hz;
    let total = spec.total_samples;
    let mut order: Vec<(i64, i64, usize)> = spec
        .bursts
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (a, e) = b.extent(fs);
            (a, e, i)
        })
        .collect();
    order.sort_by_key(|&(a, _, i)| (a, i));

    let mut renderer = BurstRenderer::new();
    let mut noise = spec.noise.then(|| NoiseSource::new(spec.seed, NOISE_POWER));
    let mut active: Vec<(i64, Vec<Complex32>)> = Vec::new();
    let mut next = 0usize;
    let mut buf = vec![Complex32::new(0.0, 0.0); block_len.min(total as usize).max(1)];
    let mut pos = 0u64;
    while pos < total {
        let n = ((total - pos) as usize).min(block_len);
        let block = &mut buf[..n];
        block.fill(Complex32::new(0.0, 0.0));
        if let Some(ns) = noise.as_mut() {
            ns.add(pos, block);
        }
        let b0 = pos as i64;
        let b1 = b0 + n as i64;
        while next < order.len() && order[next].0 < b1 {
            let (_, end, i) = order[next];
            next += 1;
            if end <= b0 {
                continue; // entirely before this block (before the capture start)
            }
            active.push(spec.bursts[i].render(fs, &mut renderer));
        }
        for (first, samples) in &active {
            let a = (*first).max(b0);
            let e = (*first + samples.len() as i64).min(b1);
            if a < e {
                let src = &samples[(a - first) as usize..(e - first) as usize];
                let dst = &mut block[(a - b0) as usize..(e - b0) as usize];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d += *s;
                }
            }
        }
        active.retain(|(first, s)| *first + s.len() as i64 > b1);
        if let Some(c) = chain.as_mut() {
            c.apply(pos, block);
        }
        sink(block)?;
        pos += n as u64;
    }

    let mut truth: Vec<TruthRecord> = (0..spec.bursts.len())
        .map(|i| TruthRecord::new(spec, i))
        .collect();
    truth.sort_by(|a, b| {
        a.start_sample_exact
            .total_cmp(&b.start_sample_exact)
            .then(a.burst_index.cmp(&b.burst_index))
    });
    Ok(truth)
}

/// [`render_capture`] into memory.
pub fn try_render_to_vec(
    spec: &CaptureSpec,
) -> Result<(Vec<Complex32>, Vec<TruthRecord>), SynthError> {
    try_render_to_vec_with(spec, &Impairments::default())
}

/// [`render_capture_with`] into memory.
pub fn try_render_to_vec_with(
    spec: &CaptureSpec,
    impairments: &Impairments,
) -> Result<(Vec<Complex32>, Vec<TruthRecord>), SynthError> {
    let mut out = Vec::with_capacity(spec.total_samples.min(1 << 28) as usize);
    let truth = render_capture_with(
        spec,
        impairments,
        DEFAULT_BLOCK_LEN,
        &mut |b: &[Complex32]| {
            out.extend_from_slice(b);
            Ok::<(), SynthError>(())
        },
    )?;
    Ok((out, truth))
}

/// [`render_capture`] into memory, for tests. Panics on an invalid spec
/// (use [`try_render_to_vec`] to get the error instead).
pub fn render_to_vec(spec: &CaptureSpec) -> (Vec<Complex32>, Vec<TruthRecord>) {
    try_render_to_vec(spec).unwrap_or_else(|e| panic!("render_to_vec: invalid capture spec: {e}"))
}
