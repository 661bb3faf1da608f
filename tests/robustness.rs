//! Bursts cut by the ends of a capture, and inputs that must never give a CRC-valid frame.

mod common;

use droneid_core::{BurstFormat, Complex32};
use droneid_synth::{render_to_vec, CaptureSpec, Scenario};

/// Seed of every capture here.
const SEED: u64 = 0x0B05_7A11;

fn one_burst(
    rate: f64,
    snr_db: f64,
    format: BurstFormat,
) -> (Vec<Complex32>, droneid_synth::TruthRecord) {
    let mut sc = Scenario::new(rate);
    sc.seed = SEED;
    sc.snr_db = Some(snr_db);
    sc.format = format;
    sc.lead_in_s = 10e-3;
    sc.tail_s = 2e-3;
    sc.cfo_hz = 3_100.0;
    let (x, truth) = render_to_vec(&sc.build().unwrap());
    (x, truth.into_iter().next().unwrap())
}

#[test]
fn burst_cut_by_the_end_of_the_file_still_decodes() {
    for rate in [15.36e6, 50e6] {
        let (x, t) = one_burst(rate, 8.0, BurstFormat::Nine);
        // Keep the burst up to the middle of its last data symbol: ~1/12 of the coded bits are
        // missing (erasures); the turbo code recovers them.
        let keep_base = 8776 + 80 + 400;
        let end = t.start_sample as usize + (keep_base as f64 * rate / 15.36e6) as usize;
        let frames = common::decode_samples(&x[..end], rate);
        assert_eq!(frames.len(), 1, "rate {rate}");
        assert_eq!(droneid_payload::to_hex(&frames[0].block), t.block_hex);
        assert!((frames[0].start_sample - t.start_sample).abs() as f64 <= 3e-6 * rate);
    }
}

#[test]
fn burst_cut_by_the_start_of_the_file_still_decodes() {
    let rate = 30.72e6;
    let (x, t) = one_burst(rate, 8.0, BurstFormat::Nine);
    // Drop everything up to the middle of symbol 1 (symbol 0 gone, data block 0 half gone).
    let cut = t.start_sample as usize + (1104.0 + 600.0) as usize * 2;
    let frames = common::decode_samples(&x[cut..], rate);
    assert_eq!(frames.len(), 1);
    assert_eq!(droneid_payload::to_hex(&frames[0].block), t.block_hex);
}

#[test]
fn noise_zeros_and_garbage_give_no_valid_frame() {
    let rate = 15.36e6;
    // 0.5 s of white noise.
    let spec = CaptureSpec {
        sample_rate_hz: rate,
        center_freq_hz: None,
        total_samples: (0.5 * rate) as u64,
        noise: true,
        bursts: Vec::new(),
        seed: SEED + 1,
    };
    let (noise, _) = render_to_vec(&spec);
    assert!(common::decode_samples(&noise, rate).is_empty());
    // Zeros, NaN/Inf runs, huge values, a DC tone and a pure tone inside the band.
    let n = 400_000;
    let zeros = vec![Complex32::new(0.0, 0.0); n];
    assert!(common::decode_samples(&zeros, rate).is_empty());
    let mut garbage = noise[..n].to_vec();
    for (i, v) in garbage.iter_mut().enumerate() {
        if (i / 5000) % 3 == 0 {
            *v = Complex32::new(f32::NAN, f32::INFINITY);
        } else if (i / 5000) % 3 == 1 {
            *v *= 1e30;
        }
    }
    let frames = common::decode_samples(&garbage, rate);
    assert!(
        frames.iter().all(|f| !f.crc24_ok),
        "garbage produced a CRC-valid frame"
    );
    let tone: Vec<Complex32> = (0..n)
        .map(|i| {
            let ph = 2.0 * std::f32::consts::PI * 1.0e6 * i as f32 / rate as f32;
            Complex32::new(ph.cos(), ph.sin()) * 100.0 + Complex32::new(5.0, 0.0)
        })
        .collect();
    assert!(common::decode_samples(&tone, rate).is_empty());
}
