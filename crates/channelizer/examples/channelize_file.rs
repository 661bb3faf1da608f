//! Time the channelizer alone over a cf32 file: read it in blocks (from the page cache),
//! channelize with [`ChannelizerConfig::droneid`], discard the output; one thread.
//!
//! ```text
//! cargo run --release -p droneid-channelizer --example channelize_file -- PATH RATE_HZ [RUNS]
//! ```
//!
//! Prints each run on stderr and `best_s <seconds>` (best of `RUNS`, default 3) on stdout;
//! `scripts/compare-gnuradio.sh` uses it as the like-for-like row next to GNU Radio's
//! `pfb_channelizer_ccf`.

use std::fs::File;
use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use droneid_channelizer::{Channelizer, ChannelizerConfig, Complex32};

/// Input samples per `process` call (512 KiB of cf32).
const BLOCK: usize = 1 << 16;

fn run(path: &str, ch: &mut Channelizer) -> std::io::Result<(f64, u64, u64)> {
    ch.reset();
    let mut file = File::open(path)?;
    let mut bytes = vec![0u8; BLOCK * 8];
    let mut samples = vec![Complex32::new(0.0, 0.0); BLOCK];
    let mut out = ch.new_block(BLOCK);
    let (mut n_in, mut n_out) = (0u64, 0u64);
    let mut fill = 0usize;
    let t0 = Instant::now();
    loop {
        let n = file.read(&mut bytes[fill..])?;
        fill += n;
        if fill < bytes.len() && n > 0 {
            continue;
        }
        let whole = fill / 8;
        for (s, b) in samples.iter_mut().zip(bytes[..whole * 8].chunks_exact(8)) {
            *s = Complex32::new(
                f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                f32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            );
        }
        n_out += ch.process(&samples[..whole], &mut out) as u64;
        std::hint::black_box(out.as_slice());
        n_in += whole as u64;
        fill = 0;
        if n == 0 {
            break;
        }
    }
    Ok((t0.elapsed().as_secs_f64(), n_in, n_out))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: channelize_file PATH RATE_HZ [RUNS]");
        return ExitCode::from(2);
    }
    let rate: f64 = match args[2].parse() {
        Ok(r) => r,
        Err(_) => {
            eprintln!("bad rate {}", args[2]);
            return ExitCode::from(2);
        }
    };
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let cfg = ChannelizerConfig::droneid(rate);
    let mut ch = match Channelizer::new(&cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "droneid channelizer: {} channels, decimation {} ({:.2} MS/s per channel), {} taps \
         ({} per branch)",
        ch.num_channels(),
        ch.decimation(),
        cfg.output_rate_hz / 1e6,
        ch.prototype().len(),
        ch.taps_per_branch()
    );
    let mut best = f64::INFINITY;
    for i in 0..runs {
        match run(&args[1], &mut ch) {
            Ok((dt, n_in, n_out)) => {
                eprintln!(
                    "  run {}: {dt:.3} s, {:.1} MS/s, {n_out} samples per channel",
                    i + 1,
                    n_in as f64 / dt / 1e6
                );
                best = best.min(dt);
            }
            Err(e) => {
                eprintln!("{}: {e}", args[1]);
                return ExitCode::from(1);
            }
        }
    }
    println!("taps {}", ch.prototype().len());
    println!("best_s {best:.6}");
    ExitCode::SUCCESS
}
