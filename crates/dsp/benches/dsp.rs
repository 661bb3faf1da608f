//! Criterion benches for the DSP kernels. Throughput is in input samples.
//!
//! `cargo bench -p droneid-dsp --bench dsp -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use droneid_dsp::{Backend, ChannelResampler, Complex32, FftCorrelator, ResamplerConfig, Rotator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 0xBE_7C4;
const BLOCK: usize = 1 << 16;

fn noise(n: usize) -> Vec<Complex32> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    (0..n)
        .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
        .collect()
}

fn rotator(c: &mut Criterion) {
    let x = noise(BLOCK);
    let mut y = vec![Complex32::default(); BLOCK];
    let mut rot = Rotator::new(1.234e6, 61.44e6);
    let mut g = c.benchmark_group("dsp/rotator");
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.bench_function("mix", |b| b.iter(|| rot.mix(black_box(&x), &mut y)));
    g.finish();
}

fn resampler(c: &mut Criterion) {
    let x = noise(BLOCK);
    let mut g = c.benchmark_group("dsp/resampler");
    g.throughput(Throughput::Elements(BLOCK as u64));
    for (name, fin) in [
        ("61m44_to_15m36", 61.44e6),
        ("50m_to_15m36", 50.0e6),
        ("122m88_to_15m36", 122.88e6),
        ("20m_to_15m36", 20.0e6),
        ("23m4567_to_15m36", 23.4567e6),
    ] {
        for (bname, backend) in [("", Backend::Auto), ("/scalar", Backend::Scalar)] {
            let cfg = ResamplerConfig::droneid(fin, 3.0e6);
            let mut rs = ChannelResampler::with_backend(&cfg, backend).unwrap();
            let mut y = vec![Complex32::default(); rs.max_output_len(BLOCK)];
            g.bench_function(format!("{name}{bname}"), |b| {
                b.iter(|| rs.process(black_box(&x), &mut y))
            });
        }
    }
    g.finish();
}

fn fft_correlator(c: &mut Criterion) {
    let x = noise(BLOCK);
    let t = noise(1024);
    let mut corr = FftCorrelator::new(&t, 4096);
    let mut out = Vec::with_capacity(2 * BLOCK);
    let mut g = c.benchmark_group("dsp/fft_correlator");
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.bench_function("1024tap", |b| {
        b.iter(|| {
            out.clear();
            corr.correlate(black_box(&x), &mut out);
        })
    });
    g.finish();
}

criterion_group!(benches, rotator, resampler, fft_correlator);
criterion_main!(benches);
