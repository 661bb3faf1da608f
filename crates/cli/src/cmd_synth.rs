//! `droneid synth`: write a SigMF recording of synthetic DroneID bursts and its ground truth.
//!
//! Contract (docs/interface.md): `droneid synth [flags] --output PATH` writes `PATH.sigmf-meta`,
//! `PATH.sigmf-data` (cf32, or ci8 with `--format ci8`) and `PATH.truth.jsonl` (one JSON line per
//! burst). Real-air impairments (DC, tones, hopper, Wi-Fi, 8-bit quantisation, I/Q swap, narrow
//! rates, burst pairs) map one flag each onto `droneid_synth::Impairments` / `Scenario`. Every flag is
//! checked before any file is created; data and truth are written under temporary names and
//! renamed at the end, so a failed run leaves no partial output.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use droneid_core::{parse_hz, BurstFormat, Complex32, Complex64, OCCUPIED_BANDWIDTH_HZ};
use droneid_io::{SampleFormat, SigmfWriter};
use droneid_synth::{
    render_capture_with, BurstPair, CaptureSpec, CwTone, DcOffset, Hopper, Impairments, Quantize,
    Scenario, SynthError, TruthRecord, WifiBursts,
};

/// Output sample format of `droneid synth`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    /// 32-bit float I/Q (SigMF cf32_le).
    Cf32,
    /// Signed 8-bit I/Q (SigMF ci8, HackRF): quantised with clipping, see --clip-db.
    Ci8,
}

/// 8-symbol cyclic-prefix schedule (spec §2.3, disputed).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpSchedule {
    /// CPs [72×7, 80]: 8776 samples at 15.36 MS/s (KZ, P17).
    Kz,
    /// CPs [80, 72×6, 80]: 8784 samples (RUB).
    Rub,
}

