//! The synthesiser's user-facing options, as `droneid synth` takes them as flags and the Python
//! package's `synth()` as keywords: one check of every option and one translation into a
//! [`Scenario`] and [`Impairments`], so that the two front ends accept the same values, in the
//! same order, with the same messages.
//!
//! Messages name each option as the front end does ([`OptionNames`]): the keyword (`snr_db`) or
//! the flag (`--snr-db`; the keyword `tones` is the flag `--tone`).
//!
//! ```
//! use droneid_synth::{HzArg, OptionNames, SynthOptions};
//!
//! let mut o = SynthOptions::default();
//! o.sample_rate = HzArg::Text("30.72M".into());
//! o.bursts = Some(2);
//! o.interval_ms = 5.0;
//! let (spec, imp) = o.plan(OptionNames::Flags).unwrap();
//! assert_eq!(spec.bursts.len(), 2);
//! assert!(imp.is_empty());
//!
//! o.snr_db = Some(300.0);
//! let e = o.plan(OptionNames::Flags).unwrap_err();
//! assert_eq!(e.to_string(), "--snr-db: 300 is outside -100..=200 dB");
//! let e = o.plan(OptionNames::Keywords).unwrap_err();
//! assert_eq!(e.to_string(), "snr_db: 300 is outside -100..=200 dB");
//! ```

use std::path::PathBuf;

use droneid_core::{parse_hz, BurstFormat, Complex64, OCCUPIED_BANDWIDTH_HZ};

use crate::{
    BurstPair, CaptureSpec, CwTone, DcOffset, Hopper, Impairments, Quantize, Scenario, SynthError,
    WifiBursts, MIN_SAMPLE_RATE_HZ,
};

/// Highest output rate the front ends accept, Hz.
const MAX_SAMPLE_RATE_HZ: f64 = 10e9;

/// How messages name the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionNames {
    /// Command-line flags: `--snr-db`, `--tone`.
    Flags,
    /// Python keywords: `snr_db`, `tones`.
    Keywords,
}

impl OptionNames {
    /// The name of the option(s) with keyword `keywords` (several joined by `/`).
    fn name(self, keywords: &str) -> String {
        match self {
            OptionNames::Keywords => keywords.to_string(),
            OptionNames::Flags => keywords
                .split('/')
                .map(|k| {
                    let k = if k == "tones" { "tone" } else { k };
                    format!("--{}", k.replace('_', "-"))
                })
                .collect::<Vec<_>>()
                .join("/"),
        }
    }

    /// What the options are called together, for an error no single option explains.
    fn all(self) -> &'static str {
        match self {
            OptionNames::Flags => "flags",
            OptionNames::Keywords => "arguments",
        }
    }
}

/// An option that the user gave wrongly: one line, starting with the option's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionError(String);

impl OptionError {
    /// A scenario, burst or impairment error (from [`Scenario::build`], [`Impairments::validate`]
    /// or rendering), naming the option that set the field.
    pub fn from_synth(e: SynthError, names: OptionNames) -> Self {
        let option = |field: &str| -> String {
            let keyword = match field {
                "interval_s" => "interval_ms",
                "jitter_s" => "jitter_ms",
                "lead_in_s" => "lead_in_ms",
                "tail_s" => "tail_ms",
                "duration_s" => "duration_s",
                "drones" => "drones",
                "bursts" => "bursts",
                "random_offsets" => "random_offsets",
                "freq_offset_hz" | "cfo_hz" => "freq_offset_hz/cfo_hz",
                "snr_db" => "snr_db",
                "sample_clock_ppm" => "ppm",
                "multipath" => "multipath",
                "phase_rad" => "seed",
                "pair_delay_s" => "pair_delay_us",
                "pair_offset_hz" => "pair_offset_hz",
                f if f.starts_with("dc.") => "dc_db/dc_drift_hz",
                f if f.starts_with("tone") => "tones",
                f if f.starts_with("hopper") => "hopper_db/hopper_channels_mhz",
                f if f.starts_with("wifi") => "wifi_*",
                f if f.starts_with("quantize") => "clip_db",
                _ => return names.all().to_string(),
            };
            names.name(keyword)
        };
        OptionError(match e {
            SynthError::Scenario { field, reason }
            | SynthError::Burst { field, reason, .. }
            | SynthError::Impairment { field, reason } => format!("{}: {reason}", option(&field)),
            SynthError::SampleRate { value } => format!(
                "{}: {value} Hz is invalid; use a finite rate in 4e6..=10e9 Hz",
                names.name("sample_rate")
            ),
            SynthError::CenterFreq { value } => {
                format!("{}: {value} is not finite", names.name("center_freq"))
            }
            SynthError::Record(m) => format!("{}: {m}", names.name("record")),
            other => other.to_string(),
        })
    }
}

