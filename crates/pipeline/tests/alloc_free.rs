//! Steady-state allocation check: pooled blocks circulate source → ring → consumer →
//! returner → pool through two threads, and a counting global allocator proves that
//! nothing allocates once the pipeline has warmed up.
//!
//! This file holds a single test so that no other test thread allocates during the window.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use std::thread;

use droneid_pipeline::{spsc, Pool};

/// The circulating item: a sample buffer and its stream position.
struct Block {
    seq: u64,
    start_sample: u64,
    samples: Vec<f32>,
}

/// Wraps the system allocator and counts allocations while `ARMED` is set.
struct CountingAlloc;

static ARMED: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counters are atomics and never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Blocks that pass through the chain.
const ROUNDS: u64 = if cfg!(miri) { 200 } else { 100_000 };
/// Blocks before the measured window opens (threads, channels and lazy statics are set up).
const WARM_UP: u64 = ROUNDS / 10;
/// Blocks after which the window closes (before the ends are dropped).
const WINDOW_END: u64 = ROUNDS - ROUNDS / 10;
const POOL_BLOCKS: usize = 8;
const BLOCK_LEN: usize = 1024;

#[test]
fn blocks_circulate_without_allocating() {
    let stop = Arc::new(AtomicBool::new(false));
    let (mut pool, mut returner) = Pool::with_factory(POOL_BLOCKS, || Block {
        seq: 0,
        start_sample: 0,
        samples: vec![0.0; BLOCK_LEN],
    });
    let (mut tx, mut rx) = spsc::channel::<Block>(4);
    let ring_stats = Arc::clone(tx.stats());
    let consumed = Arc::new(AtomicU64::new(0));

    let stop_s = Arc::clone(&stop);
    let source = thread::spawn(move || -> Result<u64, String> {
        let mut out = 0u64;
        for seq in 0..ROUNDS {
            if seq == WARM_UP {
                ARMED.store(true, Ordering::SeqCst);
            }
            if seq == WINDOW_END {
                ARMED.store(false, Ordering::SeqCst);
            }
            let Some(mut block) = pool.take_blocking(&stop_s) else {
                return Err("pool closed".into());
            };
            block.seq = seq;
            block.start_sample = seq * BLOCK_LEN as u64;
            block.samples[0] = seq as f32;
            if tx.push_blocking(block, &stop_s).is_err() {
                return Err("consumer gone".into());
            }
            out += 1;
        }
        Ok(out)
    });

    let consumed_c = Arc::clone(&consumed);
    let stop_c = Arc::clone(&stop);
    let sink = thread::spawn(move || -> Result<u64, String> {
        let mut expect = 0u64;
        while let Some(block) = rx.pop_blocking(&stop_c) {
            let ok = block.seq == expect
                && block.start_sample == expect * BLOCK_LEN as u64
                && block.samples[0] == expect as f32;
            if !ok {
                return Err("block out of order or corrupted".into());
            }
            expect += 1;
            if returner.give(block).is_err() {
                return Err("block did not fit back into its pool".into());
            }
            consumed_c.store(expect, Ordering::Relaxed);
        }
        Ok(expect)
    });

    let src = source.join().expect("source thread").expect("source");
    let snk = sink.join().expect("sink thread").expect("sink");
    ARMED.store(false, Ordering::SeqCst);
    let allocs_in_window = ALLOCS.load(Ordering::SeqCst);

    assert_eq!(src, ROUNDS);
    assert_eq!(snk, ROUNDS);
    assert_eq!(consumed.load(Ordering::Relaxed), ROUNDS);
    assert_eq!(ring_stats.pushed(), ROUNDS);
    assert_eq!(
        allocs_in_window,
        0,
        "allocations during {} steady-state blocks",
        WINDOW_END - WARM_UP
    );

    // The counter is live: one deliberate allocation in a window is seen.
    ARMED.store(true, Ordering::SeqCst);
    let b = std::hint::black_box(Box::new(7u64));
    ARMED.store(false, Ordering::SeqCst);
    drop(b);
    assert_eq!(
        ALLOCS.load(Ordering::SeqCst),
        1,
        "counting allocator is active"
    );
}
