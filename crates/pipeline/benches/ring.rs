//! Ring and pool throughput.
//!
//! * `pipeline/ring/spsc_u64`: one producer thread pushes `u64`s through a 1024-slot ring to
//!   a consumer thread (items/s, both sides using the blocking helpers).
//! * `pipeline/ring/block_roundtrip`: pooled blocks of 4096 samples circulate
//!   pool → ring → consumer → returner → pool with 8 blocks in flight (blocks/s; the payload
//!   is not touched, so this is the pure plumbing cost per block).
//!
//! Run: `cargo bench -p droneid-pipeline --bench ring -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use droneid_pipeline::{spsc, Pool};

/// The circulating item.
#[derive(Debug)]
struct Block {
    start_sample: u64,
    samples: Vec<[f32; 2]>,
}

const RING_CAPACITY: usize = 1024;
const POOL_BLOCKS: usize = 8;
const BLOCK_LEN: usize = 4096;

fn spsc_u64(iters: u64) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let (mut tx, mut rx) = spsc::channel::<u64>(RING_CAPACITY);
    let stop_c = Arc::clone(&stop);
    let consumer = thread::spawn(move || {
        let mut sum = 0u64;
        while let Some(v) = rx.pop_blocking(&stop_c) {
            sum = sum.wrapping_add(v);
        }
        black_box(sum)
    });
    let t0 = Instant::now();
    for i in 0..iters {
        tx.push_blocking(i, &stop).unwrap();
    }
    drop(tx);
    consumer.join().unwrap();
    t0.elapsed()
}

fn block_roundtrip(iters: u64) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let (mut pool, mut returner) = Pool::with_factory(POOL_BLOCKS, || Block {
        start_sample: 0,
        samples: vec![[0.0; 2]; BLOCK_LEN],
    });
    let (mut tx, mut rx) = spsc::channel::<Block>(POOL_BLOCKS);
    let stop_c = Arc::clone(&stop);
    let consumer = thread::spawn(move || {
        let mut n = 0u64;
        while let Some(block) = rx.pop_blocking(&stop_c) {
            n = n.wrapping_add(black_box(&block).start_sample);
            returner.give(block).unwrap();
        }
        black_box(n)
    });
    let t0 = Instant::now();
    for i in 0..iters {
        let mut block = pool.take_blocking(&stop).unwrap();
        block.start_sample = i * BLOCK_LEN as u64;
        block.samples[0][0] = i as f32;
        tx.push_blocking(block, &stop).unwrap();
    }
    drop(tx);
    consumer.join().unwrap();
    t0.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline/ring");
    g.throughput(Throughput::Elements(1));
    g.bench_function("spsc_u64", |b| b.iter_custom(spsc_u64));
    g.bench_function("block_roundtrip", |b| b.iter_custom(block_roundtrip));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