/// A frequency or rate as the user gave it: a number of hertz, or text (`"61.44M"`, `"-3.5M"`,
/// see [`droneid_core::parse_hz`]).
#[derive(Debug, Clone, PartialEq)]
pub enum HzArg {
    /// Hertz.
    Number(f64),
    /// Text as the command line takes it.
    Text(String),
}

/// A CW tone: `"FREQ_HZ:LEVEL_DB"` (`--tone`) or a (frequency, level in dB) pair.
#[derive(Debug, Clone, PartialEq)]
pub enum ToneArg {
    /// `"FREQ_HZ:LEVEL_DB"`, e.g. `"1.2M:20"`.
    Text(String),
    /// Frequency from the capture centre and level over the noise in 15 kHz, dB.
    Pair(HzArg, f64),
}

/// Hopper channel centres from the capture centre, MHz.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelsArg {
    /// Comma-separated, e.g. `"-1,0,1"`.
    Text(String),
    /// Numbers.
    List(Vec<f64>),
}

/// Record contents: a JSON RecordSpec object or array (cycled over each drone's bursts).
#[derive(Debug, Clone, PartialEq)]
pub enum RecordArg {
    /// A file holding the JSON (read when the options are checked).
    File(PathBuf),
    /// The JSON text itself.
    Json(String),
}

/// Cyclic-prefix schedule of 8-symbol bursts (spec §2.3, disputed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpSchedule {
    /// CPs [72×7, 80] (KZ, P17).
    #[default]
    Kz,
    /// CPs [80, 72×6, 80] (RUB).
    Rub,
}