/// Flags of `droneid synth`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Write a SigMF recording of synthetic DroneID bursts plus a ground-truth file",
    long_about = "Writes PATH.sigmf-meta + PATH.sigmf-data (cf32) with one annotation per burst, and \
PATH.truth.jsonl with one JSON line per burst (start_sample, freq_offset_hz, snr_db, symbols, msg_type, \
message_hex, block_hex, serial_number, ...).\n\n\
The bursts are exact band-limited OFDM at any output rate >= 4 MS/s. SNR is in-band: burst power over \
the noise power in 9.015 MHz; the noise has power 1.0 per complex sample at the output rate (a flat density \
N0 = 1/Fs), so at rates below 9.015 MS/s the SNR still counts the noise of the whole 9.015 MHz. Without \
--snr-db there is no noise and each burst has unit mean power.\n\n\
A burst whose 9.015 MHz reaches beyond +-Fs/2 (any rate below 9.015 MS/s, or an offset near the edge) is \
rendered at an integer multiple of Fs and passed through the radio's anti-alias filter (linear phase, flat \
to +-0.48 Fs, >= 70 dB down from +-0.5 Fs) before decimation; truth start_sample stays at the output rate and \
truth in_band_fraction says how much of the burst's band is inside +-Fs/2.\n\n\
Impairment levels are relative to the noise density N0 whether or not --snr-db adds the noise: --dc-db over \
the noise power per sample (the whole band), --tone over the noise in 15 kHz (one subcarrier), --hopper-db \
over the noise in 1 MHz, --wifi-db over the noise in the Wi-Fi's occupied band. Chain: bursts + noise, then \
tones, hopper and Wi-Fi, then DC, then --iq-swap, then quantisation (--format ci8 / --clip-db).",
    after_help = "Examples:\n  droneid synth --output /tmp/one\n  droneid synth -o /tmp/t --sample-rate 61.44M --bursts 4 --snr-db 3 --interval-ms 5\n  droneid synth -o /tmp/t --drones 3 --random-offsets --duration-s 2 --snr-db 10 --center-freq 2.4445G\n  droneid synth -o /tmp/t --symbols 8 --cp-schedule rub --record rec.json --multipath 0:0,0.8:-6:90\n  droneid synth -o /tmp/t --sample-rate 5M --snr-db 3 --bursts 4 --interval-ms 5\n  droneid synth -o /tmp/t --sample-rate 20M --snr-db 5 --format ci8 --dc-db 10 --freq-offset-hz 1M\n  droneid synth -o /tmp/t --snr-db 5 --tone 1.2M:20 --hopper-db 20 --hopper-channels-mhz=-1,0,1\n  droneid synth -o /tmp/t --sample-rate 30.72M --snr-db 8 --wifi-db 20 --wifi-overlap-hz 1.5M\n  droneid synth -o /tmp/t --sample-rate 30.72M --snr-db 5 --freq-offset-hz=-3.5M --pair-delay-us 200 --pair-offset-hz 7M"
)]
pub struct SynthArgs {
    /// Output base path: writes PATH.sigmf-meta, PATH.sigmf-data and PATH.truth.jsonl.
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
    /// Output sample rate, 4e6..=10e9 (15.36e6, 15360000 or 15.36M). Bursts reaching beyond
    /// ±Fs/2 go through an anti-alias filter (see above).
    #[arg(
        long,
        value_name = "HZ",
        default_value = "15.36e6",
        allow_hyphen_values = true
    )]
    pub sample_rate: String,
    /// Bursts per drone [default: 1, or as many as fit --duration-s].
    #[arg(long, value_name = "N")]
    pub bursts: Option<u64>,
    /// Burst format: 9 (OcuSync 2) or 8 (legacy, no symbol 0).
    #[arg(long, value_name = "9|8", default_value_t = 9)]
    pub symbols: u32,
    /// CP schedule of 8-symbol bursts.
    #[arg(long, value_enum, default_value_t = CpSchedule::Kz)]
    pub cp_schedule: CpSchedule,
    /// In-band SNR in dB (burst power / noise power in 9.015 MHz). Omitted: no noise.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub snr_db: Option<f64>,
    /// Carrier frequency error of every drone, Hz (added to the channel offset).
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub cfo_hz: Option<String>,
    /// Channel offset of every drone from the capture centre, Hz [default: 0].
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub freq_offset_hz: Option<String>,
    /// Seed of the noise and every random choice.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Record contents: a JSON RecordSpec object or array (cycled over each drone's bursts).
    #[arg(long, value_name = "FILE.json")]
    pub record: Option<PathBuf>,
    /// Number of drones (each with its own serial SYNTH000000000D<n>, track and channel).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub drones: u32,
    /// Give each drone a random channel offset keeping its 9.015 MHz inside the capture band.
    #[arg(long)]
    pub random_offsets: bool,
    /// Burst interval per drone, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 600.0)]
    pub interval_ms: f64,
    /// Each burst is delayed by a random 0..JITTER ms [default: 2 % of --interval-ms].
    #[arg(long, value_name = "MS")]
    pub jitter_ms: Option<f64>,
    /// Capture length in seconds [default: up to the last burst plus --tail-ms].
    #[arg(long, value_name = "S")]
    pub duration_s: Option<f64>,
    /// Time before the first burst, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1.0)]
    pub lead_in_ms: f64,
    /// Time after the last burst when the length is automatic, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1.0)]
    pub tail_ms: f64,
    /// Capture centre frequency (metadata and truth center_freq_hz).
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub center_freq: Option<String>,
    /// Transmitter sample-clock error, ppm (-1000..=1000).
    #[arg(
        long,
        value_name = "PPM",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    pub ppm: f64,
    /// Multipath taps "delay_us:gain_db[:phase_deg],..." (e.g. "0:0,0.8:-6:90"); the taps are
    /// normalised to unit total power, so --snr-db is the received SNR.
    #[arg(long, value_name = "TAPS", allow_hyphen_values = true)]
    pub multipath: Option<String>,
    /// With default records: every N-th burst of a drone is its 0x11 identity message (0 = never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub identity_every: u32,
    /// Carrier phase 0 at every burst start (default: random per burst).
    #[arg(long)]
    pub zero_phase: bool,
    /// Sample format of PATH.sigmf-data. ci8 quantises to 8 bits with clipping (see --clip-db).
    #[arg(long, value_enum, default_value_t = OutFormat::Cf32)]
    pub format: OutFormat,
    /// 8-bit quantisation: full scale (code ±128) in dB over the noise RMS per rail
    /// (sqrt(0.5)); 30 dB puts the noise at ≈ 4 codes RMS [default with --format ci8: 30].
    /// With cf32 output the samples are still quantised (code/128).
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub clip_db: Option<f64>,
    /// LO leakage: a DC spike DB dB above the total noise power per sample (whole band).
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub dc_db: Option<f64>,
    /// Slow phase drift of the DC spike (it sits at this frequency), Hz [default: 0].
    #[arg(
        long,
        value_name = "HZ",
        allow_hyphen_values = true,
        requires = "dc_db"
    )]
    pub dc_drift_hz: Option<String>,
    /// CW tone "FREQ_HZ:LEVEL_DB": frequency from the capture centre (inside ±Fs/2), level over
    /// the noise in one subcarrier (15 kHz). Repeat for several tones.
    #[arg(long, value_name = "HZ:DB", allow_hyphen_values = true)]
    pub tone: Vec<String>,
    /// Bluetooth-like hopper: 1 MHz of noise, 366 µs on in every 625 µs slot, DB dB over the
    /// noise in 1 MHz while on. Channels outside the capture are silent.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub hopper_db: Option<f64>,
    /// Hopper channel centres from the capture centre, MHz, comma-separated (e.g. "-1,0,1")
    /// [default: -39..=39, every 1 MHz].
    #[arg(
        long,
        value_name = "LIST",
        allow_hyphen_values = true,
        requires = "hopper_db"
    )]
    pub hopper_channels_mhz: Option<String>,
    /// Wi-Fi-like signal: 16.6 MHz of flat noise, DB dB over the noise in its occupied band.
    /// Placed by --wifi-center-hz or --wifi-overlap-hz.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub wifi_db: Option<f64>,
    /// Wi-Fi centre from the capture centre, Hz.
    #[arg(
        long,
        value_name = "HZ",
        allow_hyphen_values = true,
        requires = "wifi_db"
    )]
    pub wifi_center_hz: Option<String>,
    /// Place the Wi-Fi so that its band covers the top HZ of the bursts' 9.015 MHz channel
    /// (--freq-offset-hz); negative: the bottom |HZ|.
    #[arg(
        long,
        value_name = "HZ",
        allow_hyphen_values = true,
        requires = "wifi_db",
        conflicts_with = "wifi_center_hz"
    )]
    pub wifi_overlap_hz: Option<String>,
    /// Wi-Fi transmission length, ms [default: continuous].
    #[arg(long, value_name = "MS", requires = "wifi_db")]
    pub wifi_on_ms: Option<f64>,
    /// Wi-Fi period, ms (with --wifi-on-ms) [default: 2 × --wifi-on-ms].
    #[arg(long, value_name = "MS", requires = "wifi_on_ms")]
    pub wifi_period_ms: Option<f64>,
    /// Swap I and Q of every written sample (spectral inversion; truth keeps the transmitted
    /// offsets).
    #[arg(long)]
    pub iq_swap: bool,
    /// Pair every burst with a partner drone's burst starting US µs later (back-to-back on one
    /// channel: 660..900; time-overlapping: < 643.2, with --pair-offset-hz).
    #[arg(long, value_name = "US")]
    pub pair_delay_us: Option<f64>,
    /// Channel of the partner burst relative to its drone's channel, Hz [default: 0].
    #[arg(
        long,
        value_name = "HZ",
        allow_hyphen_values = true,
        requires = "pair_delay_us"
    )]
    pub pair_offset_hz: Option<String>,
}

