//! One thread per stage: spawning, control messages, counters and the final report.
//!
//! A stage is a closure that runs a loop on its own OS thread and receives a
//! [`StageContext`]. It typically pops items from an input ring, processes them inside
//! [`StageContext::busy`], pushes results to an output ring, and calls
//! [`StageContext::should_stop`] once per item (cheap: one atomic load plus an empty-channel
//! check) to honour [`Control`] messages and the shared stop flag.
//!
//! Ending a stage:
//! * **Finished**: the closure returns `Ok(())` (a finite source ran out, or its input ring
//!   was abandoned and drained). Dropping its ring ends then lets the next stage drain in
//!   turn, so a file pipeline shuts down cleanly from the front.
//! * **Stopped**: the stop flag was raised (by [`Control::Stop`], by the owner, or by a
//!   failing stage); blocking ring helpers return at once and the closure returns `Ok(())`.
//! * **Failed / panicked**: the closure returned `Err` or panicked. The stage raises the
//!   stop flag it was given, so every stage sharing it winds down, and
//!   [`StageHandle::join`] returns the [`StageError`].
//!
//! # Example
//!
//! ```
//! use std::sync::{atomic::AtomicBool, Arc};
//! use droneid_pipeline::{ring::spsc, stage::spawn_stage};
//!
//! let stop = Arc::new(AtomicBool::new(false));
//! let (mut tx, mut rx) = spsc::channel::<u64>(16);
//! let sum = spawn_stage("sum", Arc::clone(&stop), move |ctx| {
//!     let stop = ctx.stop_flag();
//!     let mut total = 0;
//!     while let Some(v) = rx.pop_blocking(&stop) {
//!         ctx.add_in(1);
//!         total += ctx.busy(|| v * 2);
//!         if ctx.should_stop() {
//!             break;
//!         }
//!     }
//!     assert_eq!(total, 2 * (0..100).sum::<u64>());
//!     Ok(())
//! })
//! .unwrap();
//! for i in 0..100 {
//!     tx.push_blocking(i, &stop).unwrap();
//! }
//! drop(tx); // end of stream: the stage drains and returns
//! let report = sum.join().unwrap();
//! assert_eq!(report.items_in, 100);
//! ```
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

/// Error type a stage closure may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Messages to a running stage, handled at its next [`StageContext::should_stop`].
#[derive(Debug)]
pub enum Control {
    /// Raise the stage's stop flag (the one given to [`spawn_stage`]; if that flag is shared,
    /// every stage sharing it stops).
    Stop,
    /// Send a [`StageReport`] of the counters so far on the given channel.
    Stats(Sender<StageReport>),
}

/// Counters of one stage, sent on request and returned when the stage ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    /// Stage name (shared, so building a report does not allocate).
    pub name: Arc<str>,
    /// Items the stage consumed (as counted by [`StageContext::add_in`]).
    pub items_in: u64,
    /// Items the stage produced (as counted by [`StageContext::add_out`]).
    pub items_out: u64,
    /// Time spent inside [`StageContext::busy`].
    pub busy_time: Duration,
    /// Time since the thread started.
    pub wall_time: Duration,
}

impl StageReport {
    /// `busy_time / wall_time` in `0.0..=1.0` (0 if no time has passed).
    pub fn utilisation(&self) -> f64 {
        let wall = self.wall_time.as_secs_f64();
        if wall > 0.0 {
            (self.busy_time.as_secs_f64() / wall).min(1.0)
        } else {
            0.0
        }
    }
}

/// Why a stage did not end cleanly.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The OS refused to create the thread.
    #[error("could not spawn the thread of stage `{stage}`: {source}")]
    Spawn {
        /// Stage name.
        stage: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The stage closure returned an error.
    #[error("stage `{stage}` failed: {source}")]
    Failed {
        /// Stage name.
        stage: String,
        /// The closure's error.
        #[source]
        source: BoxError,
    },
    /// The stage closure panicked.
    #[error("stage `{stage}` panicked: {message}")]
    Panicked {
        /// Stage name.
        stage: String,
        /// The panic message, when it was a string.
        message: String,
    },
}

