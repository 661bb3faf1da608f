//! `droneid bench`: receiver sensitivity (success rate versus in-band SNR over many synthetic
//! bursts) and receiver throughput (samples per second on a synthetic multi-drone capture).
//!
//! Both modes synthesise their input in memory with `droneid-synth`, so they need no files and are
//! reproducible from `--seed`. Generation time is never counted in the timings.
//!
//! `DRONEID_BENCH_DEBUG=1` prints every failed sensitivity burst (seed, truth, receiver counters,
//! frames) and, in throughput mode, the missed bursts and all frames of the first run.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use droneid_core::{BurstFormat, Complex32, Complex64, BASE_SAMPLE_RATE_HZ, TRANSPORT_BLOCK_BYTES};
use droneid_engine::{EngineConfig, MemorySource, RunControl};
use droneid_payload::{build_transport_block, deg_to_raw, FlightInfo};
use droneid_receiver::{Frame, Receiver, ReceiverConfig};
use droneid_synth::{try_render_to_vec, BurstSpec, CaptureSpec, Scenario, TruthRecord};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::common::{self, CliError};

/// Impairment profile of a sensitivity run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// White Gaussian noise only; CFO uniform in ±20 kHz.
    Awgn,
    /// AWGN plus 2–3 multipath taps (direct path + delays up to 1 µs at −3…−10 dB, random phases).
    Multipath,
    /// AWGN plus a transmitter sample-clock error uniform in ±20 ppm.
    Ppm,
    /// AWGN with CFO uniform in ±95 kHz (±20 kHz + 5 subcarriers of 15 kHz).
    CfoWide,
    /// Every profile above, one table each.
    All,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Awgn => "awgn",
            Profile::Multipath => "multipath",
            Profile::Ppm => "ppm",
            Profile::CfoWide => "cfo-wide",
            Profile::All => "all",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Profile::Awgn => "AWGN, CFO uniform in ±20 kHz",
            Profile::Multipath => {
                "AWGN, CFO ±20 kHz, 2–3 taps: direct path + 1–2 echoes delayed 0.05–1 µs at −3…−10 dB, random phases (SNR counts the direct path only)"
            }
            Profile::Ppm => "AWGN, CFO ±20 kHz, sample-clock error uniform in ±20 ppm",
            Profile::CfoWide => "AWGN, CFO uniform in ±95 kHz (±20 kHz + 5 subcarriers)",
            Profile::All => "all profiles",
        }
    }

    fn expand(self) -> Vec<Profile> {
        match self {
            Profile::All => vec![
                Profile::Awgn,
                Profile::Multipath,
                Profile::Ppm,
                Profile::CfoWide,
            ],
            p => vec![p],
        }
    }
}

/// Flags of `droneid bench`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Measure receiver sensitivity (--sensitivity) or throughput (default) on synthetic captures",
    long_about = "Two modes, both on captures synthesised in memory (generation time is not counted):\n\n\
Throughput (default): one capture of --seconds at --sample-rate with --drones drones on random channels, \
each bursting every ~100 ms at --snr-db; the receiver runs over it --runs times (1<<18-sample blocks) and the \
best run is reported as samples/s and multiples of real time, with the bursts decoded versus the truth.\n\n\
Sensitivity (--sensitivity): for each in-band SNR from --snr-max down to --snr-min, --bursts-per-point \
bursts, each alone in its own 12 ms capture (9 ms of noise-only lead-in, so the detector's noise floor is \
warm, plus up to 1 ms of random fractional start) with random record content, random CFO and carrier phase. \
Each capture is decoded by a fresh receiver; a burst counts as decoded when exactly one CRC24-valid frame \
comes out, its 176-byte block equals the transmitted one and its start is within 3 µs of the truth. \
CRC-valid frames that do not match are counted as false frames. SNR is in-band: burst power over the noise \
power in 9.015 MHz.",
    after_help = "Examples:\n  droneid bench --sensitivity\n  droneid bench --sensitivity --profile all --output docs/sensitivity.md\n  droneid bench --sensitivity --snr-min -4 --snr-max 0 --bursts-per-point 50 --symbols 8\n  droneid bench --sample-rate 61.44M --seconds 2 --drones 2\n  droneid bench --sample-rate 122.88M --seconds 1 --snr-db 5"
)]
pub struct BenchArgs {
    /// Run the sensitivity sweep instead of the throughput measurement.
    #[arg(long)]
    pub sensitivity: bool,
    /// Sample rate in Hz, >= 15.36e6 (15.36e6, 15360000 or 15.36M).
    /// [default: 15.36M with --sensitivity, 61.44M for throughput]
    #[arg(long, value_name = "HZ", value_parser = common::rate_hz)]
    pub sample_rate: Option<f64>,
    /// Seed of every random choice (records, CFOs, phases, starts, noise).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Burst format: 9 (OcuSync 2) or 8 (legacy, KZ cyclic-prefix schedule).
    #[arg(long, value_name = "9|8", default_value_t = 9)]
    pub symbols: u32,

