//! A bounded, lock-free, wait-free **single-producer single-consumer** ring.
//!
//! This is the only module of the crate that contains `unsafe` code.
//!
//! # Design
//!
//! The layout follows the classic Lamport queue as refined by `rtrb`:
//!
//! * `head` (next slot to read, written only by the [`Consumer`]) and `tail` (next slot to
//!   write, written only by the [`Producer`]) live on separate 128-byte aligned cache lines,
//!   so the two threads never false-share.
//! * Each side keeps a private copy of its *own* index (it is the only writer) and a *cached*
//!   copy of the other side's index. The shared atomic of the other side is only re-read when
//!   the cached copy says "full" (producer) or "empty" (consumer), so in steady state each
//!   operation touches one shared cache line.
//! * Publication uses Release stores of the own index and Acquire loads of the other index:
//!   the producer's write of a slot happens-before the consumer's read of it, and the
//!   consumer's read happens-before the producer re-uses the slot. No read-modify-write, no
//!   compare-and-swap, no lock, no syscall.
//! * Indices run over `0..2 * capacity` so that "full" (`tail - head == capacity`) and
//!   "empty" (`tail == head`) are distinguishable for any capacity, not only powers of two.
//!
//! Statistics ([`RingStats`]) are single-writer counters: each side accumulates in its own
//! struct and publishes with a plain `Relaxed` store (no `lock`-prefixed instruction on x86),
//! on a cache line of its own.
//!
//! # Example
//!
//! ```
//! use droneid_pipeline::ring::spsc;
//!
//! let (mut tx, mut rx) = spsc::channel::<u32>(4);
//! tx.push(1).unwrap();
//! tx.push(2).unwrap();
//! assert_eq!(rx.pop(), Some(1));
//! assert_eq!(rx.pop(), Some(2));
//! assert_eq!(rx.pop(), None);
//! assert_eq!(tx.stats().pushed(), 2);
//! ```

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::backoff::Backoff;

/// Aligns (and pads) `T` to 128 bytes: two 64-byte lines, because Intel's spatial prefetcher
/// pulls cache lines in adjacent pairs.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct CachePadded<T>(pub T);

impl<T> Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Counters written by the producer side (one writer, so `Relaxed` stores suffice).
#[derive(Debug, Default)]
struct ProducerCounters {
    pushed: AtomicU64,
    full: AtomicU64,
    blocked: AtomicU64,
    dropped: AtomicU64,
    high_water: AtomicUsize,
}

/// Counters written by the consumer side.
#[derive(Debug, Default)]
struct ConsumerCounters {
    popped: AtomicU64,
    empty_waits: AtomicU64,
}

/// Counters of one ring, readable from any thread (e.g. a stats thread printing a run
/// summary) through an `Arc<RingStats>`.
///
/// All values are monotone and read with `Relaxed` ordering: they are exact once both sides
/// have quiesced (e.g. after the stage threads were joined) and a consistent-enough snapshot
/// while running.
#[derive(Debug)]
pub struct RingStats {
    capacity: usize,
    producer: CachePadded<ProducerCounters>,
    consumer: CachePadded<ConsumerCounters>,
}

/// A plain copy of [`RingStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingStatsSnapshot {
    /// Slots in the ring.
    pub capacity: usize,
    /// Items successfully pushed.
    pub pushed: u64,
    /// Items popped.
    pub popped: u64,
    /// Calls of [`Producer::push`] that found the ring full (the item was handed back).
    pub full: u64,
    /// Blocking pushes ([`Producer::push_blocking`]) that had to wait at least once.
    pub blocked: u64,
    /// Items the producer side gave up on ([`Producer::record_drop`], e.g. by the
    /// `DropAndCount` policy).
    pub dropped: u64,
    /// Blocking pops ([`Consumer::pop_blocking`]) that had to wait at least once.
    pub empty_waits: u64,
    /// Largest number of items ever in the ring, measured just after a push.
    pub high_water: usize,
}

