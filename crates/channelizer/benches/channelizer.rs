//! Channelizer throughput (input samples per second).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use droneid_channelizer::{Channelizer, ChannelizerConfig, Complex32};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BLOCK: usize = 1 << 16;

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let input: Vec<Complex32> = (0..BLOCK)
        .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
        .collect();
    let mut g = c.benchmark_group("channelizer");
    g.throughput(Throughput::Elements(BLOCK as u64));
    for (name, fs) in [("61m44", 61.44e6), ("122m88", 122.88e6)] {
        let mut ch = Channelizer::new(&ChannelizerConfig::droneid(fs)).unwrap();
        let mut out = ch.new_block(BLOCK);
        g.bench_function(BenchmarkId::new("pfb", name), |b| {
            b.iter(|| black_box(ch.process(black_box(&input), &mut out)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
