//! Real-air impairments added to a capture after the bursts and the noise: LO leakage (DC), CW
//! spurs, a Bluetooth-like frequency hopper, Wi-Fi-like wideband bursts, 8-bit quantisation with
//! clipping and an I/Q swap.
//!
//! Levels are relative to the capture's thermal noise, whose power is [`NOISE_POWER`] per complex
//! sample at the output rate `Fs`, i.e. a flat density `N0 = NOISE_POWER / Fs`; they do not
//! depend on whether the capture's noise is switched on:
//!
//! | impairment | level `x` dB means | power per sample |
//! |---|---|---|
//! | [`DcOffset`] | spike power over the total noise power per sample (whole band) | `10^(x/10)·N0·Fs` |
//! | [`CwTone`] | tone power over the noise in one subcarrier (15 kHz) | `10^(x/10)·N0·15e3` |
//! | [`Hopper`] | hopper power over the noise in its bandwidth (1 MHz) | `10^(x/10)·N0·B` (while on) |
//! | [`WifiBursts`] | power density over the noise density, i.e. power over the noise in the occupied band | `10^(x/10)·N0·W` (while on) |
//!
//! (`W` = the part of the Wi-Fi band inside the capture, see [`WifiBursts::band_in_capture`].)
//!
//! Order of the chain, per output sample `n` (every step a deterministic function of the seed and
//! `n`, independent of the rendering block length): bursts + noise, then tones, hopper and Wi-Fi,
//! then DC, then the I/Q swap, then 8-bit quantisation. Ground truth ([`crate::TruthRecord`]) always describes
//! the bursts as transmitted (before the I/Q swap, amplitude before the quantiser's gain).
//!
//! ```
//! use droneid_core::BurstFormat;
//! use droneid_synth::{render_capture_with, BurstSpec, CaptureSpec, CwTone, DcOffset, Impairments,
//!     Quantize, SynthError, WifiBursts};
//!
//! let block = droneid_payload::build_transport_block(
//!     &droneid_payload::FlightInfo::example().to_record(), None).unwrap();
//! let mut burst = BurstSpec::new(block, BurstFormat::Nine, 2000.0);
//! burst.snr_db = Some(10.0);
//! let spec = CaptureSpec {
//!     sample_rate_hz: 20e6, center_freq_hz: None, total_samples: 20_000,
//!     noise: true, bursts: vec![burst], seed: 3,
//! };
//! let imp = Impairments {
//!     dc: Some(DcOffset::new(10.0)),                       // 10 dB over the noise power
//!     tones: vec![CwTone::new(1.2e6, 20.0)],               // 20 dB over the noise in 15 kHz
//!     wifi: vec![WifiBursts::overlapping_channel(0.0, 1.5e6, 20.0)], // 1.5 MHz over the burst
//!     quantize: Some(Quantize::new(30.0)),                 // ci8, clip 30 dB over noise RMS
//!     ..Impairments::default()
//! };
//! let mut out = Vec::new();
//! let truth = render_capture_with(&spec, &imp, 4096, &mut |b: &[_]| {
//!     out.extend_from_slice(b);
//!     Ok::<(), SynthError>(())
//! }).unwrap();
//! assert_eq!(out.len(), 20_000);
//! assert_eq!(truth[0].start_sample, 2000);
//! // Quantised output holds exact ci8 codes / 128.
//! assert!(out.iter().all(|v| (v.re * 128.0).fract() == 0.0 && v.im * 128.0 <= 127.0));
//! ```

use std::sync::Arc;

use droneid_core::{Complex32, Complex64};
use rustfft::{Fft, FftPlanner};
use serde::Serialize;

use crate::capture::{NoiseSource, NOISE_POWER};
use crate::SynthError;