/// What a stage closure sees: its name, the stop flag, control messages and counters.
#[derive(Debug)]
pub struct StageContext {
    name: Arc<str>,
    stop: Arc<AtomicBool>,
    control: Receiver<Control>,
    items_in: u64,
    items_out: u64,
    busy: Duration,
    started: Instant,
}

impl StageContext {
    /// The stage name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stop flag, for the blocking ring helpers (clone it once, before the loop).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Handles pending [`Control`] messages and returns `true` if the stage should stop.
    /// Allocation-free; call it once per item or block.
    pub fn should_stop(&mut self) -> bool {
        while let Ok(msg) = self.control.try_recv() {
            match msg {
                Control::Stop => self.stop.store(true, Ordering::Release),
                Control::Stats(reply) => {
                    // The requester may have given up waiting; that is fine.
                    let _ = reply.try_send(self.report());
                }
            }
        }
        self.stop.load(Ordering::Acquire)
    }

    /// Counts `n` items consumed.
    pub fn add_in(&mut self, n: u64) {
        self.items_in += n;
    }

    /// Counts `n` items produced.
    pub fn add_out(&mut self, n: u64) {
        self.items_out += n;
    }

    /// Runs `work`, adding its duration to the busy time (two `Instant::now` calls, vDSO, no
    /// syscall on Linux).
    pub fn busy<R>(&mut self, work: impl FnOnce() -> R) -> R {
        let t0 = Instant::now();
        let r = work();
        self.busy += t0.elapsed();
        r
    }

    /// The counters so far.
    pub fn report(&self) -> StageReport {
        StageReport {
            name: Arc::clone(&self.name),
            items_in: self.items_in,
            items_out: self.items_out,
            busy_time: self.busy,
            wall_time: self.started.elapsed(),
        }
    }
}

/// Owner's handle on a running stage.
#[derive(Debug)]
pub struct StageHandle {
    name: Arc<str>,
    control: Sender<Control>,
    thread: JoinHandle<Result<StageReport, StageError>>,
}

impl StageHandle {
    /// The stage name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends a control message; `false` if the stage has already ended.
    pub fn send(&self, msg: Control) -> bool {
        self.control.send(msg).is_ok()
    }

    /// Asks the stage to stop (see [`Control::Stop`]).
    pub fn request_stop(&self) -> bool {
        self.send(Control::Stop)
    }

    /// Asks for the counters so far and waits up to `timeout` for the answer (the stage
    /// answers at its next [`StageContext::should_stop`]).
    pub fn stats(&self, timeout: Duration) -> Option<StageReport> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.send(Control::Stats(tx)) {
            return None;
        }
        rx.recv_timeout(timeout).ok()
    }

    /// `true` once the stage thread has returned.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the stage to end and returns its final report or why it failed.
    pub fn join(self) -> Result<StageReport, StageError> {
        match self.thread.join() {
            Ok(result) => result,
            Err(payload) => Err(StageError::Panicked {
                stage: self.name.to_string(),
                message: panic_message(payload.as_ref()),
            }),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Raises the stop flag if the stage unwinds, so its neighbours do not wait forever.
struct RaiseOnPanic<'a>(&'a AtomicBool);

impl Drop for RaiseOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}