/// Every option of `droneid synth` (its flags; the Python `synth()` keywords). The defaults
/// ([`Default`]) are the command line's.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Output sample rate, 4e6..=10e9 Hz.
    pub sample_rate: HzArg,
    /// Bursts per drone (default: 1, or as many as fit `duration_s`).
    pub bursts: Option<u64>,
    /// Burst format: 9 or 8 symbols.
    pub symbols: u32,
    /// CP schedule of 8-symbol bursts.
    pub cp_schedule: CpSchedule,
    /// In-band SNR, dB (none: no noise).
    pub snr_db: Option<f64>,
    /// Carrier frequency error of every drone, Hz.
    pub cfo_hz: Option<HzArg>,
    /// Channel offset of every drone, Hz (default 0).
    pub freq_offset_hz: Option<HzArg>,
    /// Seed of the noise and every random choice.
    pub seed: u64,
    /// Record contents (default: telemetry of moving drones).
    pub record: Option<RecordArg>,
    /// Number of drones, 1..=1000.
    pub drones: u32,
    /// A random channel offset per drone inside the capture band.
    pub random_offsets: bool,
    /// Burst interval per drone, ms.
    pub interval_ms: f64,
    /// Random delay of each burst, 0..jitter ms (default 2 % of the interval).
    pub jitter_ms: Option<f64>,
    /// Capture length, s (default: up to the last burst plus `tail_ms`).
    pub duration_s: Option<f64>,
    /// Time before the first burst, ms.
    pub lead_in_ms: f64,
    /// Time after the last burst when the length is automatic, ms.
    pub tail_ms: f64,
    /// Capture centre frequency (metadata and truth).
    pub center_freq: Option<HzArg>,
    /// Transmitter sample-clock error, ppm (-1000..=1000).
    pub ppm: f64,
    /// Multipath taps `"delay_us:gain_db[:phase_deg],..."`, normalised to unit total power.
    pub multipath: Option<String>,
    /// With default records: every N-th burst of a drone is its identity message (0: never).
    pub identity_every: u32,
    /// Carrier phase 0 at every burst start (default: random per burst).
    pub zero_phase: bool,
    /// 8-bit output (`ci8`): quantised with `clip_db` 30 unless given.
    pub ci8: bool,
    /// 8-bit quantisation: full scale over the noise RMS per rail, dB (-20..=100).
    pub clip_db: Option<f64>,
    /// DC spike over the total noise power per sample, dB.
    pub dc_db: Option<f64>,
    /// Frequency of the DC spike's slow phase drift (needs `dc_db`).
    pub dc_drift_hz: Option<HzArg>,
    /// CW tones.
    pub tones: Vec<ToneArg>,
    /// Bluetooth-like hopper over the noise in 1 MHz, dB.
    pub hopper_db: Option<f64>,
    /// Hopper channels (needs `hopper_db`; default every 1 MHz over -39..=39 MHz).
    pub hopper_channels_mhz: Option<ChannelsArg>,
    /// Wi-Fi-like signal over the noise in its occupied band, dB.
    pub wifi_db: Option<f64>,
    /// Wi-Fi centre from the capture centre (needs `wifi_db`).
    pub wifi_center_hz: Option<HzArg>,
    /// Wi-Fi covering the top (negative: bottom) this many Hz of the bursts' channel (needs
    /// `wifi_db`; not with `wifi_center_hz`).
    pub wifi_overlap_hz: Option<HzArg>,
    /// Wi-Fi transmission length, ms (needs `wifi_db`; default continuous).
    pub wifi_on_ms: Option<f64>,
    /// Wi-Fi period, ms (needs `wifi_on_ms`; default twice it).
    pub wifi_period_ms: Option<f64>,
    /// Swap I and Q of every sample.
    pub iq_swap: bool,
    /// A partner burst this many µs after every burst.
    pub pair_delay_us: Option<f64>,
    /// Partner channel relative to its drone's, Hz (needs `pair_delay_us`).
    pub pair_offset_hz: Option<HzArg>,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            sample_rate: HzArg::Number(15.36e6),
            bursts: None,
            symbols: 9,
            cp_schedule: CpSchedule::Kz,
            snr_db: None,
            cfo_hz: None,
            freq_offset_hz: None,
            seed: 1,
            record: None,
            drones: 1,
            random_offsets: false,
            interval_ms: 600.0,
            jitter_ms: None,
            duration_s: None,
            lead_in_ms: 1.0,
            tail_ms: 1.0,
            center_freq: None,
            ppm: 0.0,
            multipath: None,
            identity_every: 0,
            zero_phase: false,
            ci8: false,
            clip_db: None,
            dc_db: None,
            dc_drift_hz: None,
            tones: Vec::new(),
            hopper_db: None,
            hopper_channels_mhz: None,
            wifi_db: None,
            wifi_center_hz: None,
            wifi_overlap_hz: None,
            wifi_on_ms: None,
            wifi_period_ms: None,
            iq_swap: false,
            pair_delay_us: None,
            pair_offset_hz: None,
        }
    }
}

/// Builds [`OptionError`]s naming options as `names` does.
#[derive(Clone, Copy)]
struct Check {
    names: OptionNames,
}

impl Check {
    fn n(self, keywords: &str) -> String {
        self.names.name(keywords)
    }