    // ---- sensitivity ----
    /// Sensitivity: impairment profile(s) to sweep.
    #[arg(long, value_enum, default_value_t = Profile::Awgn)]
    pub profile: Profile,
    /// Sensitivity: bursts per SNR point (each in its own capture).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        allow_hyphen_values = true
    )]
    pub bursts_per_point: i64,
    /// Sensitivity: highest in-band SNR, dB.
    #[arg(
        long,
        value_name = "DB",
        default_value_t = 10.0,
        allow_hyphen_values = true
    )]
    pub snr_max: f64,
    /// Sensitivity: lowest in-band SNR, dB.
    #[arg(long, value_name = "DB", default_value_t = -6.0, allow_hyphen_values = true)]
    pub snr_min: f64,
    /// Sensitivity: SNR step, dB (> 0). Half-dB points between −5 and −2 dB (the waterfall) are
    /// added unless --no-half-steps.
    #[arg(
        long,
        value_name = "DB",
        default_value_t = 1.0,
        allow_hyphen_values = true
    )]
    pub snr_step: f64,
    /// Sensitivity: do not add the half-dB points between −5 and −2 dB.
    #[arg(long)]
    pub no_half_steps: bool,
    /// Sensitivity: also write the tables as Markdown to FILE, with a header (command, date,
    /// machine, git commit).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    // ---- throughput ----
    /// Throughput: capture length, seconds.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 2.0,
        allow_hyphen_values = true
    )]
    pub seconds: f64,
    /// Throughput: number of drones, each on its own random channel, one burst per ~100 ms.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 2,
        allow_hyphen_values = true
    )]
    pub drones: i64,
    /// Throughput: in-band SNR of every burst, dB.
    #[arg(
        long,
        value_name = "DB",
        default_value_t = 10.0,
        allow_hyphen_values = true
    )]
    pub snr_db: f64,
    /// Throughput: timed runs over the same capture; the best is reported.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3,
        allow_hyphen_values = true
    )]
    pub runs: i64,
    /// Throughput: time the single-threaded reference receiver instead of the pipeline.
    #[arg(long)]
    pub single_thread: bool,
}

/// Runs `droneid bench`.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    let format = match args.symbols {
        9 => BurstFormat::Nine,
        8 => BurstFormat::Eight,
        s => return Err(CliError::usage(format!("--symbols {s}: must be 9 or 8"))),
    };
    let default_rate = if args.sensitivity {
        BASE_SAMPLE_RATE_HZ
    } else {
        61.44e6
    };
    let fs = args.sample_rate.unwrap_or(default_rate);
    if !(BASE_SAMPLE_RATE_HZ..=2e9).contains(&fs) {
        return Err(CliError::usage(format!(
            "--sample-rate {fs}: must be between 15.36e6 (the DroneID base rate) and 2e9 Hz"
        )));
    }
    if args.sensitivity {
        run_sensitivity(args, fs, format)
    } else {
        run_throughput(args, fs, format)
    }
}

// ------------------------------------------------------------------------------------------
// Sensitivity
// ------------------------------------------------------------------------------------------

/// Noise-only lead-in before the earliest burst start: the detector warms its noise floor up on
/// 128 frames (~2.1 ms at any rate), so 9 ms puts every burst well after the warm-up.
const LEAD_IN_S: f64 = 9e-3;
/// Random extra start offset (fractional samples), seconds.
const START_SPREAD_S: f64 = 1e-3;
/// Capture length, seconds (lead-in + spread + 0.64 ms burst + ≥ 1.3 ms tail).
const CAPTURE_S: f64 = 12e-3;
/// Start tolerance of a correct frame, seconds.
const START_TOLERANCE_S: f64 = 3e-6;

