//! The sensitivity sweep: for each profile and SNR point, many bursts, each alone in its own
//! capture, decoded by a fresh single-threaded engine ([`StreamDecoder`]).

use std::time::Instant;

use droneid_core::{BurstFormat, Complex32};
use droneid_engine::{EngineConfig, StreamDecoder};
use droneid_receiver::{Frame, ReceiverConfig, ReceiverStats};
use droneid_synth::try_render_to_vec;
use rayon::prelude::*;

use super::profiles::{sensitivity_capture, Profile, CAPTURE_S};
use super::report::{sensitivity_markdown, table_head, table_row};
use super::{frame_matches, BenchArgs};
use crate::common::CliError;

/// Samples pushed to the decoder at a time.
const PUSH_SAMPLES: usize = 1 << 16;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PointResult {
    pub snr_db: f64,
    pub total: u64,
    pub ok: u64,
    pub false_frames: u64,
    /// Receiver time summed over the point's bursts (construction + decode), seconds.
    pub decode_s: f64,
}

pub(super) fn snr_points(args: &BenchArgs) -> Result<Vec<f64>, CliError> {
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

/// Decodes `samples` with a fresh single-threaded engine, pushing `block`-sample chunks;
/// returns the frames and the counters.
pub(super) fn decode(
    samples: &[Complex32],
    fs: f64,
    block: usize,
) -> Result<(Vec<Frame>, ReceiverStats), String> {
    let mut rx =
        StreamDecoder::new(&EngineConfig::new(ReceiverConfig::new(fs))).map_err(|e| e.0)?;
    let mut frames = Vec::new();
    for chunk in samples.chunks(block) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    Ok((frames, rx.stats()))
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
    let (frames, stats) = decode(&samples, fs, PUSH_SAMPLES)?;
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

/// Runs the sweep; prints one table per profile and writes the Markdown report if asked.
pub(super) fn run(args: &BenchArgs, fs: f64, format: BurstFormat) -> Result<(), CliError> {
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
            threads: None,
            paced: false,
        };
        let p = snr_points(&args).unwrap();
        assert_eq!(p.len(), 17 + 3);
        assert_eq!(p[0], 10.0);
        assert_eq!(*p.last().unwrap(), -6.0);
        assert!(p.contains(&-3.5));
    }
}