    /// `"{option}: {reason}"`.
    fn err(self, keyword: &str, reason: impl std::fmt::Display) -> OptionError {
        OptionError(format!("{}: {reason}", self.n(keyword)))
    }

    fn hz(self, keyword: &str, v: &HzArg) -> Result<f64, OptionError> {
        match v {
            HzArg::Number(x) if x.is_finite() => Ok(*x),
            HzArg::Number(x) => Err(self.err(keyword, format!("'{x}' is not a finite number"))),
            HzArg::Text(t) => parse_hz(t).map_err(|e| self.err(keyword, e)),
        }
    }

    /// A finite level in dB, -100..=100.
    fn db(self, keyword: &str, v: f64) -> Result<f64, OptionError> {
        if !(v.is_finite() && (-100.0..=100.0).contains(&v)) {
            return Err(self.err(keyword, format!("{v} dB is outside -100..=100 dB")));
        }
        Ok(v)
    }

    /// Seconds from a finite number of milliseconds >= 0.
    fn ms(self, keyword: &str, v: f64) -> Result<f64, OptionError> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(self.err(
                keyword,
                format!("{v} must be a finite number of milliseconds >= 0"),
            ));
        }
        Ok(v * 1e-3)
    }

    /// `keyword` was given without `needs`.
    fn requires(self, given: bool, keyword: &str, needs: &str) -> Result<(), OptionError> {
        if given {
            return Err(self.err(keyword, format!("needs {}", self.n(needs))));
        }
        Ok(())
    }

    /// Parses "delay_us:gain_db[:phase_deg],..." into taps normalised to unit total power.
    fn multipath(self, text: &str) -> Result<Vec<(f64, Complex64)>, OptionError> {
        const HELP: &str =
            "expected \"delay_us:gain_db[:phase_deg],...\" with 0 <= delay_us <= 1000";
        let mut taps = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parts: Vec<&str> = item.split(':').map(str::trim).collect();
            if !(2..=3).contains(&parts.len()) {
                return Err(self.err("multipath", format!("'{item}': {HELP}")));
            }
            let num = |s: &str| -> Result<f64, OptionError> {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        self.err(
                            "multipath",
                            format!("'{item}': '{s}' is not a finite number; {HELP}"),
                        )
                    })
            };
            let delay_us = num(parts[0])?;
            let gain_db = num(parts[1])?;
            let phase_deg = if parts.len() == 3 {
                num(parts[2])?
            } else {
                0.0
            };
            if !(0.0..=1000.0).contains(&delay_us) {
                return Err(self.err(
                    "multipath",
                    format!("delay {delay_us} us is outside 0..=1000 us"),
                ));
            }
            if !(-100.0..=40.0).contains(&gain_db) {
                return Err(self.err(
                    "multipath",
                    format!("gain {gain_db} dB is outside -100..=40 dB"),
                ));
            }
            let g = Complex64::from_polar(10f64.powf(gain_db / 20.0), phase_deg.to_radians());
            taps.push((delay_us * 1e-6, g));
        }
        if taps.is_empty() {
            return Err(self.err("multipath", format!("no taps; {HELP}")));
        }
        let p: f64 = taps.iter().map(|(_, g)| g.norm_sqr()).sum();
        let s = 1.0 / p.sqrt();
        Ok(taps.into_iter().map(|(d, g)| (d, g * s)).collect())
    }

    fn tone(self, t: &ToneArg) -> Result<CwTone, OptionError> {
        match t {
            ToneArg::Pair(f, l) => Ok(CwTone::new(self.hz("tones", f)?, self.db("tones", *l)?)),
            ToneArg::Text(text) => {
                let Some((f, l)) = text.split_once(':') else {
                    return Err(self.err(
                        "tones",
                        format!("'{text}': expected FREQ_HZ:LEVEL_DB (e.g. 1.2M:20)"),
                    ));
                };
                let f = self.hz("tones", &HzArg::Text(f.trim().to_string()))?;
                let l = l.trim().parse::<f64>().map_err(|_| {
                    self.err("tones", format!("'{text}': level '{l}' is not a number"))
                })?;
                Ok(CwTone::new(f, self.db("tones", l)?))
            }
        }
    }

    fn records(self, r: &RecordArg) -> Result<Vec<droneid_payload::RecordSpec>, OptionError> {
        match r {
            RecordArg::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    self.err("record", format!("cannot read {}: {e}", path.display()))
                })?;
                droneid_payload::parse_record_specs(&text)
                    .map_err(|e| self.err("record", format!("{}: {e}", path.display())))
            }
            RecordArg::Json(text) => {
                droneid_payload::parse_record_specs(text).map_err(|e| self.err("record", e))
            }
        }
    }
}

