//! Helpers shared by the whole-pipeline tests.
#![allow(dead_code)]

use std::path::PathBuf;

use droneid_core::Complex32;
use droneid_io::{open_input, InputOptions};
use droneid_receiver::{Frame, Receiver, ReceiverConfig};

/// The repository's `signals/` folder.
pub fn signals_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../signals")
}

/// Decodes a whole input with default settings; returns frames and the receiver's counters.
pub fn decode_path(
    path: &str,
    report_failed: bool,
) -> (Vec<Frame>, droneid_receiver::ReceiverStats) {
    let mut src = open_input(path, &InputOptions::default()).expect("open input");
    let fs = src.info().sample_rate_hz;
    let mut cfg = ReceiverConfig::new(fs);
    cfg.center_freq_hz = src.info().center_freq_hz;
    cfg.report_failed = report_failed;
    let mut rx = Receiver::new(&cfg).expect("receiver");
    let mut frames = Vec::new();
    let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 16];
    loop {
        let n = src.read_block(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        rx.push(&buf[..n], &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    (frames, rx.stats().clone())
}

/// Decodes samples held in memory.
pub fn decode_samples(samples: &[Complex32], fs: f64) -> Vec<Frame> {
    let mut rx = Receiver::new(&ReceiverConfig::new(fs)).expect("receiver");
    let mut frames = Vec::new();
    for chunk in samples.chunks(100_000) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    frames
}
