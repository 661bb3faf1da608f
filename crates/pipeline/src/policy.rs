//! Back-pressure policy for the side that feeds a ring.
//!
//! * [`BackPressure::Block`]: wait for space — for file sources and every internal stage,
//!   where slowing down upstream loses nothing.
//! * [`BackPressure::DropAndCount`]: never wait — for live SDR sources, where the radio does
//!   not stop; the item is handed back (so a pooled block can be recycled at once) and the
//!   drop is counted in the ring's [`RingStats::dropped`](crate::ring::RingStats::dropped).
//!
//! For either policy `pushed + dropped == offered`, counted in the ring's stats.
#![forbid(unsafe_code)]

use std::sync::atomic::AtomicBool;

use crate::ring::Producer;

/// What a feeding stage does when the next ring is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackPressure {
    /// Wait (spin → yield → sleep) until there is space, `stop` is raised or the consumer is
    /// gone.
    #[default]
    Block,
    /// Give the item back immediately and count a drop.
    DropAndCount,
}

/// Result of [`push_with_policy`].
#[derive(Debug, PartialEq, Eq)]
pub enum PushOutcome<T> {
    /// The item is in the ring.
    Pushed,
    /// The item was not pushed (ring full under `DropAndCount`, or `stop` raised / consumer
    /// gone under `Block`); it is handed back and counted as dropped.
    Dropped(T),
}

impl<T> PushOutcome<T> {
    /// `true` for [`PushOutcome::Pushed`].
    pub fn is_pushed(&self) -> bool {
        matches!(self, PushOutcome::Pushed)
    }
}

/// Pushes `item` into `producer` under `policy`; every item not pushed is counted as dropped.
pub fn push_with_policy<T>(
    producer: &mut Producer<T>,
    item: T,
    policy: BackPressure,
    stop: &AtomicBool,
) -> PushOutcome<T> {
    let result = match policy {
        BackPressure::Block => producer.push_blocking(item, stop),
        BackPressure::DropAndCount => producer.push(item),
    };
    match result {
        Ok(()) => PushOutcome::Pushed,
        Err(item) => {
            producer.record_drop();
            PushOutcome::Dropped(item)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::spsc;
    use std::sync::atomic::Ordering;

    #[test]
    fn drop_and_count_hands_back_and_counts() {
        let stop = AtomicBool::new(false);
        let (mut tx, mut rx) = spsc::channel::<u32>(2);
        let offered = 5;
        let mut dropped = Vec::new();
        for i in 0..offered {
            if let PushOutcome::Dropped(v) =
                push_with_policy(&mut tx, i, BackPressure::DropAndCount, &stop)
            {
                dropped.push(v);
            }
        }
        assert_eq!(dropped, vec![2, 3, 4]);
        let s = tx.stats().snapshot();
        assert_eq!(s.pushed + s.dropped, u64::from(offered));
        assert_eq!(rx.pop(), Some(0));
        assert!(push_with_policy(&mut tx, 9, BackPressure::DropAndCount, &stop).is_pushed());
    }

    #[test]
    fn block_drops_only_on_stop() {
        let stop = AtomicBool::new(false);
        let (mut tx, _rx) = spsc::channel::<u32>(1);
        assert!(push_with_policy(&mut tx, 1, BackPressure::Block, &stop).is_pushed());
        stop.store(true, Ordering::Relaxed);
        assert_eq!(
            push_with_policy(&mut tx, 2, BackPressure::Block, &stop),
            PushOutcome::Dropped(2)
        );
        assert_eq!(tx.stats().dropped(), 1);
    }
}
