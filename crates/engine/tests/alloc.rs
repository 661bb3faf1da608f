//! Steady state allocates nothing: a counting global allocator watches a noise-only stream
//! through every stage (source, FFT analysis, detector, look-back, sink).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use droneid_core::Complex32;
use droneid_engine::{
    run, BlockSource, EngineConfig, RunControl, SourceDescription, SourceError, SourceRead,
};
use droneid_receiver::{Frame, ReceiverConfig};
use rand::{Rng, SeedableRng};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Endless noise from a pre-generated table; records the allocation count at two block numbers.
struct NoiseSource {
    table: Vec<Complex32>,
    pos: usize,
    reads: u64,
    total_reads: u64,
    marks: Arc<[AtomicU64; 2]>,
}

const FIRST_MARK: u64 = 150;
const SECOND_MARK: u64 = 450;

impl BlockSource for NoiseSource {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            label: "noise".into(),
            sample_rate_hz: 15.36e6,
            center_freq_hz: None,
            total_samples: None,
            live: false,
        }
    }

    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        self.reads += 1;
        if self.reads == FIRST_MARK {
            self.marks[0].store(ALLOCATIONS.load(Ordering::SeqCst), Ordering::SeqCst);
        }
        if self.reads == SECOND_MARK {
            self.marks[1].store(ALLOCATIONS.load(Ordering::SeqCst), Ordering::SeqCst);
        }
        if self.reads > self.total_reads {
            return Ok(SourceRead::default());
        }
        for s in buf.iter_mut() {
            *s = self.table[self.pos];
            self.pos = (self.pos + 1) % self.table.len();
        }
        Ok(SourceRead {
            samples: buf.len(),
            ..SourceRead::default()
        })
    }
}

#[test]
fn steady_state_blocks_allocate_nothing() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    // Not a multiple of the block length, so reads wrap at different places.
    let table: Vec<Complex32> = (0..1_000_003)
        .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
        .collect();
    let marks: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let src = NoiseSource {
        table,
        pos: 0,
        reads: 0,
        total_reads: SECOND_MARK + 50,
        marks: marks.clone(),
    };
    let mut cfg = EngineConfig::new(ReceiverConfig::new(15.36e6));
    cfg.block_samples = 16_384;
    let mut frames = 0;
    let summary = run(
        &cfg,
        Box::new(src),
        &RunControl::default(),
        &mut |_f: Frame| frames += 1,
        None,
    )
    .unwrap();
    // Uniform noise, fixed seed: no candidate (a burst's job would allocate its frame).
    assert_eq!(summary.stats.candidates, 0);
    assert_eq!(frames, 0);
    let (a, b) = (
        marks[0].load(Ordering::SeqCst),
        marks[1].load(Ordering::SeqCst),
    );
    assert!(a > 0 && b > 0);
    assert_eq!(
        b - a,
        0,
        "{} allocations in {} steady-state blocks",
        b - a,
        SECOND_MARK - FIRST_MARK
    );
}