impl SynthOptions {
    /// Checks every option and builds the capture and its impairments (no file is written;
    /// a [`RecordArg::File`] is read). Render them with
    /// [`render_capture_with`](crate::render_capture_with).
    pub fn plan(&self, names: OptionNames) -> Result<(CaptureSpec, Impairments), OptionError> {
        let c = Check { names };
        let fs = c.hz("sample_rate", &self.sample_rate)?;
        if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&fs) {
            return Err(c.err(
                "sample_rate",
                format!("{fs} Hz is outside the allowed range 4e6..=10e9 Hz"),
            ));
        }
        let format = match (self.symbols, self.cp_schedule) {
            (9, _) => BurstFormat::Nine,
            (8, CpSchedule::Kz) => BurstFormat::Eight,
            (8, CpSchedule::Rub) => BurstFormat::EightLongFirstCp,
            (n, _) => return Err(c.err("symbols", format!("{n} is not allowed; use 9 or 8"))),
        };
        let mut sc = Scenario::new(fs);
        sc.format = format;
        sc.seed = self.seed;
        if let Some(f) = &self.center_freq {
            sc.center_freq_hz = Some(c.hz("center_freq", f)?);
        }
        if self.drones == 0 || self.drones > 1000 {
            return Err(c.err("drones", format!("{} is outside 1..=1000", self.drones)));
        }
        sc.drones = self.drones as usize;
        if let Some(n) = self.bursts {
            if n > 10_000_000 {
                return Err(c.err("bursts", format!("{n} is outside 0..=10000000")));
            }
            sc.bursts_per_drone = Some(n as usize);
        }
        if let Some(d) = self.duration_s {
            if !(d.is_finite() && d > 0.0) {
                return Err(c.err(
                    "duration_s",
                    format!("{d} must be a finite number of seconds > 0"),
                ));
            }
            sc.duration_s = Some(d);
        }
        sc.interval_s = c.ms("interval_ms", self.interval_ms)?;
        sc.jitter_s = c.ms(
            "jitter_ms",
            self.jitter_ms.unwrap_or(0.02 * self.interval_ms),
        )?;
        sc.lead_in_s = c.ms("lead_in_ms", self.lead_in_ms)?;
        sc.tail_s = c.ms("tail_ms", self.tail_ms)?;
        if let Some(snr) = self.snr_db {
            if !(snr.is_finite() && (-100.0..=200.0).contains(&snr)) {
                return Err(c.err("snr_db", format!("{snr} is outside -100..=200 dB")));
            }
            sc.snr_db = Some(snr);
        }
        if let Some(f) = &self.cfo_hz {
            sc.cfo_hz = c.hz("cfo_hz", f)?;
        }
        if let Some(f) = &self.freq_offset_hz {
            if self.random_offsets {
                return Err(c.err(
                    "freq_offset_hz",
                    format!("cannot be combined with {}", c.n("random_offsets")),
                ));
            }
            sc.freq_offset_hz = c.hz("freq_offset_hz", f)?;
        }
        let max_offset = fs / 2.0 + OCCUPIED_BANDWIDTH_HZ;
        if (sc.freq_offset_hz + sc.cfo_hz).abs() > max_offset {
            return Err(c.err(
                "freq_offset_hz/cfo_hz",
                format!("|offset + cfo| must be <= {max_offset:.0} Hz at {fs} S/s (Fs/2 + 9.015 MHz: the burst must lie within one burst width of the captured band)"),
            ));
        }
        sc.random_offsets = self.random_offsets;
        if !(self.ppm.is_finite() && self.ppm.abs() <= 1000.0) {
            return Err(c.err("ppm", format!("{} is outside -1000..=1000", self.ppm)));
        }
        sc.sample_clock_ppm = self.ppm;
        if let Some(m) = &self.multipath {
            sc.multipath = c.multipath(m)?;
        }
        sc.identity_every = self.identity_every as usize;
        sc.random_phase = !self.zero_phase;
        if let Some(r) = &self.record {
            sc.records = c.records(r)?;
        }
        if let Some(us) = self.pair_delay_us {
            if !(us.is_finite() && (0.0..=1e6).contains(&us)) {
                return Err(c.err("pair_delay_us", format!("{us} is outside 0..=1000000 us")));
            }
            let offset_hz = match &self.pair_offset_hz {
                Some(o) => c.hz("pair_offset_hz", o)?,
                None => 0.0,
            };
            sc.pair = Some(BurstPair {
                delay_s: us * 1e-6,
                offset_hz,
            });
        } else {
            c.requires(
                self.pair_offset_hz.is_some(),
                "pair_offset_hz",
                "pair_delay_us",
            )?;
        }
        let channel = (!sc.random_offsets).then_some(sc.freq_offset_hz);
        let imp = self.impairments(c, channel)?;
        let spec = sc.build().map_err(|e| OptionError::from_synth(e, names))?;
        if spec.total_samples == 0 {
            return Err(c.err("duration_s", "the capture would hold no samples"));
        }
        imp.validate(fs)
            .map_err(|e| OptionError::from_synth(e, names))?;
        Ok((spec, imp))
    }

    /// The impairments; `channel_hz` is the bursts' channel (for `wifi_overlap_hz`).
    fn impairments(&self, c: Check, channel_hz: Option<f64>) -> Result<Impairments, OptionError> {
        c.requires(
            self.dc_drift_hz.is_some() && self.dc_db.is_none(),
            "dc_drift_hz",
            "dc_db",
        )?;
        c.requires(
            self.hopper_channels_mhz.is_some() && self.hopper_db.is_none(),
            "hopper_channels_mhz",
            "hopper_db",
        )?;
        for (given, keyword) in [
            (self.wifi_center_hz.is_some(), "wifi_center_hz"),
            (self.wifi_overlap_hz.is_some(), "wifi_overlap_hz"),
            (self.wifi_on_ms.is_some(), "wifi_on_ms"),
        ] {
            c.requires(given && self.wifi_db.is_none(), keyword, "wifi_db")?;
        }
        c.requires(
            self.wifi_period_ms.is_some() && self.wifi_on_ms.is_none(),
            "wifi_period_ms",
            "wifi_on_ms",
        )?;
        if self.wifi_center_hz.is_some() && self.wifi_overlap_hz.is_some() {
            return Err(c.err(
                "wifi_overlap_hz",
                format!("cannot be combined with {}", c.n("wifi_center_hz")),
            ));
        }
        let mut imp = Impairments::default();
        if let Some(d) = self.dc_db {
            let mut dc = DcOffset::new(c.db("dc_db", d)?);
            if let Some(h) = &self.dc_drift_hz {
                dc.drift_hz = c.hz("dc_drift_hz", h)?;
            }
            imp.dc = Some(dc);
        }
        for t in &self.tones {
            imp.tones.push(c.tone(t)?);
        }
        if let Some(d) = self.hopper_db {
            let mut h = Hopper::new(c.db("hopper_db", d)?);
            let not_mhz = |item: &dyn std::fmt::Display| {
                c.err(
                    "hopper_channels_mhz",
                    format!("'{item}' is not a frequency in MHz"),
                )
            };
            let ok = |v: f64| v.is_finite() && v.abs() <= 1e4;
            match &self.hopper_channels_mhz {
                None => {}
                Some(ChannelsArg::Text(list)) => {
                    for item in list.split(',').map(str::trim) {
                        let v = item
                            .parse::<f64>()
                            .ok()
                            .filter(|&v| ok(v))
                            .ok_or_else(|| not_mhz(&item))?;
                        h.channels_hz.push(v * 1e6);
                    }
                }
                Some(ChannelsArg::List(list)) => {
                    for &v in list {
                        if !ok(v) {
                            return Err(not_mhz(&v));
                        }
                        h.channels_hz.push(v * 1e6);
                    }
                }
            }
            imp.hopper = Some(h);
        }
        if let Some(d) = self.wifi_db {
            let level = c.db("wifi_db", d)?;
            let mut w = match (&self.wifi_center_hz, &self.wifi_overlap_hz) {
                (Some(f), _) => WifiBursts::continuous(c.hz("wifi_center_hz", f)?, level),
                (None, Some(o)) => {
                    let Some(ch) = channel_hz else {
                        return Err(c.err(
                            "wifi_overlap_hz",
                            format!(
                                "needs one channel for every burst (not {})",
                                c.n("random_offsets")
                            ),
                        ));
                    };
                    WifiBursts::overlapping_channel(ch, c.hz("wifi_overlap_hz", o)?, level)
                }
                (None, None) => {
                    return Err(c.err(
                        "wifi_db",
                        format!(
                            "give {} or {}",
                            c.n("wifi_center_hz"),
                            c.n("wifi_overlap_hz")
                        ),
                    ))
                }
            };
            if let Some(on) = self.wifi_on_ms {
                let period = self.wifi_period_ms.unwrap_or(2.0 * on);
                if !(on.is_finite() && on > 0.0 && period.is_finite() && period > 0.0) {
                    return Err(c.err(
                        "wifi_on_ms/wifi_period_ms",
                        format!("{on} / {period} ms must be finite and > 0"),
                    ));
                }
                w.on_s = on * 1e-3;
                w.period_s = period * 1e-3;
            }
            imp.wifi.push(w);
        }
        let clip = match (self.ci8, self.clip_db) {
            (_, Some(db)) => Some(db),
            (true, None) => Some(30.0),
            (false, None) => None,
        };
        if let Some(db) = clip {
            if !(db.is_finite() && (-20.0..=100.0).contains(&db)) {
                return Err(c.err("clip_db", format!("{db} dB is outside -20..=100 dB")));
            }
            imp.quantize = Some(Quantize::new(db));
        }
        imp.iq_swap = self.iq_swap;
        Ok(imp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(o: &SynthOptions, names: OptionNames) -> String {
        o.plan(names).unwrap_err().to_string()
    }

    #[test]
    fn flags_and_keywords_name_the_same_option() {
        let cases: Vec<(SynthOptions, &str, &str)> = vec![
            (
                SynthOptions {
                    random_offsets: true,
                    freq_offset_hz: Some(HzArg::Number(1e6)),
                    ..Default::default()
                },
                "--freq-offset-hz: cannot be combined with --random-offsets",
                "freq_offset_hz: cannot be combined with random_offsets",
            ),
            (
                SynthOptions {
                    tones: vec![ToneArg::Text("1M".into())],
                    ..Default::default()
                },
                "--tone: '1M': expected FREQ_HZ:LEVEL_DB (e.g. 1.2M:20)",
                "tones: '1M': expected FREQ_HZ:LEVEL_DB (e.g. 1.2M:20)",
            ),
            (
                SynthOptions {
                    dc_drift_hz: Some(HzArg::Number(5.0)),
                    ..Default::default()
                },
                "--dc-drift-hz: needs --dc-db",
                "dc_drift_hz: needs dc_db",
            ),
            (
                SynthOptions {
                    wifi_db: Some(10.0),
                    ..Default::default()
                },
                "--wifi-db: give --wifi-center-hz or --wifi-overlap-hz",
                "wifi_db: give wifi_center_hz or wifi_overlap_hz",
            ),
            (
                SynthOptions {
                    freq_offset_hz: Some(HzArg::Text("30M".into())),
                    ..Default::default()
                },
                "--freq-offset-hz/--cfo-hz: |offset + cfo| must be <= 16695000 Hz at 15360000 S/s (Fs/2 + 9.015 MHz: the burst must lie within one burst width of the captured band)",
                "freq_offset_hz/cfo_hz: |offset + cfo| must be <= 16695000 Hz at 15360000 S/s (Fs/2 + 9.015 MHz: the burst must lie within one burst width of the captured band)",
            ),
            (
                SynthOptions {
                    sample_rate: HzArg::Number(f64::NAN),
                    ..Default::default()
                },
                "--sample-rate: 'NaN' is not a finite number",
                "sample_rate: 'NaN' is not a finite number",
            ),
        ];
        for (o, flags, keywords) in cases {
            assert_eq!(err(&o, OptionNames::Flags), flags);
            assert_eq!(err(&o, OptionNames::Keywords), keywords);
        }
    }

    #[test]
    fn scenario_errors_name_the_option_that_set_the_field() {
        // A hopper channel list is checked by `Impairments::validate`.
        let e = SynthError::Impairment {
            field: "hopper.channels_hz".into(),
            reason: "empty".into(),
        };
        assert_eq!(
            OptionError::from_synth(e.clone(), OptionNames::Flags).to_string(),
            "--hopper-db/--hopper-channels-mhz: empty"
        );
        assert_eq!(
            OptionError::from_synth(e, OptionNames::Keywords).to_string(),
            "hopper_db/hopper_channels_mhz: empty"
        );
        let e = SynthError::Scenario {
            field: "something_new".into(),
            reason: "bad".into(),
        };
        assert_eq!(
            OptionError::from_synth(e, OptionNames::Flags).to_string(),
            "flags: bad"
        );
    }

    #[test]
    fn text_and_numbers_give_the_same_plan() {
        let text = SynthOptions {
            sample_rate: HzArg::Text("20M".into()),
            bursts: Some(2),
            interval_ms: 3.0,
            snr_db: Some(5.0),
            ci8: true,
            dc_db: Some(10.0),
            dc_drift_hz: Some(HzArg::Text("300".into())),
            tones: vec![ToneArg::Text("1.2M:20".into())],
            hopper_db: Some(20.0),
            hopper_channels_mhz: Some(ChannelsArg::Text("-1,0,1".into())),
            freq_offset_hz: Some(HzArg::Text("1M".into())),
            ..Default::default()
        };
        let numbers = SynthOptions {
            sample_rate: HzArg::Number(20e6),
            dc_drift_hz: Some(HzArg::Number(300.0)),
            tones: vec![ToneArg::Pair(HzArg::Number(1.2e6), 20.0)],
            hopper_channels_mhz: Some(ChannelsArg::List(vec![-1.0, 0.0, 1.0])),
            freq_offset_hz: Some(HzArg::Number(1e6)),
            ..text.clone()
        };
        let (a, b) = (
            text.plan(OptionNames::Flags).unwrap(),
            numbers.plan(OptionNames::Keywords).unwrap(),
        );
        assert_eq!(a.0.bursts, b.0.bursts);
        assert_eq!(a.1, b.1);
        // ci8 output quantises at 30 dB unless told otherwise.
        assert_eq!(a.1.quantize, Some(Quantize::new(30.0)));
    }
}
