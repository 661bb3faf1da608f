//! Fixed-size pools of items that circulate, so the allocator stays off the hot path.
//!
//! A [`Pool`] hands out items ([`Pool::take`]); the last stage that uses an item gives it
//! back through the pool's [`Returner`]. All items are built once, up front, by a factory.
//!
//! # Why a single SPSC free ring (and not crossbeam's `ArrayQueue`)
//!
//! In this pipeline every pool has exactly one taker (the stage that fills items: the source
//! for the engine's blocks) and exactly one giver (the stage that finishes with them), so the free
//! list is a single-producer single-consumer queue: the returner is the producer, the pool
//! the consumer. Using the crate's own [`spsc`](crate::ring::spsc) ring makes `take` and
//! `give` wait-free with no compare-and-swap (an `ArrayQueue` pays a CAS per operation for
//! MPMC generality we do not need), reuses one audited piece of `unsafe`, and gives the pool
//! the same [`RingStats`](crate::ring::RingStats) as every other ring. If several threads
//! ever have to return items (e.g. a rayon decoder pool), give each its own pool, or funnel
//! returns through one sink stage.
//!
//! An item that is dropped instead of given back simply leaves the pool smaller; nothing leaks.
//!
//! # Example
//!
//! ```
//! use droneid_pipeline::Pool;
//!
//! let (mut pool, mut returner) = Pool::with_factory(2, || vec![0.0f32; 1024]);
//! let mut block = pool.take().expect("fresh pool");
//! block[0] = 1.0;
//! // ... fill, send downstream; the last stage gives it back:
//! returner.give(block).expect("block from this pool");
//! // Two items built up front, one given back: the same two circulate.
//! assert_eq!(pool.stats().pushed(), 3);
//! ```
#![forbid(unsafe_code)]

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::ring::{spsc, Consumer, Producer, RingStats};

/// The taking side of a pool (owned by the stage that fills items).
#[derive(Debug)]
pub struct Pool<T> {
    free: Consumer<T>,
    count: usize,
}

/// The giving-back side of a pool (owned by the stage that finishes with items).
#[derive(Debug)]
pub struct Returner<T> {
    free: Producer<T>,
}

impl<T> Pool<T> {
    /// Builds `count` items with `factory` (the only allocations the pool ever makes) and
    /// returns the pool and its returner.
    ///
    /// # Panics
    /// If `count == 0`.
    pub fn with_factory(count: usize, mut factory: impl FnMut() -> T) -> (Self, Returner<T>) {
        assert!(count > 0, "a pool needs at least one item");
        let (mut tx, rx) = spsc::channel(count);
        for _ in 0..count {
            if tx.push(factory()).is_err() {
                unreachable!("ring has exactly `count` free slots");
            }
        }
        (Self { free: rx, count }, Returner { free: tx })
    }

    /// Takes a free item, or `None` if all are in flight (a live source counts a drop).
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        self.free.pop()
    }

    /// Takes a free item, waiting (spin → yield → sleep) for one to come back. `None` if
    /// `stop` is raised or the returner was dropped with no item left.
    pub fn take_blocking(&mut self, stop: &AtomicBool) -> Option<T> {
        self.free.pop_blocking(stop)
    }

    /// Items the pool was built with.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Items free right now (tests).
    #[cfg(test)]
    fn available(&self) -> usize {
        self.free.len()
    }

    /// Items taken and not (yet) given back; items dropped elsewhere stay counted here (tests).
    #[cfg(test)]
    fn outstanding(&self) -> usize {
        self.count - self.available()
    }

    /// Counters of the free ring (`popped` = items taken, `pushed` = initial fill + returns).
    pub fn stats(&self) -> &Arc<RingStats> {
        self.free.stats()
    }
}

impl<T> Returner<T> {
    /// Gives an item back to its pool. Never blocks or allocates.
    ///
    /// Hands the item back in `Err` only if the pool is already full, i.e. the item did not
    /// come from this pool.
    #[inline]
    pub fn give(&mut self, item: T) -> Result<(), T> {
        self.free.push(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_until_exhausted_then_circulate() {
        let (mut pool, mut ret) = Pool::with_factory(3, || Vec::<u32>::with_capacity(16));
        assert_eq!(pool.count(), 3);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        let c = pool.take().unwrap();
        assert!(pool.take().is_none());
        assert_eq!(pool.outstanding(), 3);
        assert_eq!(a.capacity(), 16);
        ret.give(b).unwrap();
        assert_eq!(pool.available(), 1);
        let b2 = pool.take().unwrap();
        ret.give(a).unwrap();
        ret.give(b2).unwrap();
        ret.give(c).unwrap();
        assert_eq!(pool.available(), 3);
        // A foreign block does not fit.
        assert!(ret.give(Vec::new()).is_err());
        assert_eq!(pool.stats().popped(), 4);
    }

    #[test]
    fn generic_pool_reuses_the_same_allocations() {
        let (mut pool, mut ret) = Pool::with_factory(2, || Vec::<u8>::with_capacity(64));
        let mut seen = Vec::new();
        for _ in 0..10 {
            let mut v = pool.take().unwrap();
            v.clear();
            v.push(1);
            let ptr = v.as_ptr() as usize;
            if !seen.contains(&ptr) {
                seen.push(ptr);
            }
            ret.give(v).unwrap();
        }
        // FIFO free list: the two items built up front alternate, nothing new is made.
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn dropped_items_shrink_the_pool() {
        let (mut pool, ret) = Pool::with_factory(2, || String::from("x"));
        drop(pool.take());
        assert_eq!(pool.outstanding(), 1);
        drop(ret);
        let stop = AtomicBool::new(false);
        assert_eq!(pool.take_blocking(&stop).as_deref(), Some("x"));
        assert_eq!(pool.take_blocking(&stop), None);
    }
}
