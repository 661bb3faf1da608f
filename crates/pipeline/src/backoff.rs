//! Spin → yield → sleep back-off for the blocking ring helpers.
//!
//! Stage threads wait on their neighbours without locks or condition variables: the first
//! few rounds spin on the CPU (`spin_loop` hint, the cheapest way to catch an item that is a
//! few hundred nanoseconds away), then give the core away with `yield_now` (useful when
//! stages outnumber cores), then sleep for a short, doubling interval capped at
//! [`MAX_SLEEP`], so an idle pipeline costs almost no CPU while a busy one never enters the
//! kernel on its fast path. Nothing here allocates.
#![forbid(unsafe_code)]

use std::time::Duration;

/// Rounds of exponential spinning (`2^round` `spin_loop` hints each).
const SPIN_ROUNDS: u32 = 6;
/// Further rounds that call `thread::yield_now`.
const YIELD_ROUNDS: u32 = 10;
/// First sleep once spinning and yielding did not help.
const MIN_SLEEP: Duration = Duration::from_micros(20);
/// Longest single sleep: bounds the extra latency a waiting stage adds (well below the
/// 1 ms-scale blocks the pipeline moves).
pub const MAX_SLEEP: Duration = Duration::from_micros(500);

/// Back-off state for one wait.
#[derive(Debug, Clone)]
pub struct Backoff {
    round: u32,
    sleep: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    /// Fresh state: the next [`Backoff::snooze`] spins briefly.
    pub fn new() -> Self {
        Self {
            round: 0,
            sleep: MIN_SLEEP,
        }
    }

    /// Waits a little, longer on each call.
    pub fn snooze(&mut self) {
        if self.round < SPIN_ROUNDS {
            for _ in 0..(1u32 << self.round) {
                std::hint::spin_loop();
            }
            self.round += 1;
        } else if self.round < SPIN_ROUNDS + YIELD_ROUNDS {
            std::thread::yield_now();
            self.round += 1;
        } else {
            std::thread::sleep(self.sleep);
            self.sleep = (self.sleep * 2).min(MAX_SLEEP);
        }
    }
}