fn hz_flag(flag: &str, text: &str) -> anyhow::Result<f64> {
    parse_hz(text).map_err(|e| anyhow!("{flag}: {e}"))
}

/// Parses "delay_us:gain_db[:phase_deg],..." into taps normalised to unit total power.
fn parse_multipath(text: &str) -> anyhow::Result<Vec<(f64, Complex64)>> {
    const HELP: &str = "expected \"delay_us:gain_db[:phase_deg],...\" with 0 <= delay_us <= 1000";
    let mut taps = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        if !(2..=3).contains(&parts.len()) {
            bail!("--multipath: '{item}': {HELP}");
        }
        let num = |s: &str| -> anyhow::Result<f64> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    anyhow!("--multipath: '{item}': '{s}' is not a finite number; {HELP}")
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
            bail!("--multipath: delay {delay_us} us is outside 0..=1000 us");
        }
        if !(-100.0..=40.0).contains(&gain_db) {
            bail!("--multipath: gain {gain_db} dB is outside -100..=40 dB");
        }
        let g = Complex64::from_polar(10f64.powf(gain_db / 20.0), phase_deg.to_radians());
        taps.push((delay_us * 1e-6, g));
    }
    if taps.is_empty() {
        bail!("--multipath: no taps; {HELP}");
    }
    let p: f64 = taps.iter().map(|(_, g)| g.norm_sqr()).sum();
    let s = 1.0 / p.sqrt();
    Ok(taps.into_iter().map(|(d, g)| (d, g * s)).collect())
}