/// Spawns `body` on a new thread named `name`.
///
/// `stop` is the flag the stage obeys (share one flag between all stages of a pipeline to
/// stop them together). If `body` returns `Err` or panics, `stop` is raised.
///
/// Returns [`StageError::Spawn`] if the thread could not be created.
pub fn spawn_stage<F>(
    name: impl Into<String>,
    stop: Arc<AtomicBool>,
    body: F,
) -> Result<StageHandle, StageError>
where
    F: FnOnce(&mut StageContext) -> Result<(), BoxError> + Send + 'static,
{
    let name_string: String = name.into();
    let name: Arc<str> = Arc::from(name_string.as_str());
    let (control_tx, control_rx) = crossbeam_channel::unbounded();
    let mut ctx = StageContext {
        name: Arc::clone(&name),
        stop,
        control: control_rx,
        items_in: 0,
        items_out: 0,
        busy: Duration::ZERO,
        started: Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name(name_string.clone())
        .spawn(move || {
            ctx.started = Instant::now();
            let stop = Arc::clone(&ctx.stop);
            let _guard = RaiseOnPanic(&stop);
            let result = body(&mut ctx);
            match result {
                Ok(()) => Ok(ctx.report()),
                Err(source) => {
                    ctx.stop.store(true, Ordering::Release);
                    Err(StageError::Failed {
                        stage: ctx.name.to_string(),
                        source,
                    })
                }
            }
        })
        .map_err(|source| StageError::Spawn {
            stage: name_string,
            source,
        })?;
    Ok(StageHandle {
        name,
        control: control_tx,
        thread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::spsc;

    #[test]
    fn stats_on_request_and_stop_by_control() {
        let stop = Arc::new(AtomicBool::new(false));
        let h = spawn_stage("spin", Arc::clone(&stop), |ctx| {
            while !ctx.should_stop() {
                ctx.add_in(1);
                ctx.busy(|| std::hint::black_box(1 + 1));
                std::thread::yield_now();
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(h.name(), "spin");
        let r = h
            .stats(Duration::from_secs(10))
            .expect("running stage answers");
        assert_eq!(&*r.name, "spin");
        assert!(h.request_stop());
        let last = h.join().unwrap();
        assert!(last.items_in >= r.items_in);
        assert!(last.busy_time <= last.wall_time);
        assert!(
            stop.load(Ordering::Relaxed),
            "Control::Stop raises the flag"
        );
    }

    #[test]
    fn chain_of_two_stages_drains_on_end_of_stream() {
        let stop = Arc::new(AtomicBool::new(false));
        let (mut tx, mut rx) = spsc::channel::<u32>(8);
        let (mut tx2, mut rx2) = spsc::channel::<u32>(8);
        let double = spawn_stage("double", Arc::clone(&stop), move |ctx| {
            let stop = ctx.stop_flag();
            while let Some(v) = rx.pop_blocking(&stop) {
                ctx.add_in(1);
                let out = ctx.busy(|| v * 2);
                if tx2.push_blocking(out, &stop).is_err() {
                    break;
                }
                ctx.add_out(1);
            }
            Ok(())
        })
        .unwrap();
        let sink = spawn_stage("sink", Arc::clone(&stop), move |ctx| {
            let stop = ctx.stop_flag();
            let mut expect = 0;
            while let Some(v) = rx2.pop_blocking(&stop) {
                if v != expect * 2 {
                    return Err(format!("got {v}, expected {}", expect * 2).into());
                }
                expect += 1;
                ctx.add_in(1);
            }
            Ok(())
        })
        .unwrap();
        for i in 0..1000 {
            tx.push_blocking(i, &stop).unwrap();
        }
        drop(tx);
        let d = double.join().unwrap();
        let s = sink.join().unwrap();
        assert_eq!((d.items_in, d.items_out, s.items_in), (1000, 1000, 1000));
        assert!(!stop.load(Ordering::Relaxed));
    }

    #[test]
    fn failure_and_panic_raise_stop() {
        let stop = Arc::new(AtomicBool::new(false));
        let h = spawn_stage("bad", Arc::clone(&stop), |_| Err("boom".into())).unwrap();
        match h.join() {
            Err(StageError::Failed { stage, source }) => {
                assert_eq!(stage, "bad");
                assert_eq!(source.to_string(), "boom");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(stop.load(Ordering::Relaxed));

        let stop = Arc::new(AtomicBool::new(false));
        let h = spawn_stage("panicky", Arc::clone(&stop), |_| panic!("kaput")).unwrap();
        match h.join() {
            Err(StageError::Panicked { stage, message }) => {
                assert_eq!(stage, "panicky");
                assert_eq!(message, "kaput");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(stop.load(Ordering::Relaxed));
    }
}