impl RingStats {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            producer: CachePadded(ProducerCounters::default()),
            consumer: CachePadded(ConsumerCounters::default()),
        }
    }
    /// Slots in the ring.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Items successfully pushed.
    pub fn pushed(&self) -> u64 {
        self.producer.pushed.load(Ordering::Relaxed)
    }
    /// Items popped.
    pub fn popped(&self) -> u64 {
        self.consumer.popped.load(Ordering::Relaxed)
    }
    /// Non-blocking pushes that failed because the ring was full.
    pub fn full(&self) -> u64 {
        self.producer.full.load(Ordering::Relaxed)
    }
    /// Blocking pushes that had to wait for space.
    pub fn blocked(&self) -> u64 {
        self.producer.blocked.load(Ordering::Relaxed)
    }
    /// Items dropped by the producer side.
    pub fn dropped(&self) -> u64 {
        self.producer.dropped.load(Ordering::Relaxed)
    }
    /// Blocking pops that had to wait for an item.
    pub fn empty_waits(&self) -> u64 {
        self.consumer.empty_waits.load(Ordering::Relaxed)
    }
    /// Largest occupancy seen just after a push.
    pub fn high_water(&self) -> usize {
        self.producer.high_water.load(Ordering::Relaxed)
    }
    /// All counters at once.
    pub fn snapshot(&self) -> RingStatsSnapshot {
        RingStatsSnapshot {
            capacity: self.capacity,
            pushed: self.pushed(),
            popped: self.popped(),
            full: self.full(),
            blocked: self.blocked(),
            dropped: self.dropped(),
            empty_waits: self.empty_waits(),
            high_water: self.high_water(),
        }
    }
}

/// State shared by the two ends.
struct Shared<T> {
    /// Next slot to read; written only by the consumer. Range `0..2 * capacity`.
    head: CachePadded<AtomicUsize>,
    /// Next slot to write; written only by the producer. Range `0..2 * capacity`.
    tail: CachePadded<AtomicUsize>,
    /// Slots `collapse(head)..collapse(tail)` (circularly) are initialised, all others are not.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    capacity: usize,
    producer_alive: AtomicBool,
    consumer_alive: AtomicBool,
    stats: Arc<RingStats>,
}

impl<T> Shared<T> {
    /// Maps an index in `0..2 * capacity` to a slot in `0..capacity`.
    #[inline]
    fn collapse(&self, index: usize) -> usize {
        if index >= self.capacity {
            index - self.capacity
        } else {
            index
        }
    }

    /// `index + 1` modulo `2 * capacity`.
    #[inline]
    fn next(&self, index: usize) -> usize {
        let n = index + 1;
        if n == 2 * self.capacity {
            0
        } else {
            n
        }
    }

    /// Number of items between `head` and `tail` (both in `0..2 * capacity`).
    #[inline]
    fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head {
            tail - head
        } else {
            tail + 2 * self.capacity - head
        }
    }

    #[inline]
    fn slot(&self, index: usize) -> *mut MaybeUninit<T> {
        self.slots[self.collapse(index)].get()
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both ends are gone (this is the last `Arc`), and `Arc`'s drop synchronises with the
        // other end's release of its reference, so plain reads of the indices are current.
        let mut head = *self.head.0.get_mut();
        let tail = *self.tail.0.get_mut();
        while head != tail {
            let slot = self.slot(head);
            // SAFETY: slots in head..tail were written by the producer and not yet read by
            // the consumer, so they hold initialised values that nobody else owns; each is
            // dropped exactly once because `head` advances past it.
            unsafe { (*slot).assume_init_drop() };
            head = self.next(head);
        }
    }
}

/// Constructors for the SPSC ring.
pub mod spsc {
    pub use super::{Consumer, Producer, RingStats, RingStatsSnapshot};

    /// Creates a ring with room for `capacity` items and returns its two ends.
    ///
    /// Allocates `capacity` slots once; `push`/`pop` never allocate.
    ///
    /// # Panics
    /// If `capacity` is 0 or larger than `usize::MAX / 4` (indices run over `2 * capacity`).
    pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
        super::channel(capacity)
    }
}

fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(capacity > 0, "spsc ring capacity must be at least 1");
    assert!(capacity <= usize::MAX / 4, "spsc ring capacity too large");
    let slots: Box<[UnsafeCell<MaybeUninit<T>>]> = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let stats = Arc::new(RingStats::new(capacity));
    let shared = Arc::new(Shared {
        head: CachePadded(AtomicUsize::new(0)),
        tail: CachePadded(AtomicUsize::new(0)),
        slots,
        capacity,
        producer_alive: AtomicBool::new(true),
        consumer_alive: AtomicBool::new(true),
        stats: Arc::clone(&stats),
    });
    let producer = Producer {
        shared: Arc::clone(&shared),
        tail: 0,
        cached_head: 0,
        pushed: 0,
        full: 0,
        blocked: 0,
        dropped: 0,
        high_water: 0,
    };
    let consumer = Consumer {
        shared,
        head: 0,
        cached_tail: 0,
        popped: 0,
        empty_waits: 0,
    };
    (producer, consumer)
}

/// The writing end of an SPSC ring. `Send` (when `T: Send`) but not `Clone` and not `Sync`:
/// exactly one thread pushes.
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Own index (the producer is the only writer of `shared.tail`).
    tail: usize,
    /// Last value read from `shared.head`; never ahead of the real head.
    cached_head: usize,
    pushed: u64,
    full: u64,
    blocked: u64,
    dropped: u64,
    high_water: usize,
}

/// The reading end of an SPSC ring. `Send` (when `T: Send`) but not `Clone` and not `Sync`.
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Own index (the consumer is the only writer of `shared.head`).
    head: usize,
    /// Last value read from `shared.tail`; never ahead of the real tail.
    cached_tail: usize,
    popped: u64,
    empty_waits: u64,
}

