//! `droneid bench`: receiver sensitivity (success rate versus in-band SNR over many synthetic
//! bursts) and receiver throughput (samples per second on a synthetic multi-drone capture).
//!
//! Both modes synthesise their input in memory with `droneid-synth`, so they need no files and are
//! reproducible from `--seed`. Generation time is never counted in the timings.
//!
//! One module per job: [`profiles`] (the sensitivity impairment profiles, a table),
//! [`sensitivity`] (the sweep, through the engine's single-threaded [`StreamDecoder`]),
//! [`throughput`] (the threaded engine on an in-memory capture), [`report`] (Markdown),
//! [`machine`] (what ran it: CPU, build commit).
//!
//! [`StreamDecoder`]: droneid_engine::StreamDecoder
//!
//! `DRONEID_BENCH_DEBUG=1` prints every failed sensitivity burst (seed, truth, receiver counters,
//! frames) and, in throughput mode, the missed bursts and all frames of the first run.

use std::path::PathBuf;

use droneid_core::{BurstFormat, BASE_SAMPLE_RATE_HZ};
use droneid_receiver::Frame;
use droneid_synth::TruthRecord;

use crate::common::{self, CliError};

mod machine;
mod profiles;
mod report;
mod sensitivity;
mod throughput;

pub use profiles::Profile;

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
    after_help = "Examples:\n  droneid bench --sensitivity\n  droneid bench --sensitivity --profile all --output docs/sensitivity.md\n  droneid bench --sensitivity --snr-min -4 --snr-max 0 --bursts-per-point 50 --symbols 8\n  droneid bench --sample-rate 61.44M --seconds 2 --drones 2\n  droneid bench --sample-rate 122.88M --seconds 1 --snr-db 5\n  droneid bench --sample-rate 61.44M --paced --seconds 10 --runs 1\n  taskset -c 0 droneid bench --sample-rate 122.88M --threads 1"
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
    /// Throughput: time the single-threaded engine instead of the threaded pipeline.
    #[arg(long)]
    pub single_thread: bool,
    /// Throughput: threads of the burst-decoding pool (the three stage threads run besides).
    /// To measure on N cores, run under `taskset -c 0-(N-1)` (scripts/bench-scaling.sh does).
    /// [default: one per core this process may use, at most 8]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: Option<u32>,
    /// Throughput: deliver the capture at its real-time rate (reads of 16384 samples, as the
    /// replay device's packets; a live source, so blocks the pipeline cannot take are dropped
    /// and counted) and report each frame's latency: from the delivery of the sample that ends
    /// its burst to its JSON line written (p50/p99/max over all runs).
    #[arg(long)]
    pub paced: bool,
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
        sensitivity::run(args, fs, format)
    } else {
        throughput::run(args, fs, format)
    }
}

/// Start tolerance of a correct frame, seconds.
const START_TOLERANCE_S: f64 = 3e-6;

/// A CRC24-valid frame with the transmitted block, starting within [`START_TOLERANCE_S`] of the truth.
pub(super) fn frame_matches(f: &Frame, t: &TruthRecord, fs: f64) -> bool {
    f.crc24_ok
        && droneid_payload::to_hex(&f.block) == t.block_hex
        && (f.start_sample as f64 - t.start_sample_exact).abs() <= START_TOLERANCE_S * fs
}