/// Subcarrier spacing, the bandwidth a [`CwTone`]'s level refers to, Hz.
pub const TONE_REFERENCE_BW_HZ: f64 = 15e3;
/// Bandwidth of the [`Hopper`] by default (a Bluetooth channel), Hz.
pub const HOPPER_BANDWIDTH_HZ: f64 = 1e6;
/// Bluetooth slot length, s.
pub const HOPPER_SLOT_S: f64 = 625e-6;
/// Transmission time in a Bluetooth slot (a one-slot packet), s.
pub const HOPPER_ON_S: f64 = 366e-6;
/// Occupied bandwidth of a 20 MHz Wi-Fi (802.11a/g/n) OFDM signal, Hz.
pub const WIFI_BANDWIDTH_HZ: f64 = 16.6e6;
/// Raised-cosine ramp at the start and the end of each hopper / Wi-Fi transmission, s.
pub const RAMP_S: f64 = 2e-6;
/// Stopband attenuation of the band-limiting filters of the hopper and Wi-Fi noise, dB.
const BAND_ATTENUATION_DB: f32 = 70.0;
/// Largest band-limiting filter (taps); wider transitions beyond that.
const MAX_BAND_TAPS: usize = 16_385;
/// Offset added to sample indices before they seed the band noise (so indices < 0 work).
const INDEX_OFFSET: i64 = 1 << 40;
/// Seed streams of the interferers (mixed into the capture seed).
const STREAM_HOPPER: u64 = 0x0B1E_700F;
const STREAM_WIFI: u64 = 0x00F1_F100;

/// LO leakage: a complex constant (optionally rotating slowly) added to every sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DcOffset {
    /// Spike power over the total noise power per sample ([`NOISE_POWER`], the whole band), dB.
    /// "A DC spike 10 dB above the noise power" is `level_db = 10`.
    pub level_db: f64,
    /// Phase at sample 0, radians.
    pub phase_rad: f64,
    /// Slow phase drift (the spike sits at this frequency), Hz; 0 = a constant.
    pub drift_hz: f64,
}

impl DcOffset {
    /// A constant spike `level_db` over the noise power, phase π/4.
    pub fn new(level_db: f64) -> Self {
        Self {
            level_db,
            phase_rad: std::f64::consts::FRAC_PI_4,
            drift_hz: 0.0,
        }
    }

    /// Power per sample: `NOISE_POWER · 10^(level_db/10)`.
    pub fn power(&self) -> f64 {
        NOISE_POWER * 10f64.powf(self.level_db / 10.0)
    }
}

/// A continuous-wave spur.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CwTone {
    /// Frequency relative to the capture centre, Hz (inside ±Fs/2).
    pub freq_hz: f64,
    /// Tone power over the noise in one subcarrier bandwidth (15 kHz), dB: the level in the
    /// issue's "20 dB above the noise in the bandwidth it occupies".
    pub level_db: f64,
    /// Phase at sample 0, radians.
    pub phase_rad: f64,
}

impl CwTone {
    /// A tone at `freq_hz`, `level_db` over the noise in 15 kHz, phase 0.
    pub fn new(freq_hz: f64, level_db: f64) -> Self {
        Self {
            freq_hz,
            level_db,
            phase_rad: 0.0,
        }
    }

    /// Power per sample at output rate `fs`: `10^(level/10) · NOISE_POWER · 15e3 / fs`.
    pub fn power(&self, fs: f64) -> f64 {
        10f64.powf(self.level_db / 10.0) * NOISE_POWER * TONE_REFERENCE_BW_HZ / fs
    }
}

/// A Bluetooth-like frequency hopper: band-limited Gaussian noise `bandwidth_hz` wide, on for
/// `on_s` at the start of every `slot_s` slot, on a channel drawn per slot (seeded) from
/// `channels_hz`. Slots whose channel does not lie wholly inside the capture (with the filter's
/// transition) are silent (the radio's band does not hold them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hopper {
    /// Power while on over the noise in `bandwidth_hz`, dB.
    pub level_db: f64,
    /// Channel centres relative to the capture centre, Hz. Empty: the 79 channels k·1 MHz,
    /// k = −39..=39 (Bluetooth Classic around the capture centre).
    pub channels_hz: Vec<f64>,
    /// Occupied bandwidth (−6 dB), Hz.
    pub bandwidth_hz: f64,
    /// Slot length, s.
    pub slot_s: f64,
    /// Transmission at the start of each slot, s (ramps included).
    pub on_s: f64,
    /// Start of slot 0, s from the capture start.
    pub first_slot_s: f64,
}

/// One hopper slot as rendered ([`Hopper::slots`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HopSlot {
    /// Slot number.
    pub slot: i64,
    /// First output sample of the transmission.
    pub start_sample: i64,
    /// One past its last sample.
    pub end_sample: i64,
    /// Channel centre, Hz.
    pub freq_hz: f64,
    /// Whether the channel lies inside the capture (false: nothing was added).
    pub visible: bool,
}