/// Turns scenario/burst errors into messages that name the command-line flag.
fn flag_error(e: SynthError) -> anyhow::Error {
    let flag = |field: &str| match field {
        "interval_s" => "--interval-ms",
        "jitter_s" => "--jitter-ms",
        "lead_in_s" => "--lead-in-ms",
        "tail_s" => "--tail-ms",
        "duration_s" => "--duration-s",
        "drones" => "--drones",
        "bursts" => "--bursts",
        "random_offsets" => "--random-offsets",
        "freq_offset_hz" | "cfo_hz" => "--freq-offset-hz/--cfo-hz",
        "snr_db" => "--snr-db",
        "sample_clock_ppm" => "--ppm",
        "multipath" => "--multipath",
        "phase_rad" => "--seed",
        "pair_delay_s" => "--pair-delay-us",
        "pair_offset_hz" => "--pair-offset-hz",
        f if f.starts_with("dc.") => "--dc-db/--dc-drift-hz",
        f if f.starts_with("tone") => "--tone",
        f if f.starts_with("hopper") => "--hopper-db/--hopper-channels-mhz",
        f if f.starts_with("wifi") => "--wifi-*",
        f if f.starts_with("quantize") => "--clip-db",
        _ => "flags",
    };
    match e {
        SynthError::Scenario { field, reason } => anyhow!("{}: {reason}", flag(&field)),
        SynthError::Burst { field, reason, .. } => anyhow!("{}: {reason}", flag(&field)),
        SynthError::Impairment { field, reason } => anyhow!("{}: {reason}", flag(&field)),
        SynthError::SampleRate { value } => {
            anyhow!("--sample-rate: {value} Hz is invalid; use a finite rate in 4e6..=10e9 Hz")
        }
        SynthError::CenterFreq { value } => anyhow!("--center-freq: {value} is not finite"),
        SynthError::Record(m) => anyhow!("--record: {m}"),
        other => anyhow!("{other}"),
    }
}

/// A finite level in dB, -100..=100.
fn db_flag(flag: &str, v: f64) -> anyhow::Result<f64> {
    if !(v.is_finite() && (-100.0..=100.0).contains(&v)) {
        bail!("{flag}: {v} dB is outside -100..=100 dB");
    }
    Ok(v)
}

/// Parses "FREQ_HZ:LEVEL_DB".
fn parse_tone(text: &str) -> anyhow::Result<CwTone> {
    let Some((f, l)) = text.split_once(':') else {
        bail!("--tone: '{text}': expected FREQ_HZ:LEVEL_DB (e.g. 1.2M:20)");
    };
    let f = hz_flag("--tone", f.trim())?;
    let l = l
        .trim()
        .parse::<f64>()
        .map_err(|_| anyhow!("--tone: '{text}': level '{l}' is not a number"))?;
    Ok(CwTone::new(f, db_flag("--tone", l)?))
}

