//! Synthesised captures at the common SDR rates, with random channel offsets and CFO, 9- and
//! 8-symbol bursts: every burst decoded once, with the right bytes and `start_sample` within 3 µs.

mod common;

use droneid_core::BurstFormat;
use droneid_synth::Scenario;

/// Seed of every scenario here; each case adds its own index.
const SEED: u64 = 0x4D55_4C54;

fn check(rate: f64, format: BurstFormat, drones: usize, case: u64) {
    let mut sc = Scenario::new(rate);
    sc.seed = SEED + case;
    sc.drones = drones;
    sc.bursts_per_drone = Some(3);
    sc.interval_s = 0.012;
    sc.jitter_s = 0.002;
    sc.format = format;
    sc.snr_db = Some(8.0);
    sc.random_offsets = true;
    sc.cfo_hz = 7_300.0 * if case.is_multiple_of(2) { 1.0 } else { -1.0 };
    let spec = sc.build().expect("scenario");
    let (samples, truth) = droneid_synth::render_to_vec(&spec);
    let frames = common::decode_samples(&samples, rate);
    let tol = 3e-6 * rate;
    for t in &truth {
        let hits: Vec<_> = frames
            .iter()
            .filter(|f| droneid_payload::to_hex(&f.block) == t.block_hex)
            .filter(|f| ((f.start_sample - t.start_sample) as f64).abs() <= tol)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "rate {rate} {format:?}: burst at {} (offset {:.0} Hz) found {} times; frames: {:?}",
            t.start_sample,
            t.total_freq_offset_hz,
            hits.len(),
            frames
                .iter()
                .map(|f| (f.start_sample, f.freq_offset_hz, f.crc24_ok))
                .collect::<Vec<_>>()
        );
        let f = hits[0];
        assert!(f.crc24_ok && f.crc16_ok());
        // Frequency within 1 kHz: the demodulator's CFO estimate at 8 dB is far better than that.
        assert!(
            (f.freq_offset_hz - t.total_freq_offset_hz).abs() < 1_000.0,
            "{} vs {}",
            f.freq_offset_hz,
            t.total_freq_offset_hz
        );
        assert_eq!(f.symbols as usize, format.num_symbols());
    }
    assert_eq!(frames.len(), truth.len(), "no extra frames");
}

#[test]
fn rate_15m36() {
    check(15.36e6, BurstFormat::Nine, 1, 0);
    check(15.36e6, BurstFormat::Eight, 1, 1);
}

#[test]
fn rate_30m72() {
    check(30.72e6, BurstFormat::Nine, 2, 2);
    check(30.72e6, BurstFormat::Eight, 1, 3);
}

#[test]
fn rate_50m() {
    check(50e6, BurstFormat::Nine, 2, 4);
    check(50e6, BurstFormat::Eight, 2, 5);
}

#[test]
fn rate_61m44() {
    check(61.44e6, BurstFormat::Nine, 3, 6);
    check(61.44e6, BurstFormat::Eight, 2, 7);
}

#[test]
fn rate_122m88() {
    check(122.88e6, BurstFormat::Nine, 3, 8);
    check(122.88e6, BurstFormat::Eight, 2, 9);
}

#[test]
fn rate_20m_hackrf_and_odd_rate() {
    check(20e6, BurstFormat::Nine, 1, 10);
    check(23.4567e6, BurstFormat::Eight, 1, 11);
}