impl Hopper {
    /// 1 MHz, 366 µs every 625 µs, over the 79 default channels, `level_db` over the noise in
    /// 1 MHz.
    pub fn new(level_db: f64) -> Self {
        Self {
            level_db,
            channels_hz: Vec::new(),
            bandwidth_hz: HOPPER_BANDWIDTH_HZ,
            slot_s: HOPPER_SLOT_S,
            on_s: HOPPER_ON_S,
            first_slot_s: 0.0,
        }
    }

    /// The channel list in use (the default 79 when `channels_hz` is empty).
    pub fn channel_list(&self) -> Vec<f64> {
        if self.channels_hz.is_empty() {
            (-39..=39).map(|k| k as f64 * 1e6).collect()
        } else {
            self.channels_hz.clone()
        }
    }

    /// Power while on, per sample at output rate `fs`.
    pub fn power(&self, fs: f64) -> f64 {
        10f64.powf(self.level_db / 10.0) * NOISE_POWER * self.bandwidth_hz / fs
    }

    /// Channel of slot `slot` for capture seed `seed`.
    pub fn channel_of_slot(&self, seed: u64, slot: i64) -> f64 {
        let list = self.channel_list();
        let h =
            splitmix64(seed ^ STREAM_HOPPER ^ (slot as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        list[(h % list.len() as u64) as usize]
    }

    fn on_range(&self, fs: f64, slot: i64) -> (i64, i64) {
        let t0 = self.first_slot_s + slot as f64 * self.slot_s;
        (
            (t0 * fs).ceil() as i64,
            ((t0 + self.on_s) * fs).ceil() as i64,
        )
    }

    fn slot_of_sample(&self, fs: f64, n: i64) -> i64 {
        ((n as f64 / fs - self.first_slot_s) / self.slot_s).floor() as i64
    }

    /// Every slot whose transmission overlaps samples `0..total_samples` (ground truth).
    pub fn slots(&self, fs: f64, seed: u64, total_samples: u64) -> Vec<HopSlot> {
        let band = BandShape::new(fs, self.bandwidth_hz);
        let s0 = self.slot_of_sample(fs, 0);
        let s1 = self.slot_of_sample(fs, total_samples as i64);
        (s0..=s1)
            .filter_map(|s| {
                let (a, e) = self.on_range(fs, s);
                if e <= 0 || a >= total_samples as i64 {
                    return None;
                }
                let f = self.channel_of_slot(seed, s);
                Some(HopSlot {
                    slot: s,
                    start_sample: a,
                    end_sample: e,
                    freq_hz: f,
                    visible: band.fits(fs, f),
                })
            })
            .collect()
    }
}

/// Wi-Fi-like bursts: flat band-limited Gaussian noise (an OFDM signal's spectrum) `bandwidth_hz`
/// wide around `center_hz`, on for `on_s` every `period_s` (continuous when `on_s ≥ period_s`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WifiBursts {
    /// Centre relative to the capture centre, Hz.
    pub center_hz: f64,
    /// Occupied bandwidth (−6 dB edges), Hz (16.6 MHz for a 20 MHz Wi-Fi channel).
    pub bandwidth_hz: f64,
    /// Power density over the noise density while on, dB (= power over the noise in the band
    /// it occupies).
    pub level_db: f64,
    /// Transmission length, s (ramps included).
    pub on_s: f64,
    /// Period, s.
    pub period_s: f64,
    /// Start of the first transmission, s from the capture start.
    pub first_s: f64,
}

impl WifiBursts {
    /// A continuous 16.6 MHz Wi-Fi signal at `center_hz`, `level_db` over the noise in its band.
    pub fn continuous(center_hz: f64, level_db: f64) -> Self {
        Self {
            center_hz,
            bandwidth_hz: WIFI_BANDWIDTH_HZ,
            level_db,
            on_s: 1.0,
            period_s: 1.0,
            first_s: 0.0,
        }
    }

    /// A continuous 16.6 MHz Wi-Fi signal above a DroneID channel centred at
    /// `channel_offset_hz`, whose lower edge covers the top `overlap_hz` of the channel's
    /// 9.015 MHz (negative `overlap_hz`: below the channel, covering its bottom `|overlap_hz|`).
    pub fn overlapping_channel(channel_offset_hz: f64, overlap_hz: f64, level_db: f64) -> Self {
        let d =
            droneid_core::OCCUPIED_BANDWIDTH_HZ / 2.0 + WIFI_BANDWIDTH_HZ / 2.0 - overlap_hz.abs();
        let center = if overlap_hz >= 0.0 {
            channel_offset_hz + d
        } else {
            channel_offset_hz - d
        };
        Self::continuous(center, level_db)
    }