/// The impairments of the flags; `channel_hz` is the bursts' channel (for --wifi-overlap-hz).
fn impairments(args: &SynthArgs, channel_hz: Option<f64>) -> anyhow::Result<Impairments> {
    let mut imp = Impairments::default();
    if let Some(d) = args.dc_db {
        let mut dc = DcOffset::new(db_flag("--dc-db", d)?);
        if let Some(h) = &args.dc_drift_hz {
            dc.drift_hz = hz_flag("--dc-drift-hz", h)?;
        }
        imp.dc = Some(dc);
    }
    for t in &args.tone {
        imp.tones.push(parse_tone(t)?);
    }
    if let Some(d) = args.hopper_db {
        let mut h = Hopper::new(db_flag("--hopper-db", d)?);
        if let Some(list) = &args.hopper_channels_mhz {
            for item in list.split(',').map(str::trim) {
                let v = item
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && v.abs() <= 1e4)
                    .ok_or_else(|| {
                        anyhow!("--hopper-channels-mhz: '{item}' is not a frequency in MHz")
                    })?;
                h.channels_hz.push(v * 1e6);
            }
        }
        imp.hopper = Some(h);
    }
    if let Some(d) = args.wifi_db {
        let level = db_flag("--wifi-db", d)?;
        let mut w = match (&args.wifi_center_hz, &args.wifi_overlap_hz) {
            (Some(c), _) => WifiBursts::continuous(hz_flag("--wifi-center-hz", c)?, level),
            (None, Some(o)) => {
                let Some(ch) = channel_hz else {
                    bail!("--wifi-overlap-hz: needs one channel for every burst (not --random-offsets)");
                };
                WifiBursts::overlapping_channel(ch, hz_flag("--wifi-overlap-hz", o)?, level)
            }
            (None, None) => bail!("--wifi-db: give --wifi-center-hz or --wifi-overlap-hz"),
        };
        if let Some(on) = args.wifi_on_ms {
            let period = args.wifi_period_ms.unwrap_or(2.0 * on);
            if !(on.is_finite() && on > 0.0 && period.is_finite() && period > 0.0) {
                bail!("--wifi-on-ms/--wifi-period-ms: {on} / {period} ms must be finite and > 0");
            }
            w.on_s = on * 1e-3;
            w.period_s = period * 1e-3;
        }
        imp.wifi.push(w);
    }
    let clip = match (args.format, args.clip_db) {
        (_, Some(c)) => Some(c),
        (OutFormat::Ci8, None) => Some(30.0),
        (OutFormat::Cf32, None) => None,
    };
    if let Some(c) = clip {
        if !(c.is_finite() && (-20.0..=100.0).contains(&c)) {
            bail!("--clip-db: {c} dB is outside -20..=100 dB");
        }
        imp.quantize = Some(Quantize::new(c));
    }
    imp.iq_swap = args.iq_swap;
    Ok(imp)
}