// SAFETY: a `Producer` only writes slots that the consumer cannot read yet and moves `T`
// values to the consumer's thread, so it may move between threads when `T: Send`. It is not
// `Sync`: `push` takes `&mut self`, and there is no `Clone`, so there is one producer.
unsafe impl<T: Send> Send for Producer<T> {}
// SAFETY: symmetric to `Producer`: the consumer only reads published slots and moves `T`
// values out, so it is `Send` when `T: Send`; one consumer because there is no `Clone`.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> std::fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.shared.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl<T> std::fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.shared.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl<T> Producer<T> {
    /// Appends `item`, or hands it back in `Err` if the ring is full. Never blocks, never
    /// allocates. A failure is counted in [`RingStats::full`].
    #[inline]
    pub fn push(&mut self, item: T) -> Result<(), T> {
        match self.try_push(item) {
            Ok(()) => Ok(()),
            Err(item) => {
                self.full += 1;
                self.shared
                    .stats
                    .producer
                    .full
                    .store(self.full, Ordering::Relaxed);
                Err(item)
            }
        }
    }

    /// `push` without counting a failure (used by the blocking loop).
    #[inline]
    fn try_push(&mut self, item: T) -> Result<(), T> {
        let shared = &*self.shared;
        let tail = self.tail;
        if shared.distance(self.cached_head, tail) == shared.capacity {
            // Looks full with the stale head: refresh it. Acquire pairs with the consumer's
            // Release store of `head`, so its reads of the freed slots happened before.
            self.cached_head = shared.head.load(Ordering::Acquire);
            if shared.distance(self.cached_head, tail) == shared.capacity {
                return Err(item);
            }
        }
        // SAFETY: `tail` is not yet published, so the consumer does not read this slot; and
        // `distance(cached_head, tail) < capacity` with `cached_head` never ahead of the real
        // head means the consumer has already moved the previous value out of it (its Release
        // store of `head` that we Acquire-loaded ordered that read before this write). The
        // slot is therefore uninitialised and exclusively ours; `write` does not drop anything.
        unsafe { (*shared.slot(tail)).write(item) };
        let new_tail = shared.next(tail);
        // Release: the slot write above happens-before the consumer's Acquire load of `tail`.
        shared.tail.store(new_tail, Ordering::Release);
        self.tail = new_tail;

        self.pushed += 1;
        let counters = &shared.stats.producer;
        counters.pushed.store(self.pushed, Ordering::Relaxed);
        // High-water mark: the cached head makes `len` an over-estimate, so only when it
        // would raise the mark do we refresh the real head (rare once the mark has settled).
        if shared.distance(self.cached_head, new_tail) > self.high_water {
            self.cached_head = shared.head.load(Ordering::Acquire);
            let len = shared.distance(self.cached_head, new_tail);
            if len > self.high_water {
                self.high_water = len;
                counters.high_water.store(len, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Pushes `item`, waiting for space with a spin → `yield_now` → short sleep back-off.
    ///
    /// If there is space the item is pushed even when `stop` is set; `stop` only ends a
    /// *wait*. Returns the item in `Err` if `stop` is seen or the consumer was dropped while
    /// waiting (check [`Producer::is_abandoned`] to tell the two apart). The fast path (space available) is
    /// exactly [`Producer::push`]: no lock, no syscall.
    pub fn push_blocking(&mut self, item: T, stop: &AtomicBool) -> Result<(), T> {
        let mut item = match self.try_push(item) {
            Ok(()) => return Ok(()),
            Err(item) => item,
        };
        self.blocked += 1;
        self.shared
            .stats
            .producer
            .blocked
            .store(self.blocked, Ordering::Relaxed);
        let mut backoff = Backoff::new();
        loop {
            if stop.load(Ordering::Acquire) || self.is_abandoned() {
                return Err(item);
            }
            backoff.snooze();
            item = match self.try_push(item) {
                Ok(()) => return Ok(()),
                Err(item) => item,
            };
        }
    }

    /// Counts one item that the producer side gave up on (e.g. a live source that found the
    /// ring full under the `DropAndCount` policy). Shows up in [`RingStats::dropped`].
    #[inline]
    pub fn record_drop(&mut self) {
        self.dropped += 1;
        self.shared
            .stats
            .producer
            .dropped
            .store(self.dropped, Ordering::Relaxed);
    }

    /// Items currently in the ring (exact at the moment of the call, may be stale right after).
    pub fn len(&self) -> usize {
        let head = self.shared.head.load(Ordering::Acquire);
        self.shared.distance(head, self.tail)
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots right now (at least this many pushes will succeed).
    pub fn slots(&self) -> usize {
        self.shared.capacity - self.len()
    }

    /// Slots in the ring.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// `true` once the [`Consumer`] has been dropped: nothing pushed from now on will be read.
    pub fn is_abandoned(&self) -> bool {
        !self.shared.consumer_alive.load(Ordering::Acquire)
    }

    /// The ring's counters, shareable with a stats thread.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.shared.stats
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // Release: every `tail` store (and slot write) happens-before a consumer that sees
        // `producer_alive == false` with Acquire, so it can drain the rest reliably.
        self.shared.producer_alive.store(false, Ordering::Release);
    }
}

impl<T> Consumer<T> {
    /// Removes the oldest item, or `None` if the ring is empty. Never blocks, never allocates.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let shared = &*self.shared;
        let head = self.head;
        if head == self.cached_tail {
            // Acquire pairs with the producer's Release store of `tail`: the slot writes
            // before it are visible.
            self.cached_tail = shared.tail.load(Ordering::Acquire);
            if head == self.cached_tail {
                return None;
            }
        }
        // SAFETY: `head != cached_tail` and `cached_tail` is a value of `tail` we
        // Acquire-loaded, so the producer initialised this slot and published it; the producer
        // will not touch it until our Release store of the advanced `head` below. Reading moves
        // the value out and the slot counts as uninitialised from then on, so it is read once.
        let item = unsafe { (*shared.slot(head)).assume_init_read() };
        let new_head = shared.next(head);
        // Release: our read above happens-before the producer re-uses the slot.
        shared.head.store(new_head, Ordering::Release);
        self.head = new_head;
        self.popped += 1;
        shared
            .stats
            .consumer
            .popped
            .store(self.popped, Ordering::Relaxed);
        Some(item)
    }

    /// Pops an item, waiting with a spin → `yield_now` → short sleep back-off.
    ///
    /// An available item is returned even if `stop` is set; `stop` only ends a *wait*. Returns
    /// `None` when `stop` is seen while the ring is empty, or when the producer was dropped
    /// **and** every item it pushed has been popped — so a finite source ends a chain by dropping its producer, and each downstream
    /// stage drains before it ends.
    pub fn pop_blocking(&mut self, stop: &AtomicBool) -> Option<T> {
        if let Some(item) = self.pop() {
            return Some(item);
        }
        self.empty_waits += 1;
        self.shared
            .stats
            .consumer
            .empty_waits
            .store(self.empty_waits, Ordering::Relaxed);
        let mut backoff = Backoff::new();
        loop {
            if stop.load(Ordering::Acquire) {
                return None;
            }
            if self.is_abandoned() {
                // The producer's final `tail` store happens-before the flag we just
                // Acquire-loaded, so one more `pop` sees everything it ever pushed.
                return self.pop();
            }
            backoff.snooze();
            if let Some(item) = self.pop() {
                return Some(item);
            }
        }
    }

    /// Items currently in the ring.
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.load(Ordering::Acquire);
        self.shared.distance(self.head, tail)
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slots in the ring.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// `true` once the [`Producer`] has been dropped: after the remaining items nothing more
    /// will arrive.
    pub fn is_abandoned(&self) -> bool {
        !self.shared.producer_alive.load(Ordering::Acquire)
    }

    /// The ring's counters, shareable with a stats thread.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.shared.stats
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.shared.consumer_alive.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::spsc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Counts how many times values of this type were dropped.
    struct DropCounter {
        id: usize,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn fifo_full_and_empty() {
        let (mut tx, mut rx) = spsc::channel::<u32>(3);
        assert_eq!(tx.capacity(), 3);
        assert_eq!(rx.pop(), None);
        assert!(tx.is_empty() && rx.is_empty());
        for i in 0..3 {
            tx.push(i).unwrap();
        }
        assert_eq!(tx.len(), 3);
        assert_eq!(rx.len(), 3);
        assert_eq!(tx.slots(), 0);
        assert_eq!(tx.push(99), Err(99));
        assert_eq!(rx.pop(), Some(0));
        tx.push(3).unwrap();
        assert_eq!(tx.push(100), Err(100));
        assert_eq!(rx.pop(), Some(1));
        assert_eq!(rx.pop(), Some(2));
        assert_eq!(rx.pop(), Some(3));
        assert_eq!(rx.pop(), None);
        let s = tx.stats().snapshot();
        assert_eq!(s.pushed, 4);
        assert_eq!(s.popped, 4);
        assert_eq!(s.full, 2);
        assert_eq!(s.dropped, 0);
        assert_eq!(s.high_water, 3);
    }

    #[test]
    fn capacity_one() {
        let (mut tx, mut rx) = spsc::channel::<u8>(1);
        for i in 0..10u8 {
            tx.push(i).unwrap();
            assert_eq!(tx.push(i), Err(i));
            assert_eq!(rx.pop(), Some(i));
            assert_eq!(rx.pop(), None);
        }
        assert_eq!(tx.stats().high_water(), 1);
    }

    #[test]
    #[should_panic(expected = "at least 1")]
    fn zero_capacity_panics() {
        let _ = spsc::channel::<u8>(0);
    }

    #[test]
    fn wraps_around_many_times() {
        // A capacity that is not a power of two, with a fill pattern that lands head and tail
        // on every slot and both index halves many times.
        const CAPACITY: usize = 7;
        let rounds = if cfg!(miri) { 20 } else { 10_000 };
        let (mut tx, mut rx) = spsc::channel::<u64>(CAPACITY);
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        let mut max_len = 0;
        for round in 0..rounds {
            let n_push = 1 + round % CAPACITY;
            for _ in 0..n_push {
                if tx.push(next_in).is_ok() {
                    next_in += 1;
                }
            }
            max_len = max_len.max(rx.len());
            let n_pop = 1 + (round * 3) % CAPACITY;
            for _ in 0..n_pop {
                if let Some(v) = rx.pop() {
                    assert_eq!(v, next_out);
                    next_out += 1;
                }
            }
        }
        while let Some(v) = rx.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_in, next_out);
        assert!(
            next_in > 4 * CAPACITY as u64,
            "must have wrapped several times"
        );
        let s = rx.stats().snapshot();
        assert_eq!(s.pushed, next_in);
        assert_eq!(s.popped, next_out);
        assert_eq!(s.high_water, max_len);
        assert_eq!(s.high_water, CAPACITY);
    }

    #[test]
    fn every_item_dropped_exactly_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let make = |id| DropCounter {
            id,
            drops: Arc::clone(&drops),
        };
        {
            let (mut tx, mut rx) = spsc::channel::<DropCounter>(4);
            // Wrap a few times, dropping popped items as we go.
            for id in 0..10 {
                tx.push(make(id)).map_err(|_| ()).unwrap();
                let got = rx.pop().unwrap();
                assert_eq!(got.id, id);
            }
            assert_eq!(drops.load(Ordering::Relaxed), 10);
            // A rejected push hands the item back: dropping it is the caller's business.
            for id in 10..14 {
                tx.push(make(id)).map_err(|_| ()).unwrap();
            }
            let back = tx.push(make(14)).unwrap_err();
            assert_eq!(back.id, 14);
            drop(back);
            assert_eq!(drops.load(Ordering::Relaxed), 11);
            // Leave 3 in the ring (one popped), drop the consumer first, then the producer.
            drop(rx.pop());
            assert_eq!(drops.load(Ordering::Relaxed), 12);
            drop(rx);
            assert!(tx.is_abandoned());
            assert_eq!(drops.load(Ordering::Relaxed), 12);
        }
        assert_eq!(drops.load(Ordering::Relaxed), 15);

        // Same with the producer dropped first.
        drops.store(0, Ordering::Relaxed);
        let (mut tx, mut rx) = spsc::channel::<DropCounter>(3);
        for id in 0..3 {
            tx.push(make(id)).map_err(|_| ()).unwrap();
        }
        drop(tx);
        assert!(rx.is_abandoned());
        assert_eq!(rx.pop().map(|d| d.id), Some(0));
        drop(rx);
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn blocking_ends_on_stop_and_abandonment() {
        let stop = AtomicBool::new(false);
        let (mut tx, mut rx) = spsc::channel::<u32>(2);
        tx.push(1).unwrap();
        tx.push(2).unwrap();
        stop.store(true, Ordering::Relaxed);
        assert_eq!(tx.push_blocking(3, &stop), Err(3));
        assert_eq!(tx.stats().blocked(), 1);
        // Stop wins over remaining items for pop_blocking only when the ring is empty;
        // a non-empty ring still yields its items on the fast path.
        assert_eq!(rx.pop_blocking(&stop), Some(1));
        stop.store(false, Ordering::Relaxed);
        drop(tx);
        assert_eq!(rx.pop_blocking(&stop), Some(2));
        assert_eq!(rx.pop_blocking(&stop), None);
        let (mut tx, rx) = spsc::channel::<u32>(1);
        tx.push(1).unwrap();
        drop(rx);
        assert_eq!(tx.push_blocking(2, &stop), Err(2));
    }

    #[test]
    fn zero_sized_items() {
        let (mut tx, mut rx) = spsc::channel::<()>(5);
        for _ in 0..5 {
            tx.push(()).unwrap();
        }
        assert_eq!(tx.push(()), Err(()));
        for _ in 0..5 {
            assert_eq!(rx.pop(), Some(()));
        }
        assert_eq!(rx.pop(), None);
    }

    #[test]
    fn two_threads_small() {
        // Small enough for miri; the 10^6 version lives in tests/two_threads.rs.
        let n: u64 = if cfg!(miri) { 200 } else { 100_000 };
        let stop = Arc::new(AtomicBool::new(false));
        let (mut tx, mut rx) = spsc::channel::<Box<u64>>(4);
        let stop_p = Arc::clone(&stop);
        let producer = std::thread::spawn(move || {
            for i in 0..n {
                tx.push_blocking(Box::new(i), &stop_p).unwrap();
            }
        });
        let mut expected = 0;
        while let Some(v) = rx.pop_blocking(&stop) {
            assert_eq!(*v, expected);
            expected += 1;
        }
        producer.join().unwrap();
        assert_eq!(expected, n);
        assert_eq!(rx.stats().popped(), n);
    }
}
