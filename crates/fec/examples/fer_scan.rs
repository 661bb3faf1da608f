//! Calibration helper: FER vs Es/N0 for both backends.
//! `cargo run --release -p droneid-fec --example fer_scan -- [frames] [esn0...]`
#[path = "../tests/common/mod.rs"]
mod common;

use droneid_fec::{Backend, BlockDecoder, DecoderConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let frames: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let snrs: Vec<f64> = if args.len() > 1 {
        args[1..].iter().map(|a| a.parse().unwrap()).collect()
    } else {
        vec![-5.0, -4.5, -4.0, -3.5, -3.0]
    };
    for &it in &[4u32, 8] {
        for &snr in &snrs {
            let mut line = format!("it={it} EsN0={snr:+.2}");
            for be in [Backend::Scalar, Backend::Avx2] {
                let mut dec = BlockDecoder::new(&DecoderConfig {
                    max_iterations: it,
                    backend: be,
                    early_stop: true,
                })
                .unwrap();
                let mut rng = common::rng(0xF3E5 ^ (snr * 100.0) as i64 as u64);
                let mut errs = 0;
                let mut its = 0;
                let mut out = [0u8; 176];
                let t0 = std::time::Instant::now();
                for _ in 0..frames {
                    let (block, llr) = common::noisy_frame(snr, &mut rng);
                    let r = dec.decode(&llr, &mut out);
                    its += r.iterations();
                    if !r.is_ok() || out != block {
                        errs += 1;
                    }
                }
                line += &format!(
                    "  {be:?}: {errs}/{frames} avg_it={:.2} ({:.0} ms)",
                    its as f64 / frames as f64,
                    t0.elapsed().as_secs_f64() * 1e3
                );
            }
            println!("{line}");
        }
    }
}