/// Checks every flag and builds the capture and its impairments (no file is touched).
fn plan(args: &SynthArgs) -> anyhow::Result<(CaptureSpec, Impairments)> {
    let fs = hz_flag("--sample-rate", &args.sample_rate)?;
    if !(droneid_synth::MIN_SAMPLE_RATE_HZ..=10e9).contains(&fs) {
        bail!("--sample-rate: {fs} Hz is outside the allowed range 4e6..=10e9 Hz");
    }
    let format = match (args.symbols, args.cp_schedule) {
        (9, _) => BurstFormat::Nine,
        (8, CpSchedule::Kz) => BurstFormat::Eight,
        (8, CpSchedule::Rub) => BurstFormat::EightLongFirstCp,
        (n, _) => bail!("--symbols: {n} is not allowed; use 9 or 8"),
    };
    let mut sc = Scenario::new(fs);
    sc.format = format;
    sc.seed = args.seed;
    if let Some(c) = &args.center_freq {
        let c = hz_flag("--center-freq", c)?;
        sc.center_freq_hz = Some(c);
    }
    if args.drones == 0 || args.drones > 1000 {
        bail!("--drones: {} is outside 1..=1000", args.drones);
    }
    sc.drones = args.drones as usize;
    if let Some(n) = args.bursts {
        if n > 10_000_000 {
            bail!("--bursts: {n} is outside 0..=10000000");
        }
        sc.bursts_per_drone = Some(n as usize);
    }
    if let Some(d) = args.duration_s {
        if !(d.is_finite() && d > 0.0) {
            bail!("--duration-s: {d} must be a finite number of seconds > 0");
        }
        sc.duration_s = Some(d);
    }
    let ms = |flag: &str, v: f64| -> anyhow::Result<f64> {
        if !(v.is_finite() && v >= 0.0) {
            bail!("{flag}: {v} must be a finite number of milliseconds >= 0");
        }
        Ok(v * 1e-3)
    };
    sc.interval_s = ms("--interval-ms", args.interval_ms)?;
    sc.jitter_s = ms(
        "--jitter-ms",
        args.jitter_ms.unwrap_or(0.02 * args.interval_ms),
    )?;
    sc.lead_in_s = ms("--lead-in-ms", args.lead_in_ms)?;
    sc.tail_s = ms("--tail-ms", args.tail_ms)?;
    if let Some(snr) = args.snr_db {
        if !(snr.is_finite() && (-100.0..=200.0).contains(&snr)) {
            bail!("--snr-db: {snr} is outside -100..=200 dB");
        }
        sc.snr_db = Some(snr);
    }
    if let Some(c) = &args.cfo_hz {
        sc.cfo_hz = hz_flag("--cfo-hz", c)?;
    }
    if let Some(f) = &args.freq_offset_hz {
        if args.random_offsets {
            bail!("--freq-offset-hz: cannot be combined with --random-offsets");
        }
        sc.freq_offset_hz = hz_flag("--freq-offset-hz", f)?;
    }
    let max_offset = fs / 2.0 + OCCUPIED_BANDWIDTH_HZ;
    if (sc.freq_offset_hz + sc.cfo_hz).abs() > max_offset {
        bail!(
            "--freq-offset-hz/--cfo-hz: |offset + cfo| must be <= {max_offset:.0} Hz at {fs} S/s (Fs/2 + 9.015 MHz: the burst must lie within one burst width of the captured band)"
        );
    }
    sc.random_offsets = args.random_offsets;
    if !(args.ppm.is_finite() && args.ppm.abs() <= 1000.0) {
        bail!("--ppm: {} is outside -1000..=1000", args.ppm);
    }
    sc.sample_clock_ppm = args.ppm;
    if let Some(m) = &args.multipath {
        sc.multipath = parse_multipath(m)?;
    }
    sc.identity_every = args.identity_every as usize;
    sc.random_phase = !args.zero_phase;
    if let Some(path) = &args.record {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("--record: cannot read {}: {e}", path.display()))?;
        sc.records = droneid_payload::parse_record_specs(&text)
            .map_err(|e| anyhow!("--record: {}: {e}", path.display()))?;
    }
    if let Some(us) = args.pair_delay_us {
        if !(us.is_finite() && (0.0..=1e6).contains(&us)) {
            bail!("--pair-delay-us: {us} is outside 0..=1000000 us");
        }
        let offset_hz = match &args.pair_offset_hz {
            Some(o) => hz_flag("--pair-offset-hz", o)?,
            None => 0.0,
        };
        sc.pair = Some(BurstPair {
            delay_s: us * 1e-6,
            offset_hz,
        });
    }
    let channel = (!sc.random_offsets).then_some(sc.freq_offset_hz);
    let imp = impairments(args, channel)?;
    let spec = sc.build().map_err(flag_error)?;
    if spec.total_samples == 0 {
        bail!("--duration-s: the capture would hold no samples");
    }
    imp.validate(fs).map_err(flag_error)?;
    Ok((spec, imp))
}

fn label(t: &TruthRecord) -> String {
    let mut l = format!("droneid {}-sym 0x{:02x}", t.symbols, t.msg_type);
    if let Some(s) = &t.serial_number {
        l.push(' ');
        l.push_str(s);
    }
    if let Some(q) = t.sequence_number {
        l.push_str(&format!(" seq {q}"));
    }
    if let Some(snr) = t.snr_db {
        l.push_str(&format!(" snr {snr:.1} dB"));
    }
    l
}

