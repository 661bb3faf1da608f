//! Pipeline plumbing for the droneid receiver.
//!
//! The receiver runs as a chain of stages, one OS thread each:
//! source → channelizer → detector → burst decoder → sinks. Stages are joined by bounded
//! lock-free SPSC rings ([`ring`]) that carry whole pooled items ([`pool`], [`block`]):
//! a source takes an empty [`SampleBlock`] from its [`BlockPool`], fills it, pushes it on; the
//! last stage that reads it gives it back through the pool's [`pool::Returner`]. After start-up
//! nothing on this path allocates, locks or enters the kernel (the blocking helpers only
//! sleep when a ring has been empty/full for a while).
//!
//! * [`ring`] — `spsc::channel(capacity)`: wait-free push/pop, blocking helpers with back-off,
//!   per-ring [`ring::RingStats`] (pushed, popped, full, dropped, high-water mark).
//! * [`pool`] — [`Pool<T>`](pool::Pool) built by a factory; [`BlockPool`] for sample blocks.
//! * [`block`] — [`SampleBlock`]: fixed-capacity samples plus absolute indices and flags.
//! * [`stage`] — [`spawn_stage`](stage::spawn_stage), [`Control`](stage::Control),
//!   [`StageReport`](stage::StageReport), [`StageError`](stage::StageError).
//! * [`policy`] — [`BackPressure`]: `Block` for files, `DropAndCount` for live radios.
//!
//! `unsafe` code lives only in [`ring`]; every other module is `#![forbid(unsafe_code)]`.
//!
//! # Checking the `unsafe` code
//!
//! Tests shrink their iteration counts under `cfg(miri)`.
//!
//! ```text
//! # miri (needs: rustup component add --toolchain nightly miri rust-src)
//! cargo +nightly miri test -p droneid-pipeline
//! # ThreadSanitizer (std rebuilt with TSan so its atomics are instrumented too)
//! RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread" \
//!   cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu \
//!   -p droneid-pipeline --lib --tests
//! ```
//!
//! # Example
//!
//! ```
//! use std::sync::{atomic::AtomicBool, Arc};
//! use droneid_pipeline::{push_with_policy, spsc, BackPressure, BlockPool, PushOutcome};
//!
//! let stop = Arc::new(AtomicBool::new(false));
//! let (mut pool, mut returner) = BlockPool::new(4, 2048);
//! let (mut tx, mut rx) = spsc::channel(4);
//!
//! // Source side.
//! let mut block = pool.take().expect("free block");
//! block.start_sample = 0;
//! block.set_len(2048);
//! if let PushOutcome::Dropped(b) = push_with_policy(&mut tx, block, BackPressure::DropAndCount, &stop) {
//!     returner.give(b).unwrap();
//! }
//!
//! // Consumer side.
//! let block = rx.pop().unwrap();
//! assert_eq!(block.len(), 2048);
//! returner.give(block).unwrap();
//! assert_eq!(tx.stats().pushed(), 1);
//! ```
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod backoff;
pub mod block;
pub mod policy;
pub mod pool;
#[allow(unsafe_code)]
pub mod ring;
pub mod stage;

pub use block::{BlockFlags, SampleBlock};
pub use policy::{push_with_policy, BackPressure, PushOutcome};
pub use pool::{BlockPool, BlockReturner, Pool, Returner};
pub use ring::{spsc, Consumer, Producer, RingStats, RingStatsSnapshot};
pub use stage::{spawn_stage, Control, StageContext, StageError, StageHandle, StageReport};
