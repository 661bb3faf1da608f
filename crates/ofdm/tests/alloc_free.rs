//! `BurstDemodulator::demodulate` must not allocate (style guide: scratch allocated once).
//! A counting global allocator counts allocations made by this thread between two points.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use droneid_core::{BurstFormat, Complex32, CODED_BITS};
use droneid_ofdm::{BaseRateModulator, BurstDemodulator, DemodConfig, DemodResult};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(|c| c.get())
}

#[test]
fn demodulate_does_not_allocate() {
    let scr = vec![0u8; 1200];
    let mut bits = [0u8; CODED_BITS];
    for (j, b) in bits.iter_mut().enumerate() {
        *b = ((j * 7 + j / 3) % 2) as u8;
    }
    let burst = BaseRateModulator::new().modulate(BurstFormat::Nine, &bits, &scr);
    let mut samples = vec![Complex32::new(0.0, 0.0); 500];
    // 40 kHz CFO so that every stage does real work.
    for (n, v) in burst.iter().enumerate() {
        let ph = 2.0 * std::f64::consts::PI * 40e3 * n as f64 / 15.36e6;
        samples.push(v * Complex32::new(ph.cos() as f32, ph.sin() as f32));
    }
    samples.extend(std::iter::repeat_n(Complex32::new(0.0, 0.0), 500));
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr);
    let mut out = Box::new(DemodResult::default());
    let hint = 500.0 + 3368.0 - 1.7 * 3.0 + 7.0;
    demod.demodulate(&samples, hint, &mut out).unwrap(); // warm-up (lazy FFT twiddles etc.)
    let before = allocs();
    for _ in 0..3 {
        demod.demodulate(&samples, hint, &mut out).unwrap();
        let _ = demod.demodulate(&samples[..100], 50.0, &mut out); // failure path too
    }
    assert_eq!(allocs() - before, 0, "demodulate() allocated");
    // The last call failed (slice too short): the result is reset, LLRs all zero.
    assert!(out.llrs.iter().all(|&l| l == 0.0));
    // Keeping the equalised symbols (for plots) allocates once, when switched on.
    demod.keep_equalised(true);
    let before = allocs();
    for _ in 0..3 {
        demod.demodulate(&samples, hint, &mut out).unwrap();
        let _ = demod.demodulate(&samples[..100], 50.0, &mut out);
    }
    assert_eq!(allocs() - before, 0, "demodulate() allocated keeping Y/Ĥ");
    assert_eq!(demod.equalised_symbols().len(), CODED_BITS / 2);
}