/// Runs `droneid synth`.
pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let (spec, imp) = plan(args)?;
    let base = droneid_io::sigmf_base_path(&args.output);
    if base.as_os_str().is_empty() {
        bail!("--output: empty path");
    }
    let truth_path = droneid_io::path_with_suffix(&base, ".truth.jsonl");
    let truth_tmp = droneid_io::path_with_suffix(&base, ".truth.jsonl.tmp");
    let fs = spec.sample_rate_hz;
    let description = format!(
        "droneid synth: {} DroneID bursts, {} drone(s), seed {}",
        spec.bursts.len(),
        args.drones,
        args.seed
    );
    let mut writer = SigmfWriter::create(
        &base,
        match args.format {
            OutFormat::Cf32 => SampleFormat::Cf32,
            OutFormat::Ci8 => SampleFormat::Ci8,
        },
        fs,
        spec.center_freq_hz,
        &description,
    )
    .map_err(|e| anyhow!("--output: {e}"))?;
    writer.set_global("droneid:seed", serde_json::json!(args.seed));
    writer.set_global(
        "droneid:noise_power",
        serde_json::json!(imp.output_noise_power()),
    );
    if !imp.is_empty() {
        writer.set_global(
            "droneid:impairments",
            serde_json::to_value(&imp).unwrap_or(serde_json::Value::Null),
        );
    }

    let result = (|| -> anyhow::Result<Vec<TruthRecord>> {
        let truth = render_capture_with(
            &spec,
            &imp,
            droneid_synth::DEFAULT_BLOCK_LEN,
            &mut |b: &[Complex32]| writer.write(b).map_err(anyhow::Error::from),
        )?;
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&truth_tmp)
                .with_context(|| format!("cannot write {}", truth_tmp.display()))?,
        );
        for t in &truth {
            serde_json::to_writer(&mut f, t)?;
            f.write_all(b"\n")?;
        }
        f.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", truth_tmp.display()))?;
        Ok(truth)
    })();
    let truth = match result {
        Ok(t) => t,
        Err(e) => {
            drop(writer); // removes the temporary data file
            let _ = std::fs::remove_file(&truth_tmp);
            return Err(e);
        }
    };
    let total = spec.total_samples;
    for t in &truth {
        let len = t.length_samples.ceil() as i64 + 1;
        let start = t.start_sample.max(0);
        let end = (t.start_sample + len).min(total as i64);
        if end <= start {
            continue;
        }
        let centre = spec.center_freq_hz.unwrap_or(0.0) + t.total_freq_offset_hz;
        writer.annotate(
            start as u64,
            (end - start) as u64,
            &label(t),
            Some(centre - OCCUPIED_BANDWIDTH_HZ / 2.0),
            Some(centre + OCCUPIED_BANDWIDTH_HZ / 2.0),
        );
    }
    if let Err(e) = writer.finish() {
        let _ = std::fs::remove_file(&truth_tmp);
        return Err(anyhow!("{e}"));
    }
    std::fs::rename(&truth_tmp, &truth_path).map_err(|e| {
        let _ = std::fs::remove_file(&truth_tmp);
        anyhow!("cannot write {}: {e}", truth_path.display())
    })?;
    let drones = truth.iter().map(|t| t.drone).max().map_or(0, |d| d + 1);
    eprintln!(
        "droneid synth: wrote {}.sigmf-data ({} samples, {:.6} s at {} S/s, {}, {:.1} MB), {} bursts from {} drone(s), {}; truth {}",
        base.display(),
        total,
        total as f64 / fs,
        fs,
        match args.format {
            OutFormat::Cf32 => "cf32",
            OutFormat::Ci8 => "ci8",
        },
        total as f64
            * match args.format {
                OutFormat::Cf32 => 8.0,
                OutFormat::Ci8 => 2.0,
            }
            / 1e6,
        truth.len(),
        drones.max(args.drones),
        match args.snr_db {
            Some(s) => format!("in-band SNR {s} dB"),
            None => "no noise".to_string(),
        },
        truth_path.display()
    );
    Ok(())
}
