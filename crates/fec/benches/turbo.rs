//! Turbo decoder / encoder benchmarks. `Throughput::Elements(1)` per block: criterion's
//! "thrpt" reads as blocks/s.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use droneid_fec::ratematch::RateDematcher;
use droneid_fec::{
    append_crc24, encode_and_scramble, encode_block, Backend, BlockDecoder, DecoderConfig,
    BLOCK_BYTES, D, E, PAYLOAD_BYTES,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;

const SEED: u64 = 0xBE_0C4;
/// Noisy but decodable input (FER ≈ 0 at 4+ iterations), so every iteration does real work.
const ES_N0_DB: f64 = -2.5;
const NFRAMES: usize = 16;

fn frames() -> Vec<[f32; E]> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let s2 = 10f64.powf(-ES_N0_DB / 10.0);
    (0..NFRAMES)
        .map(|_| {
            let mut p = [0u8; PAYLOAD_BYTES];
            rng.fill(&mut p[..]);
            let tx = encode_and_scramble(&append_crc24(&p));
            let mut llr = [0f32; E];
            for (l, &b) in llr.iter_mut().zip(tx.iter()) {
                let n: f64 = StandardNormal.sample(&mut rng);
                *l = (2.0 * ((1.0 - 2.0 * b as f64) + s2.sqrt() * n) / s2) as f32;
            }
            llr
        })
        .collect()
}

fn bench_decoders(c: &mut Criterion) {
    let input = frames();
    let mut g = c.benchmark_group("fec/turbo");
    g.throughput(Throughput::Elements(1));
    for (name, backend) in [("scalar", Backend::Scalar), ("avx2", Backend::Avx2)] {
        for it in [4u32, 8] {
            let cfg = DecoderConfig {
                max_iterations: it,
                backend,
                early_stop: false,
            };
            let Ok(mut dec) = BlockDecoder::new(&cfg) else {
                eprintln!("skipping fec/turbo/{name}: backend unavailable");
                continue;
            };
            let mut out = [0u8; BLOCK_BYTES];
            let mut n = 0usize;
            g.bench_function(format!("{name}/k1408_it{it}"), |b| {
                b.iter(|| {
                    n = (n + 1) % NFRAMES;
                    black_box(dec.decode(black_box(&input[n]), &mut out))
                })
            });
        }
    }
    g.finish();
}

fn bench_chain(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let mut p = [0u8; PAYLOAD_BYTES];
    rng.fill(&mut p[..]);
    let block = append_crc24(&p);
    let mut g = c.benchmark_group("fec");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_block", |b| {
        b.iter(|| black_box(encode_block(black_box(&block))))
    });
    let dm = RateDematcher::new();
    let llr = frames()[0];
    g.bench_function("rate_dematch", |b| {
        b.iter_batched_ref(
            || Box::new([[0f32; D]; 3]),
            |out| dm.dematch(black_box(&llr), out),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_decoders, bench_chain);
criterion_main!(benches);