#[derive(Debug, Clone, Copy, Default)]
struct PointResult {
    snr_db: f64,
    total: u64,
    ok: u64,
    false_frames: u64,
    /// Receiver time summed over the point's bursts (construction + decode), seconds.
    decode_s: f64,
}

fn snr_points(args: &BenchArgs) -> Result<Vec<f64>, CliError> {
    let (hi, lo, step) = (args.snr_max, args.snr_min, args.snr_step);
    let in_range = |x: f64| (-100.0..=100.0).contains(&x);
    if !(in_range(hi) && in_range(lo)) {
        return Err(CliError::usage(
            "--snr-max/--snr-min must be within -100..=100 dB",
        ));
    }
    if lo > hi {
        return Err(CliError::usage(format!(
            "--snr-min {lo} is above --snr-max {hi}"
        )));
    }
    if !(step.is_finite() && step > 0.0) {
        return Err(CliError::usage(format!(
            "--snr-step {step}: must be a positive number of dB"
        )));
    }
    let count = ((hi - lo) / step + 1e-9).floor() as i64 + 1;
    if count > 10_000 {
        return Err(CliError::usage(
            "--snr-step is too small: more than 10000 SNR points",
        ));
    }
    let mut pts: Vec<f64> = (0..count)
        .map(|k| round_snr(hi - k as f64 * step))
        .collect();
    if !args.no_half_steps {
        let mut x = -5.0;
        while x <= -2.0 + 1e-9 {
            if x >= lo - 1e-9 && x <= hi + 1e-9 && !pts.iter().any(|p| (p - x).abs() < 1e-6) {
                pts.push(x);
            }
            x += 0.5;
        }
    }
    pts.sort_by(|a, b| b.total_cmp(a));
    Ok(pts)
}