    /// Whether it never switches off.
    pub fn is_continuous(&self) -> bool {
        self.on_s >= self.period_s
    }

    /// The part `[lo, hi]` (Hz) of the band that is rendered at output rate `fs`: the band
    /// clipped to `±(Fs/2 − transition/2)`; `None` when nothing of it is inside.
    pub fn band_in_capture(&self, fs: f64) -> Option<(f64, f64)> {
        let t = BandShape::transition_hz(fs, self.bandwidth_hz);
        let edge = fs / 2.0 - t / 2.0;
        let lo = (self.center_hz - self.bandwidth_hz / 2.0).max(-edge);
        let hi = (self.center_hz + self.bandwidth_hz / 2.0).min(edge);
        (hi - lo > 1e3).then_some((lo, hi))
    }

    /// Power while on, per sample at output rate `fs` (of the part inside the capture).
    pub fn power(&self, fs: f64) -> f64 {
        match self.band_in_capture(fs) {
            Some((lo, hi)) => 10f64.powf(self.level_db / 10.0) * NOISE_POWER * (hi - lo) / fs,
            None => 0.0,
        }
    }
}

/// 8-bit quantisation with clipping (HackRF `ci8` style): every sample is scaled by
/// [`Quantize::gain`], each of I and Q rounded to an integer code and saturated to −128..=127,
/// and the output is `code / 128` (what the `ci8` reader returns, so a cf32 and a ci8 recording
/// of the same capture decode alike).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quantize {
    /// Full scale (±1.0 per rail, code ±128) over the noise RMS per rail
    /// (`sqrt(NOISE_POWER / 2)`), dB. 30 dB: the noise is ≈ 4 codes RMS, a signal clips when a
    /// rail exceeds 31.6× the noise RMS.
    pub clip_db: f64,
}

impl Quantize {
    /// Clip level `clip_db` over the noise RMS per rail.
    pub fn new(clip_db: f64) -> Self {
        Self { clip_db }
    }

    /// Gain applied before rounding: `1 / (10^(clip_db/20) · sqrt(NOISE_POWER/2))`. The noise
    /// power of the output is `gain² · NOISE_POWER`.
    pub fn gain(&self) -> f64 {
        1.0 / (10f64.powf(self.clip_db / 20.0) * (NOISE_POWER / 2.0).sqrt())
    }

    /// The quantiser: `clamp(round(x · gain · 128), −128, 127) / 128` per rail.
    #[inline]
    pub fn apply(gain128: f32, v: Complex32) -> Complex32 {
        let q = |x: f32| (x * gain128).round().clamp(-128.0, 127.0) * (1.0 / 128.0);
        Complex32::new(q(v.re), q(v.im))
    }
}

/// Everything added to a capture after the bursts and the noise (see the [module docs](self)).
/// The default adds nothing; [`crate::render_capture_with`] applies it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Impairments {
    /// LO leakage.
    pub dc: Option<DcOffset>,
    /// CW spurs.
    pub tones: Vec<CwTone>,
    /// A Bluetooth-like hopper.
    pub hopper: Option<Hopper>,
    /// Wi-Fi-like wideband bursts.
    pub wifi: Vec<WifiBursts>,
    /// 8-bit quantisation with clipping.
    pub quantize: Option<Quantize>,
    /// Swap I and Q of every output sample (spectral inversion: a burst at +f appears at −f).
    pub iq_swap: bool,
}

fn check_level(field: &str, v: f64) -> Result<(), SynthError> {
    if !(v.is_finite() && (-100.0..=100.0).contains(&v)) {
        return Err(bad(field, format!("level {v} dB is outside -100..=100 dB")));
    }
    Ok(())
}

fn bad(field: &str, reason: String) -> SynthError {
    SynthError::Impairment {
        field: field.into(),
        reason,
    }
}

fn check_time(field: &str, v: f64, positive: bool) -> Result<(), SynthError> {
    let ok = v.is_finite() && v.abs() <= 1e6 && (!positive || v > 0.0);
    if !ok {
        let what = if positive { "> 0 and finite" } else { "finite" };
        return Err(bad(field, format!("{v} s must be {what}")));
    }
    Ok(())
}

