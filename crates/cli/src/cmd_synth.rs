//! `droneid synth`: write a SigMF recording of synthetic DroneID bursts and its ground truth.
//!
//! Contract (docs/interface.md): `droneid synth [flags] --output PATH` writes `PATH.sigmf-meta`,
//! `PATH.sigmf-data` (cf32, or ci8 with `--format ci8`) and `PATH.truth.jsonl` (one JSON line per
//! burst). Real-air impairments (DC, tones, hopper, Wi-Fi, 8-bit quantisation, I/Q swap, narrow
//! rates, burst pairs) map one flag each onto `droneid_synth::Impairments` / `Scenario`, through
//! `droneid_synth::SynthOptions` (shared with the Python package). Every flag is checked before
//! any file is created; data and truth are written under temporary names and renamed at the end,
//! so a failed run leaves no partial output.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use droneid_core::{Complex32, OCCUPIED_BANDWIDTH_HZ};
use droneid_io::{SampleFormat, SigmfWriter};
use droneid_synth::{
    render_capture_with, CaptureSpec, ChannelsArg, HzArg, Impairments, OptionNames, RecordArg,
    SynthOptions, ToneArg, TruthRecord,
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

impl SynthArgs {
    /// The flags as the synthesiser's options (checked by [`SynthOptions::plan`], shared with
    /// the Python package).
    fn options(&self) -> SynthOptions {
        let text = |v: &Option<String>| v.clone().map(HzArg::Text);
        SynthOptions {
            sample_rate: HzArg::Text(self.sample_rate.clone()),
            bursts: self.bursts,
            symbols: self.symbols,
            cp_schedule: match self.cp_schedule {
                CpSchedule::Kz => droneid_synth::CpSchedule::Kz,
                CpSchedule::Rub => droneid_synth::CpSchedule::Rub,
            },
            snr_db: self.snr_db,
            cfo_hz: text(&self.cfo_hz),
            freq_offset_hz: text(&self.freq_offset_hz),
            seed: self.seed,
            record: self.record.clone().map(RecordArg::File),
            drones: self.drones,
            random_offsets: self.random_offsets,
            interval_ms: self.interval_ms,
            jitter_ms: self.jitter_ms,
            duration_s: self.duration_s,
            lead_in_ms: self.lead_in_ms,
            tail_ms: self.tail_ms,
            center_freq: text(&self.center_freq),
            ppm: self.ppm,
            multipath: self.multipath.clone(),
            identity_every: self.identity_every,
            zero_phase: self.zero_phase,
            ci8: self.format == OutFormat::Ci8,
            clip_db: self.clip_db,
            dc_db: self.dc_db,
            dc_drift_hz: text(&self.dc_drift_hz),
            tones: self.tone.iter().cloned().map(ToneArg::Text).collect(),
            hopper_db: self.hopper_db,
            hopper_channels_mhz: self.hopper_channels_mhz.clone().map(ChannelsArg::Text),
            wifi_db: self.wifi_db,
            wifi_center_hz: text(&self.wifi_center_hz),
            wifi_overlap_hz: text(&self.wifi_overlap_hz),
            wifi_on_ms: self.wifi_on_ms,
            wifi_period_ms: self.wifi_period_ms,
            iq_swap: self.iq_swap,
            pair_delay_us: self.pair_delay_us,
            pair_offset_hz: text(&self.pair_offset_hz),
        }
    }
}

/// Checks every flag and builds the capture and its impairments (no file is written).
fn plan(args: &SynthArgs) -> anyhow::Result<(CaptureSpec, Impairments)> {
    Ok(args.options().plan(OptionNames::Flags)?)
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
