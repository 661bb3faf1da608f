//! Profiling helper: decode the same noisy frames repeatedly.
//! `cargo run --release -p droneid-fec --example prof -- [scalar|avx2] [iterations] [frames]`
#[path = "../tests/common/mod.rs"]
mod common;

use droneid_fec::{Backend, BlockDecoder, DecoderConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = if args.first().map(|s| s.as_str()) == Some("scalar") {
        Backend::Scalar
    } else {
        Backend::Avx2
    };
    let it: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let mut rng = common::rng(7);
    let frames: Vec<_> = (0..16)
        .map(|_| common::noisy_frame(-2.5, &mut rng).1)
        .collect();
    let mut dec = BlockDecoder::new(&DecoderConfig {
        max_iterations: it,
        backend,
        early_stop: false,
    })
    .unwrap();
    let mut out = [0u8; 176];
    let t0 = std::time::Instant::now();
    let mut ok = 0;
    for i in 0..n {
        ok += dec.decode(&frames[i % 16], &mut out).is_ok() as usize;
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{backend:?} it={it}: {:.0} blocks/s ({ok}/{n} ok)",
        n as f64 / dt
    );
}
