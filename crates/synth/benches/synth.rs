//! Synthesiser throughput: one burst (FEC + exact OFDM at the output rate) and a 1 s noisy capture.
//!
//! `cargo bench -p droneid-synth --bench synth -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use droneid_core::{BurstFormat, Complex32};
use droneid_payload::{build_transport_block, FlightInfo};
use droneid_synth::{render_capture, BurstRenderer, BurstSpec, Scenario, SynthError};

/// Seed of the capture bench.
const SEED_BENCH: u64 = 0xBE_4C;

fn bench_burst(c: &mut Criterion) {
    let block = build_transport_block(&FlightInfo::example().to_record(), None).unwrap();
    let mut g = c.benchmark_group("synth/burst");
    for (name, fs) in [
        ("15m36", 15.36e6),
        ("61m44", 61.44e6),
        ("122m88", 122.88e6),
        ("50m", 50e6),
    ] {
        let mut spec = BurstSpec::new(block, BurstFormat::Nine, 10.37);
        spec.freq_offset_hz = 1.25e6;
        spec.cfo_hz = 500.0;
        spec.phase_rad = 0.3;
        let mut renderer = BurstRenderer::new();
        let n = spec.render(fs, &mut renderer).1.len();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(spec.render(fs, &mut renderer)))
        });
    }
    g.finish();
}

fn bench_capture(c: &mut Criterion) {
    let mut sc = Scenario::new(61.44e6);
    sc.seed = SEED_BENCH;
    sc.drones = 2;
    sc.random_offsets = true;
    sc.snr_db = Some(10.0);
    sc.duration_s = Some(1.0);
    let spec = sc.build().unwrap();
    let mut g = c.benchmark_group("synth/capture");
    g.sample_size(10);
    g.throughput(Throughput::Elements(spec.total_samples));
    g.bench_function("61m44_1s_noise", |b| {
        b.iter(|| {
            let mut acc = 0.0f32;
            render_capture(&spec, 1 << 16, &mut |x: &[Complex32]| {
                acc += x[0].re;
                Ok::<(), SynthError>(())
            })
            .unwrap();
            black_box(acc)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_burst, bench_capture);
criterion_main!(benches);
