//! End-to-end receiver benches on synthetic captures (generated outside the timed loops).
//!
//! * `pipeline/decode/15m36`, `pipeline/decode/61m44`: a fresh single-threaded engine ([`StreamDecoder`]) over a 0.5 s capture
//!   with two drones on random channels, one burst each per ~100 ms at 10 dB in-band SNR, pushed in
//!   1<<18-sample blocks. Throughput is in input samples.
//! * `receiver/burst/15m36`: one burst alone in a 12 ms capture (9 ms of noise first, so the
//!   detector is warm): detection, one candidate, demodulation and turbo decoding into a frame.
//!   Receiver construction is outside the timed part.
//!
//! Run: `cargo bench -p droneid-benches --bench pipeline -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use droneid_core::{BurstFormat, Complex32};
use droneid_engine::{EngineConfig, StreamDecoder};
use droneid_receiver::ReceiverConfig;
use droneid_synth::{render_to_vec, BurstSpec, CaptureSpec, Scenario};

/// Block length pushed to the receiver.
const BLOCK: usize = 1 << 18;

/// 0.5 s, two drones on random channels, a burst per drone every ~100 ms, 10 dB in-band SNR.
fn capture(fs: f64) -> (Vec<Complex32>, usize) {
    let mut sc = Scenario::new(fs);
    sc.seed = 7;
    sc.drones = 2;
    sc.duration_s = Some(0.5);
    sc.interval_s = 0.1;
    sc.jitter_s = 0.002;
    sc.lead_in_s = 5e-3;
    sc.random_offsets = true;
    sc.snr_db = Some(10.0);
    let mut spec = sc.build().expect("valid scenario");
    // Drone 1 bursts 50 ms after drone 0, so that no two bursts collide in time and frequency.
    let starts: Vec<f64> = spec
        .bursts
        .iter()
        .filter(|b| b.drone == 0)
        .map(|b| b.start_sample)
        .collect();
    for (j, b) in spec.bursts.iter_mut().filter(|b| b.drone == 1).enumerate() {
        b.start_sample = starts[j] + 0.05 * fs;
    }
    let (samples, truth) = render_to_vec(&spec);
    (samples, truth.len())
}

/// A fresh single-threaded engine for `fs`.
fn new_decoder(fs: f64) -> StreamDecoder {
    StreamDecoder::new(&EngineConfig::new(ReceiverConfig::new(fs))).expect("engine")
}

/// Decodes `samples` with `rx`; returns the number of CRC-valid frames.
fn run(rx: &mut StreamDecoder, samples: &[Complex32]) -> usize {
    let mut n = 0usize;
    for chunk in samples.chunks(BLOCK) {
        rx.push(chunk, &mut |f| n += usize::from(f.crc24_ok));
    }
    rx.finish(&mut |f| n += usize::from(f.crc24_ok));
    n
}

fn pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline/decode");
    g.sample_size(10);
    for (name, fs) in [("15m36", 15.36e6), ("61m44", 61.44e6)] {
        let (samples, bursts) = capture(fs);
        // Sanity check outside the timed loop: every burst decodes.
        let mut rx = new_decoder(fs);
        let found = run(&mut rx, &samples);
        assert_eq!(found, bursts, "{name}: decoded {found} of {bursts} bursts");
        g.throughput(Throughput::Elements(samples.len() as u64));
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || new_decoder(fs),
                |rx| black_box(run(rx, black_box(&samples))),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn burst(c: &mut Criterion) {
    let fs = 15.36e6;
    let block = droneid_payload::build_transport_block(
        &droneid_payload::FlightInfo::example().to_record(),
        None,
    )
    .expect("block");
    let mut b = BurstSpec::new(block, BurstFormat::Nine, 9.3e-3 * fs + 0.37);
    b.snr_db = Some(5.0);
    b.cfo_hz = 7.5e3;
    b.phase_rad = 1.0;
    let spec = CaptureSpec {
        sample_rate_hz: fs,
        center_freq_hz: None,
        total_samples: (12e-3 * fs) as u64,
        noise: true,
        bursts: vec![b],
        seed: 11,
    };
    let (samples, _) = render_to_vec(&spec);
    let mut rx = new_decoder(fs);
    assert_eq!(run(&mut rx, &samples), 1, "the burst decodes");

    let mut g = c.benchmark_group("receiver/burst");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("15m36", |bch| {
        bch.iter_batched_ref(
            || new_decoder(fs),
            |rx| black_box(run(rx, black_box(&samples))),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, pipeline, burst);
criterion_main!(benches);