impl Impairments {
    /// True when nothing is added (rendering is then exactly [`crate::render_capture`]'s).
    pub fn is_empty(&self) -> bool {
        self.dc.is_none()
            && self.tones.is_empty()
            && self.hopper.is_none()
            && self.wifi.is_empty()
            && self.quantize.is_none()
            && !self.iq_swap
    }

    /// Checks every field against output rate `fs`.
    pub fn validate(&self, fs: f64) -> Result<(), SynthError> {
        if let Some(dc) = &self.dc {
            check_level("dc.level_db", dc.level_db)?;
            if !dc.phase_rad.is_finite() {
                return Err(bad("dc.phase_rad", "must be finite".into()));
            }
            if !(dc.drift_hz.is_finite() && dc.drift_hz.abs() < fs / 2.0) {
                return Err(bad(
                    "dc.drift_hz",
                    format!("{} Hz must be finite and inside ±Fs/2", dc.drift_hz),
                ));
            }
        }
        if self.tones.len() > 64 {
            return Err(bad("tones", "at most 64 tones".into()));
        }
        for t in &self.tones {
            check_level("tone.level_db", t.level_db)?;
            if !(t.freq_hz.is_finite() && t.freq_hz.abs() < fs / 2.0) {
                return Err(bad(
                    "tone.freq_hz",
                    format!("{} Hz must be inside ±Fs/2 = ±{} Hz", t.freq_hz, fs / 2.0),
                ));
            }
            if !t.phase_rad.is_finite() {
                return Err(bad("tone.phase_rad", "must be finite".into()));
            }
        }
        if let Some(h) = &self.hopper {
            check_level("hopper.level_db", h.level_db)?;
            if !(h.bandwidth_hz.is_finite() && h.bandwidth_hz >= 10e3 && h.bandwidth_hz <= 0.9 * fs)
            {
                return Err(bad(
                    "hopper.bandwidth_hz",
                    format!("{} Hz is outside 10e3..=0.9·Fs", h.bandwidth_hz),
                ));
            }
            check_time("hopper.slot_s", h.slot_s, true)?;
            check_time("hopper.on_s", h.on_s, true)?;
            check_time("hopper.first_slot_s", h.first_slot_s, false)?;
            if h.on_s > h.slot_s || h.slot_s * fs < 2.0 {
                return Err(bad(
                    "hopper.on_s",
                    format!(
                        "{} s must be <= the slot ({} s), the slot at least 2 samples",
                        h.on_s, h.slot_s
                    ),
                ));
            }
            if h.channels_hz.len() > 10_000 || h.channels_hz.iter().any(|f| !f.is_finite()) {
                return Err(bad(
                    "hopper.channels_hz",
                    "at most 10000 finite frequencies".into(),
                ));
            }
        }
        if self.wifi.len() > 16 {
            return Err(bad("wifi", "at most 16 Wi-Fi signals".into()));
        }
        for w in &self.wifi {
            check_level("wifi.level_db", w.level_db)?;
            if !(w.center_hz.is_finite() && w.center_hz.abs() <= 1e10) {
                return Err(bad(
                    "wifi.center_hz",
                    format!("{} Hz must be finite", w.center_hz),
                ));
            }
            if !(w.bandwidth_hz.is_finite() && (10e3..=200e6).contains(&w.bandwidth_hz)) {
                return Err(bad(
                    "wifi.bandwidth_hz",
                    format!("{} Hz is outside 10e3..=200e6", w.bandwidth_hz),
                ));
            }
            check_time("wifi.on_s", w.on_s, true)?;
            check_time("wifi.period_s", w.period_s, true)?;
            check_time("wifi.first_s", w.first_s, false)?;
            if !w.is_continuous() && w.period_s * fs < 2.0 {
                return Err(bad("wifi.period_s", "must be at least 2 samples".into()));
            }
        }
        if let Some(q) = &self.quantize {
            if !(q.clip_db.is_finite() && (-20.0..=100.0).contains(&q.clip_db)) {
                return Err(bad(
                    "quantize.clip_db",
                    format!("{} dB is outside -20..=100 dB", q.clip_db),
                ));
            }
        }
        Ok(())
    }

