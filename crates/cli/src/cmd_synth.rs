//! `droneid synth`: write a SigMF recording of synthetic DroneID bursts and its ground truth.
//!
//! Contract (docs/interface.md): `droneid synth [flags] --output PATH` writes `PATH.sigmf-meta`,
//! `PATH.sigmf-data` (cf32) and `PATH.truth.jsonl` (one JSON line per burst). Every flag is
//! checked before any file is created; data and truth are written under temporary names and
//! renamed at the end, so a failed run leaves no partial output.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use droneid_core::{parse_hz, BurstFormat, Complex32, Complex64, OCCUPIED_BANDWIDTH_HZ};
use droneid_io::{SampleFormat, SigmfWriter};
use droneid_synth::{render_capture, CaptureSpec, Scenario, SynthError, TruthRecord};

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
The bursts are exact band-limited OFDM at any output rate >= 15.36 MS/s. SNR is in-band: burst power over \
the noise power in 9.015 MHz; the noise has power 1.0 per complex sample. Without --snr-db there is no \
noise and each burst has unit mean power.",
    after_help = "Examples:\n  droneid synth --output /tmp/one\n  droneid synth -o /tmp/t --sample-rate 61.44M --bursts 4 --snr-db 3 --interval-ms 5\n  droneid synth -o /tmp/t --drones 3 --random-offsets --duration-s 2 --snr-db 10 --center-freq 2.4445G\n  droneid synth -o /tmp/t --symbols 8 --cp-schedule rub --record rec.json --multipath 0:0,0.8:-6:90"
)]
pub struct SynthArgs {
    /// Output base path: writes PATH.sigmf-meta, PATH.sigmf-data and PATH.truth.jsonl.
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
    /// Output sample rate, >= 15.36e6 (15.36e6, 15360000 or 15.36M).
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
        _ => "flags",
    };
    match e {
        SynthError::Scenario { field, reason } => anyhow!("{}: {reason}", flag(&field)),
        SynthError::Burst { field, reason, .. } => anyhow!("{}: {reason}", flag(&field)),
        SynthError::SampleRate { value } => {
            anyhow!("--sample-rate: {value} Hz is invalid; use a finite rate in 15.36e6..=10e9 Hz")
        }
        SynthError::CenterFreq { value } => anyhow!("--center-freq: {value} is not finite"),
        SynthError::Record(m) => anyhow!("--record: {m}"),
        other => anyhow!("{other}"),
    }
}

/// Checks every flag and builds the capture (no file is touched).
fn plan(args: &SynthArgs) -> anyhow::Result<CaptureSpec> {
    let fs = hz_flag("--sample-rate", &args.sample_rate)?;
    if !(15.36e6..=10e9).contains(&fs) {
        bail!("--sample-rate: {fs} Hz is outside the allowed range 15.36e6..=10e9 Hz");
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
    let edge = (sc.freq_offset_hz + sc.cfo_hz).abs() + OCCUPIED_BANDWIDTH_HZ / 2.0;
    if edge > fs / 2.0 {
        bail!(
            "--freq-offset-hz/--cfo-hz: |offset + cfo| must be <= {:.0} Hz at {fs} S/s (the 9.015 MHz burst must fit inside ±Fs/2)",
            fs / 2.0 - OCCUPIED_BANDWIDTH_HZ / 2.0
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
    let spec = sc.build().map_err(flag_error)?;
    if spec.total_samples == 0 {
        bail!("--duration-s: the capture would hold no samples");
    }
    Ok(spec)
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
    let spec = plan(args)?;
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
        SampleFormat::Cf32,
        fs,
        spec.center_freq_hz,
        &description,
    )
    .map_err(|e| anyhow!("--output: {e}"))?;
    writer.set_global("droneid:seed", serde_json::json!(args.seed));
    writer.set_global(
        "droneid:noise_power",
        serde_json::json!(droneid_synth::NOISE_POWER),
    );

    let result = (|| -> anyhow::Result<Vec<TruthRecord>> {
        let truth = render_capture(
            &spec,
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
        "droneid synth: wrote {}.sigmf-data ({} samples, {:.6} s at {} S/s, cf32, {:.1} MB), {} bursts from {} drone(s), {}; truth {}",
        base.display(),
        total,
        total as f64 / fs,
        fs,
        total as f64 * 8.0 / 1e6,
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
