//! Pipeline plumbing for the droneid engine (`droneid-engine`), which runs its source,
//! analysis and detection stages on threads joined by these rings.
//!
//! * [`ring`] — `spsc::channel(capacity)`: a bounded lock-free single-producer single-consumer
//!   ring; wait-free push/pop, blocking helpers with back-off ([`backoff`]), per-ring
//!   [`RingStats`] (pushed, popped, full, dropped, high-water mark).
//! * [`pool`] — [`Pool<T>`](pool::Pool): items built once by a factory, taken by one stage and
//!   given back by another through the pool's [`Returner`] (a free ring of the same kind).
//!
//! The engine's items are whole blocks (samples plus their power spectra); after start-up nothing
//! on its per-block path allocates, locks or enters the kernel (the blocking helpers only sleep
//! when a ring has been empty/full for a while). Back-pressure is the engine's: a file source
//! waits (`push_blocking`), a live source drops and counts (`push`, then
//! [`Producer::record_drop`]).
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
//! use std::sync::atomic::AtomicBool;
//! use droneid_pipeline::{spsc, Pool};
//!
//! let stop = AtomicBool::new(false);
//! let (mut pool, mut returner) = Pool::with_factory(4, || vec![0.0f32; 2048]);
//! let (mut tx, mut rx) = spsc::channel(4);
//!
//! // Source side: a live source drops and counts when the ring is full.
//! let block = pool.take().expect("free block");
//! if let Err(b) = tx.push(block) {
//!     tx.record_drop();
//!     returner.give(b).unwrap();
//! }
//!
//! // Consumer side.
//! let block = rx.pop_blocking(&stop).unwrap();
//! assert_eq!(block.len(), 2048);
//! returner.give(block).unwrap();
//! assert_eq!(tx.stats().pushed(), 1);
//! ```
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod backoff;
pub mod pool;
#[allow(unsafe_code)]
pub mod ring;

pub use pool::{Pool, Returner};
pub use ring::{spsc, Consumer, Producer, RingStats, RingStatsSnapshot};