    /// Noise power per sample of the output (`NOISE_POWER`, times `gain²` when quantised),
    /// without the quantisation noise itself.
    pub fn output_noise_power(&self) -> f64 {
        match &self.quantize {
            Some(q) => NOISE_POWER * q.gain() * q.gain(),
            None => NOISE_POWER,
        }
    }
}

#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Cycles → unit phasor, with the argument reduced to [−0.5, 0.5) first.
#[inline]
fn cis_cycles(c: f64) -> Complex64 {
    let r = c - c.round();
    let (s, co) = (std::f64::consts::TAU * r).sin_cos();
    Complex64::new(co, s)
}

/// Raised-cosine on/off envelope of a transmission `len` samples long, at `k` samples from its
/// start (0 outside `0..len`), ramps of `ramp` samples (at most `len / 2`).
#[inline]
fn envelope(k: i64, len: i64, ramp: f64) -> f64 {
    if k < 0 || k >= len {
        return 0.0;
    }
    let r = ramp.min(len as f64 / 2.0);
    let d = (k as f64 + 0.5).min(len as f64 - k as f64 - 0.5);
    if d >= r {
        1.0
    } else {
        0.5 - 0.5 * (std::f64::consts::PI * d / r).cos()
    }
}

/// Adds `amp · env(n) · src(n) · e^{j(2π·cyc·n + phase)}` to `out` (`out[0]` is sample `first`).
/// The phasor is re-anchored exactly at every multiple of 256 samples (and advanced by
/// recurrence in between, starting from the previous anchor), so the result does not depend on
/// how the capture is split into blocks.
fn mix_add(
    first: i64,
    src: Option<&[Complex32]>,
    env: &dyn Fn(i64) -> f64,
    cyc: f64,
    amp: f64,
    phase_cycles: f64,
    out: &mut [Complex32],
) {
    let rot = cis_cycles(cyc);
    let anchor = |n: i64| cis_cycles(cyc * n as f64 + phase_cycles) * amp;
    let c0 = first.div_euclid(256) * 256;
    let mut ph = anchor(c0);
    for _ in c0..first {
        ph *= rot;
    }
    for (i, o) in out.iter_mut().enumerate() {
        let n = first + i as i64;
        if n.rem_euclid(256) == 0 {
            ph = anchor(n);
        }
        let e = env(n);
        if e != 0.0 {
            let s = match src {
                Some(s) => Complex64::new(s[i].re as f64, s[i].im as f64),
                None => Complex64::new(1.0, 0.0),
            };
            let v = ph * s * e;
            o.re += v.re as f32;
            o.im += v.im as f32;
        }
        ph *= rot;
    }
}

/// Shape of a band-limiting filter: −6 dB bandwidth and transition width.
#[derive(Debug, Clone, Copy)]
struct BandShape {
    bandwidth_hz: f64,
    transition_hz: f64,
}

impl BandShape {
    fn transition_hz(fs: f64, bandwidth_hz: f64) -> f64 {
        let t = (0.2 * bandwidth_hz).clamp(50e3, 300e3);
        // Keep the filter at most MAX_BAND_TAPS long.
        let min_norm =
            (BAND_ATTENUATION_DB as f64 + 1.0 - 7.95) / (14.357 * (MAX_BAND_TAPS - 2) as f64);
        t.max(min_norm * fs)
    }

    fn new(fs: f64, bandwidth_hz: f64) -> Self {
        Self {
            bandwidth_hz,
            transition_hz: Self::transition_hz(fs, bandwidth_hz),
        }
    }

    /// Whether a band of this shape centred at `f` lies inside the capture.
    fn fits(&self, fs: f64, f: f64) -> bool {
        f.abs() + self.bandwidth_hz / 2.0 + self.transition_hz / 2.0 <= fs / 2.0
    }
}