fn round_snr(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Seed of one burst: independent streams per (profile, point, burst).
fn burst_seed(seed: u64, profile: usize, point: usize, burst: u64) -> u64 {
    let mut z = seed
        ^ (profile as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (point as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ burst.wrapping_mul(0x94D0_49BB_1331_11EB);
    // splitmix64 finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 0x10 flight-information record with every field random (valid CRC16 and CRC24).
fn random_block(rng: &mut ChaCha8Rng) -> [u8; TRANSPORT_BLOCK_BYTES] {
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let serial: String = (0..16)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect();
    let lat = rng.gen_range(-85.0..85.0);
    let lon = rng.gen_range(-180.0..180.0);
    let mut info = FlightInfo::example();
    info.sequence_number = rng.gen();
    info.state_info = rng.gen();
    info.serial_number = serial;
    info.latitude_raw = deg_to_raw(lat).unwrap_or(0);
    info.longitude_raw = deg_to_raw(lon).unwrap_or(0);
    info.home_lat_raw = deg_to_raw(lat + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.home_lon_raw = deg_to_raw(lon + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.app_lat_raw = deg_to_raw(lat + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.app_lon_raw = deg_to_raw(lon + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.altitude_raw = rng.gen_range(-100..2000);
    info.height_raw = rng.gen_range(0..500);
    info.v_north_raw = rng.gen_range(-2000..2000);
    info.v_east_raw = rng.gen_range(-2000..2000);
    info.v_up_raw = rng.gen_range(-1000..1000);
    info.yaw_raw = rng.gen_range(-18000..18000);
    info.gps_time_ms = rng.gen_range(1_600_000_000_000..1_900_000_000_000);
    info.product_type = rng.gen();
    build_transport_block(&info.to_record(), None).expect("flight record fits a block")
}

/// Builds the capture of one sensitivity burst.
fn sensitivity_capture(
    profile: Profile,
    format: BurstFormat,
    fs: f64,
    snr_db: f64,
    seed: u64,
) -> CaptureSpec {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let block = random_block(&mut rng);
    let start = (LEAD_IN_S + rng.gen_range(0.0..START_SPREAD_S)) * fs;
    let mut b = BurstSpec::new(block, format, start);
    b.snr_db = Some(snr_db);
    b.phase_rad = rng.gen_range(-std::f64::consts::PI..std::f64::consts::PI);
    b.cfo_hz = rng.gen_range(-20e3..20e3);
    match profile {
        Profile::Awgn | Profile::All => {}
        Profile::Multipath => {
            let echoes = rng.gen_range(1..=2);
            let mut taps = vec![(0.0, Complex64::new(1.0, 0.0))];
            for _ in 0..echoes {
                let delay = rng.gen_range(0.05e-6..=1.0e-6);
                let gain_db: f64 = rng.gen_range(-10.0..=-3.0);
                let phase = rng.gen_range(-std::f64::consts::PI..std::f64::consts::PI);
                taps.push((
                    delay,
                    Complex64::from_polar(10f64.powf(gain_db / 20.0), phase),
                ));
            }
            b.multipath = taps;
        }
        Profile::Ppm => b.sample_clock_ppm = rng.gen_range(-20.0..=20.0),
        Profile::CfoWide => b.cfo_hz = rng.gen_range(-95e3..=95e3),
    }
    CaptureSpec {
        sample_rate_hz: fs,
        center_freq_hz: None,
        total_samples: (CAPTURE_S * fs).ceil() as u64,
        noise: true,
        bursts: vec![b],
        seed: rng.gen(),
    }
}

/// Decodes `samples` with a fresh receiver, pushing `block`-sample chunks.
fn decode(samples: &[Complex32], fs: f64, block: usize) -> Result<Vec<Frame>, String> {
    decode_stats(samples, fs, block).map(|r| r.0)
}

/// [`decode`], also returning the receiver's counters.
fn decode_stats(
    samples: &[Complex32],
    fs: f64,
    block: usize,
) -> Result<(Vec<Frame>, droneid_receiver::ReceiverStats), String> {
    let mut rx = Receiver::new(&ReceiverConfig::new(fs))?;
    let mut frames = Vec::new();
    for chunk in samples.chunks(block) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    Ok((frames, rx.stats().clone()))
}

fn frame_matches(f: &Frame, t: &TruthRecord, fs: f64) -> bool {
    f.crc24_ok
        && droneid_payload::to_hex(&f.block) == t.block_hex
        && (f.start_sample as f64 - t.start_sample_exact).abs() <= START_TOLERANCE_S * fs
}

/// (decoded ok, false frames, receiver seconds) of one burst.
fn one_burst(
    profile: Profile,
    format: BurstFormat,
    fs: f64,
    snr_db: f64,
    seed: u64,
) -> Result<(bool, u64, f64), String> {
    let spec = sensitivity_capture(profile, format, fs, snr_db, seed);
    let (samples, truth) = try_render_to_vec(&spec).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let (frames, stats) = decode_stats(&samples, fs, 1 << 16)?;
    let dt = t0.elapsed().as_secs_f64();
    let valid: Vec<&Frame> = frames.iter().filter(|f| f.crc24_ok).collect();
    let matching = valid
        .iter()
        .filter(|f| frame_matches(f, &truth[0], fs))
        .count();
    let ok = valid.len() == 1 && matching == 1;
    if !ok && std::env::var_os("DRONEID_BENCH_DEBUG").is_some() {
        let t = &truth[0];
        eprintln!(
            "debug: seed {seed:#x} snr {snr_db}: truth start {:.2} cfo {:.0}; {stats:?}; frames {:?}",
            t.start_sample_exact,
            t.cfo_hz,
            frames
                .iter()
                .map(|f| (f.start_sample, f.crc24_ok, f.freq_offset_hz.round(), f.snr_db, f.block == spec.bursts[0].block))
                .collect::<Vec<_>>()
        );
    }
    let false_frames = (valid.len() - matching) as u64;
    Ok((ok, false_frames, dt))
}

fn run_sensitivity(args: &BenchArgs, fs: f64, format: BurstFormat) -> Result<(), CliError> {
    if args.bursts_per_point < 1 || args.bursts_per_point > 10_000_000 {
        return Err(CliError::usage(format!(
            "--bursts-per-point {}: must be between 1 and 10000000",
            args.bursts_per_point
        )));
    }
    let n = args.bursts_per_point as u64;
    let points = snr_points(args)?;
    let profiles = args.profile.expand();
    // Fail on unusable flags before the (long) run.
    for &p in &profiles {
        sensitivity_capture(p, format, fs, points[0], 0)
            .validate()
            .map_err(CliError::usage)?;
    }
    let threads = rayon::current_num_threads();
    eprintln!(
        "droneid bench: sensitivity, {} profile(s) × {} SNR points × {n} bursts, {:.2} MS/s, {} symbols, seed {}, {threads} threads",
        profiles.len(),
        points.len(),
        fs / 1e6,
        args.symbols,
        args.seed
    );
    let started = Instant::now();
    let mut tables = Vec::new();
    for (pi, &profile) in profiles.iter().enumerate() {
        let profile_start = Instant::now();
        println!("\nProfile {}: {}", profile.name(), profile.describe());
        println!("{}", table_head());
        let mut results = Vec::new();
        for (k, &snr) in points.iter().enumerate() {
            let outcomes: Result<Vec<(bool, u64, f64)>, String> = (0..n)
                .into_par_iter()
                .map(|i| one_burst(profile, format, fs, snr, burst_seed(args.seed, pi, k, i)))
                .collect();
            let outcomes = outcomes.map_err(CliError::usage)?;
            let r = PointResult {
                snr_db: snr,
                total: n,
                ok: outcomes.iter().filter(|o| o.0).count() as u64,
                false_frames: outcomes.iter().map(|o| o.1).sum(),
                decode_s: outcomes.iter().map(|o| o.2).sum(),
            };
            println!("{}", table_row(&r));
            results.push(r);
        }
        let decode_s: f64 = results.iter().map(|r| r.decode_s).sum();
        let bursts = (n as usize * results.len()) as f64;
        let per_burst_ms = 1e3 * decode_s / bursts;
        let wall = profile_start.elapsed().as_secs_f64();
        println!(
            "{} bursts in {wall:.1} s wall; receiver time {per_burst_ms:.2} ms per {:.0} ms capture (one thread, receiver construction included)",
            bursts,
            CAPTURE_S * 1e3
        );
        tables.push((profile, results, per_burst_ms, wall));
    }
    eprintln!(
        "droneid bench: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.output {
        let md = sensitivity_markdown(args, fs, n, &tables);
        std::fs::write(path, md).map_err(|e| CliError::io(format!("{}: {e}", path.display())))?;
        eprintln!("droneid bench: wrote {}", path.display());
    }
    Ok(())
}

fn table_head() -> String {
    "| SNR dB | frames ok / total | success % | false frames |\n|-------:|------------------:|----------:|-------------:|".into()
}

fn table_row(r: &PointResult) -> String {
    format!(
        "| {:>6} | {:>17} | {:>9.1} | {:>12} |",
        format!("{:+.1}", r.snr_db),
        format!("{} / {}", r.ok, r.total),
        100.0 * r.ok as f64 / r.total as f64,
        r.false_frames
    )
}

type ProfileTable = (Profile, Vec<PointResult>, f64, f64);

fn sensitivity_markdown(args: &BenchArgs, fs: f64, n: u64, tables: &[ProfileTable]) -> String {
    let mut s = String::new();
    // The program as `droneid` (not the build's absolute path), then the flags as given.
    let cmd: Vec<String> = std::iter::once("droneid".to_string())
        .chain(std::env::args().skip(1))
        .collect();
    let _ = writeln!(s, "# Receiver sensitivity\n");
    let _ = writeln!(
        s,
        "Generated by `scripts/sensitivity.sh`; do not edit by hand.\n"
    );
    let _ = writeln!(s, "- Command: `{}`", cmd.join(" "));
    let _ = writeln!(s, "- Date: {}", utc_now());
    let _ = writeln!(s, "- Machine: {}", machine());
    if let Some(c) = git_commit() {
        let _ = writeln!(s, "- Git commit: {c}");
    }
    let _ = writeln!(
        s,
        "- Setup: {:.2} MS/s, {}-symbol bursts, {n} bursts per SNR point, seed {}; each burst alone in a \
{:.0} ms capture, starting {:.0}–{:.0} ms in (random fractional sample) after noise only; random 0x10 record \
content, random carrier phase; a fresh receiver per capture.",
        fs / 1e6,
        args.symbols,
        args.seed,
        CAPTURE_S * 1e3,
        LEAD_IN_S * 1e3,
        (LEAD_IN_S + START_SPREAD_S) * 1e3
    );
    let _ = writeln!(
        s,
        "- SNR: in-band, burst power over noise power in 9.015 MHz (`droneid-synth` definition).\n\
- Success: exactly one CRC24-valid frame, its 176-byte block equal to the transmitted block and its \
`start_sample` within 3 µs of the truth. False frames: CRC24-valid frames that do not match the truth \
(wrong block or start)."
    );
    for (profile, results, per_burst_ms, wall) in tables {
        let _ = writeln!(
            s,
            "\n## Profile `{}`\n\n{}.\n",
            profile.name(),
            profile.describe()
        );
        let _ = writeln!(s, "{}", table_head());
        for r in results {
            let _ = writeln!(s, "{}", table_row(r));
        }
        let _ = writeln!(
            s,
            "\nReceiver time {per_burst_ms:.2} ms per {:.0} ms capture (one thread, receiver construction \
included); {wall:.0} s wall for the profile on {} threads.",
            CAPTURE_S * 1e3,
            rayon::current_num_threads()
        );
    }
    s
}

fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("nproc {nproc}, {cpu}")
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let c = String::from_utf8(out.stdout).ok()?.trim().to_string();
    if c.is_empty() {
        return None;
    }
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| o.status.success() && !o.stdout.is_empty())
        .unwrap_or(false);
    Some(if dirty {
        format!("{c} (with uncommitted changes)")
    } else {
        c
    })
}

// ------------------------------------------------------------------------------------------
// Throughput
// ------------------------------------------------------------------------------------------

/// Block length pushed to the receiver in throughput runs.
const THROUGHPUT_BLOCK: usize = 1 << 18;

fn run_throughput(args: &BenchArgs, fs: f64, format: BurstFormat) -> Result<(), CliError> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds * fs <= 4.0e9) {
        return Err(CliError::usage(format!(
            "--seconds {}: must be > 0 with at most 4e9 samples (seconds × rate)",
            args.seconds
        )));
    }
    if !(1..=100).contains(&args.drones) {
        return Err(CliError::usage(format!(
            "--drones {}: must be between 1 and 100",
            args.drones
        )));
    }
    if !(1..=100).contains(&args.runs) {
        return Err(CliError::usage(format!(
            "--runs {}: must be between 1 and 100",
            args.runs
        )));
    }
    if !(args.snr_db.is_finite() && (-50.0..=100.0).contains(&args.snr_db)) {
        return Err(CliError::usage(format!(
            "--snr-db {}: must be within -50..=100 dB",
            args.snr_db
        )));
    }
    let mut sc = Scenario::new(fs);
    sc.seed = args.seed;
    sc.drones = args.drones as usize;
    sc.format = format;
    sc.duration_s = Some(args.seconds);
    sc.interval_s = 0.1;
    sc.jitter_s = 0.002;
    sc.lead_in_s = 5e-3;
    sc.random_offsets = true;
    sc.snr_db = Some(args.snr_db);
    let mut spec = sc.build().map_err(CliError::usage)?;
    separate_collisions(&mut spec);
    let gen_start = Instant::now();
    let (samples, truth) = try_render_to_vec(&spec).map_err(CliError::usage)?;
    let samples = Arc::new(samples);
    eprintln!(
        "droneid bench: throughput ({}), {:.2} MS/s, {:.2} s ({} samples), {} drones, {} bursts at {:+.1} dB; generated in {:.1} s (not timed)",
        if args.single_thread {
            "single-threaded reference receiver"
        } else {
            "whole pipeline, as droneid decode runs it"
        },
        fs / 1e6,
        args.seconds,
        samples.len(),
        args.drones,
        truth.len(),
        args.snr_db,
        gen_start.elapsed().as_secs_f64()
    );
    let real_s = samples.len() as f64 / fs;
    let mut best: Option<(Duration, usize)> = None;
    for run in 1..=args.runs {
        let t0 = Instant::now();
        let frames = if args.single_thread {
            decode(&samples, fs, THROUGHPUT_BLOCK).map_err(CliError::usage)?
        } else {
            decode_pipeline(&samples, fs)?
        };
        let dt = t0.elapsed();
        if run == 1 && std::env::var_os("DRONEID_BENCH_DEBUG").is_some() {
            for t in truth
                .iter()
                .filter(|t| !frames.iter().any(|f| frame_matches(f, t, fs)))
            {
                eprintln!(
                    "debug: missed drone {} start {:.1} offset {:.0} Hz",
                    t.drone, t.start_sample_exact, t.total_freq_offset_hz
                );
            }
            for f in &frames {
                eprintln!(
                    "debug: frame start {} offset {:.0} crc24 {}",
                    f.start_sample, f.freq_offset_hz, f.crc24_ok
                );
            }
        }
        let decoded = truth
            .iter()
            .filter(|t| frames.iter().any(|f| frame_matches(f, t, fs)))
            .count();
        println!(
            "run {run}: {:.3} s, {:.1} MS/s, {:.2}× real time, bursts decoded {decoded}/{}, frames {}",
            dt.as_secs_f64(),
            samples.len() as f64 / dt.as_secs_f64() / 1e6,
            real_s / dt.as_secs_f64(),
            truth.len(),
            frames.len()
        );
        if best.is_none() || best.is_some_and(|(b, _)| dt < b) {
            best = Some((dt, decoded));
        }
    }
    let (dt, decoded) = best.expect("at least one run");
    println!(
        "best of {}: {:.2} MS/s capture, {:.3e} samples/s, {:.2}× real time, bursts decoded {decoded}/{}",
        args.runs,
        fs / 1e6,
        samples.len() as f64 / dt.as_secs_f64(),
        real_s / dt.as_secs_f64(),
        truth.len()
    );
    Ok(())
}

/// The whole pipeline (as `droneid decode` runs it) over an in-memory capture.
fn decode_pipeline(samples: &Arc<Vec<Complex32>>, fs: f64) -> Result<Vec<Frame>, CliError> {
    let mut frames = Vec::new();
    let source = MemorySource::new(samples.clone(), fs);
    droneid_engine::run(
        &EngineConfig::new(ReceiverConfig::new(fs)),
        Box::new(source),
        &RunControl::default(),
        &mut |f: Frame| frames.push(f),
        None,
    )
    .map_err(CliError::usage)?;
    Ok(frames)
}

/// Delays bursts that would overlap an earlier one in both time and frequency (two drones on
/// nearby channels with the same interval collide every time), so every burst is decodable and
/// the decoded/total count measures the receiver rather than the traffic. Bursts that cannot be
/// moved inside the capture are dropped.
fn separate_collisions(spec: &mut CaptureSpec) {
    let fs = spec.sample_rate_hz;
    // Less than ~0.6 ms between two bursts on overlapping channels merges them into one
    // detector event (the 530 µs box bridges the gap): keep 1 ms apart.
    let guard = (1e-3 * fs) as i64;
    let total = spec.total_samples as i64;
    let mut bursts = std::mem::take(&mut spec.bursts);
    bursts.sort_by(|a, b| a.start_sample.total_cmp(&b.start_sample));
    let mut kept: Vec<BurstSpec> = Vec::with_capacity(bursts.len());
    for mut b in bursts {
        let mut fits = false;
        for _ in 0..100 {
            let (a0, a1) = b.extent(fs);
            if a1 > total {
                break;
            }
            let clash = kept.iter().any(|k| {
                let (k0, k1) = k.extent(fs);
                a0 < k1 + guard
                    && k0 < a1 + guard
                    && (k.total_freq_offset_hz() - b.total_freq_offset_hz()).abs() < 9.5e6
            });
            if !clash {
                fits = true;
                break;
            }
            b.start_sample += 1e-3 * fs;
        }
        if fits {
            kept.push(b);
        }
    }
    spec.bursts = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snr_points_default() {
        let args = BenchArgs {
            sensitivity: true,
            sample_rate: None,
            seed: 1,
            symbols: 9,
            profile: Profile::Awgn,
            bursts_per_point: 1,
            snr_max: 10.0,
            snr_min: -6.0,
            snr_step: 1.0,
            no_half_steps: false,
            output: None,
            seconds: 1.0,
            drones: 1,
            snr_db: 10.0,
            runs: 1,
            single_thread: false,
        };
        let p = snr_points(&args).unwrap();
        assert_eq!(p.len(), 17 + 3);
        assert_eq!(p[0], 10.0);
        assert_eq!(*p.last().unwrap(), -6.0);
        assert!(p.contains(&-3.5));
    }

    #[test]
    fn utc_format() {
        let s = utc_now();
        assert_eq!(s.len(), 23, "{s}");
    }
}