/// Stationary complex Gaussian noise of unit power, low-pass band-limited to `±bandwidth/2`
/// (Kaiser FIR, −6 dB at the edge, 70 dB stopband), whose value at sample `n` depends only on the
/// seed and `n` (white noise filtered by FFT overlap-save in frames aligned to absolute sample
/// indices).
struct BandNoise {
    white: NoiseSource,
    taps: usize,
    frame: usize,
    fft: Arc<dyn Fft<f32>>,
    ifft: Arc<dyn Fft<f32>>,
    /// FFT of the zero-padded filter, scaled by 1/nfft.
    hf: Vec<Complex32>,
    cached: Option<i64>,
    cache: Vec<Complex32>,
    work: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl BandNoise {
    fn new(seed: u64, fs: f64, bandwidth_hz: f64) -> Self {
        let shape = BandShape::new(fs, bandwidth_hz);
        let tr = (shape.transition_hz / fs).min(0.45);
        let atten = BAND_ATTENUATION_DB + 1.0;
        let taps = (droneid_dsp::kaiser_num_taps(tr, atten) | 1).min(MAX_BAND_TAPS);
        let cutoff = (bandwidth_hz / 2.0 / fs).clamp(1e-6, 0.5);
        let beta = droneid_dsp::kaiser_beta_for_attenuation(atten) as f64;
        let mut h = droneid_dsp::fir::design_lowpass_f64(taps, cutoff, beta);
        let e: f64 = h.iter().map(|v| v * v).sum();
        let s = 1.0 / e.sqrt();
        h.iter_mut().for_each(|v| *v *= s);
        let nfft = (4 * taps).max(4096).next_power_of_two();
        let mut planner = FftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(nfft);
        let ifft = planner.plan_fft_inverse(nfft);
        let mut hf = vec![Complex32::new(0.0, 0.0); nfft];
        for (d, v) in hf.iter_mut().zip(&h) {
            *d = Complex32::new((*v / nfft as f64) as f32, 0.0);
        }
        let mut scratch = vec![
            Complex32::new(0.0, 0.0);
            fft.get_inplace_scratch_len()
                .max(ifft.get_inplace_scratch_len())
        ];
        fft.process_with_scratch(&mut hf, &mut scratch);
        Self {
            white: NoiseSource::new(seed, 1.0),
            taps,
            frame: nfft - (taps - 1),
            fft,
            ifft,
            hf,
            cached: None,
            cache: Vec::new(),
            work: vec![Complex32::new(0.0, 0.0); nfft],
            scratch,
        }
    }

    fn load(&mut self, k: i64) {
        if self.cached == Some(k) {
            return;
        }
        let start = k * self.frame as i64 - (self.taps as i64 - 1);
        self.work.fill(Complex32::new(0.0, 0.0));
        self.white
            .add((start + INDEX_OFFSET) as u64, &mut self.work);
        self.fft
            .process_with_scratch(&mut self.work, &mut self.scratch);
        for (w, h) in self.work.iter_mut().zip(&self.hf) {
            *w *= h;
        }
        self.ifft
            .process_with_scratch(&mut self.work, &mut self.scratch);
        self.cache.clear();
        self.cache.extend_from_slice(&self.work[self.taps - 1..]);
        self.cached = Some(k);
    }

    /// Writes noise samples `first..first + out.len()` into `out`.
    fn get(&mut self, first: i64, out: &mut [Complex32]) {
        let f = self.frame as i64;
        let mut n = first;
        let end = first + out.len() as i64;
        while n < end {
            let k = n.div_euclid(f);
            self.load(k);
            let off = (n - k * f) as usize;
            let take = ((end - n) as usize).min(self.frame - off);
            let dst = (n - first) as usize;
            out[dst..dst + take].copy_from_slice(&self.cache[off..off + take]);
            n += take as i64;
        }
    }
}

struct HopperState {
    spec: Hopper,
    shape: BandShape,
    noise: BandNoise,
    amp: f64,
    seed: u64,
}

struct WifiState {
    spec: WifiBursts,
    noise: BandNoise,
    mix_hz: f64,
    amp: f64,
}

/// The impairment chain for one capture, applied block by block.
pub(crate) struct ImpairmentRenderer {
    fs: f64,
    dc: Option<DcOffset>,
    tones: Vec<CwTone>,
    hopper: Option<HopperState>,
    wifi: Vec<WifiState>,
    quant_gain128: Option<f32>,
    iq_swap: bool,
    scratch: Vec<Complex32>,
}

impl ImpairmentRenderer {
    /// The chain for `imp` at output rate `fs` with capture seed `seed` (`imp` validated).
    pub(crate) fn new(imp: &Impairments, fs: f64, seed: u64) -> Self {
        let hopper = imp.hopper.as_ref().map(|h| {
            let s = splitmix64(seed ^ STREAM_HOPPER);
            HopperState {
                spec: h.clone(),
                shape: BandShape::new(fs, h.bandwidth_hz),
                noise: BandNoise::new(s, fs, h.bandwidth_hz),
                amp: h.power(fs).sqrt(),
                seed,
            }
        });
        let wifi = imp
            .wifi
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let (lo, hi) = w.band_in_capture(fs)?;
                let s = splitmix64(seed ^ STREAM_WIFI ^ ((i as u64) << 32));
                Some(WifiState {
                    spec: w.clone(),
                    noise: BandNoise::new(s, fs, hi - lo),
                    mix_hz: 0.5 * (lo + hi),
                    amp: w.power(fs).sqrt(),
                })
            })
            .collect();
        Self {
            fs,
            dc: imp.dc.clone(),
            tones: imp.tones.clone(),
            hopper,
            wifi,
            quant_gain128: imp.quantize.as_ref().map(|q| (q.gain() * 128.0) as f32),
            iq_swap: imp.iq_swap,
            scratch: Vec::new(),
        }
    }

    /// Applies the chain to `block`, whose element 0 is output sample `first`.
    pub(crate) fn apply(&mut self, first: u64, block: &mut [Complex32]) {
        let fs = self.fs;
        let b0 = first as i64;
        let b1 = b0 + block.len() as i64;
        let one = |_: i64| 1.0;
        for t in &self.tones {
            mix_add(
                b0,
                None,
                &one,
                t.freq_hz / fs,
                t.power(fs).sqrt(),
                t.phase_rad / std::f64::consts::TAU,
                block,
            );
        }
        let ramp = RAMP_S * fs;
        if let Some(h) = self.hopper.as_mut() {
            let s0 = h.spec.slot_of_sample(fs, b0) - 1;
            let s1 = h.spec.slot_of_sample(fs, b1) + 1;
            for s in s0..=s1 {
                let (a, e) = h.spec.on_range(fs, s);
                let (lo, hi) = (a.max(b0), e.min(b1));
                if lo >= hi {
                    continue;
                }
                let f = h.spec.channel_of_slot(h.seed, s);
                if !h.shape.fits(fs, f) {
                    continue;
                }
                self.scratch
                    .resize((hi - lo) as usize, Complex32::new(0.0, 0.0));
                h.noise.get(lo, &mut self.scratch);
                let env = |n: i64| envelope(n - a, e - a, ramp);
                let dst = &mut block[(lo - b0) as usize..(hi - b0) as usize];
                mix_add(lo, Some(&self.scratch), &env, f / fs, h.amp, 0.0, dst);
            }
        }
        for w in &mut self.wifi {
            let cyc = w.mix_hz / fs;
            if w.spec.is_continuous() {
                self.scratch.resize(block.len(), Complex32::new(0.0, 0.0));
                w.noise.get(b0, &mut self.scratch);
                mix_add(b0, Some(&self.scratch), &one, cyc, w.amp, 0.0, block);
                continue;
            }
            let p = w.spec.period_s;
            let k0 = ((b0 as f64 / fs - w.spec.first_s) / p).floor() as i64 - 1;
            let k1 = ((b1 as f64 / fs - w.spec.first_s) / p).floor() as i64 + 1;
            for k in k0..=k1 {
                let t0 = w.spec.first_s + k as f64 * p;
                let a = (t0 * fs).ceil() as i64;
                let e = ((t0 + w.spec.on_s) * fs).ceil() as i64;
                let (lo, hi) = (a.max(b0), e.min(b1));
                if lo >= hi {
                    continue;
                }
                self.scratch
                    .resize((hi - lo) as usize, Complex32::new(0.0, 0.0));
                w.noise.get(lo, &mut self.scratch);
                let env = |n: i64| envelope(n - a, e - a, ramp);
                let dst = &mut block[(lo - b0) as usize..(hi - b0) as usize];
                mix_add(lo, Some(&self.scratch), &env, cyc, w.amp, 0.0, dst);
            }
        }
        if let Some(dc) = &self.dc {
            mix_add(
                b0,
                None,
                &one,
                dc.drift_hz / fs,
                dc.power().sqrt(),
                dc.phase_rad / std::f64::consts::TAU,
                block,
            );
        }
        if self.iq_swap {
            for v in block.iter_mut() {
                *v = Complex32::new(v.im, v.re);
            }
        }
        if let Some(g) = self.quant_gain128 {
            for v in block.iter_mut() {
                *v = Quantize::apply(g, *v);
            }
        }
    }
}

#[cfg(test)]
mod tests;
