//! Helpers shared by the whole-pipeline tests.
#![allow(dead_code)]

use std::path::PathBuf;

use droneid_core::Complex32;
use droneid_engine::{run, EngineConfig, FileSource, RunControl, StreamDecoder};
use droneid_io::{open_input, InputOptions};
use droneid_receiver::{Frame, ReceiverConfig};

/// The repository's `signals/` folder.
pub fn signals_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../signals")
}

/// Decodes a whole input with default settings through the threaded engine, as `droneid decode`
/// does; returns frames and the receiver's counters.
pub fn decode_path(
    path: &str,
    report_failed: bool,
) -> (Vec<Frame>, droneid_receiver::ReceiverStats) {
    let src = open_input(path, &InputOptions::default()).expect("open input");
    let fs = src.info().sample_rate_hz;
    let mut cfg = ReceiverConfig::new(fs);
    cfg.center_freq_hz = src.info().center_freq_hz;
    cfg.report_failed = report_failed;
    let mut frames = Vec::new();
    let summary = run(
        &EngineConfig::new(cfg),
        Box::new(FileSource::new(src)),
        &RunControl::default(),
        &mut |f: Frame| frames.push(f),
        None,
    )
    .expect("engine");
    assert!(summary.source_error.is_none(), "{:?}", summary.source_error);
    (frames, summary.stats)
}

/// Decodes samples held in memory with the single-threaded engine.
pub fn decode_samples(samples: &[Complex32], fs: f64) -> Vec<Frame> {
    let cfg = EngineConfig::new(ReceiverConfig::new(fs));
    let mut rx = StreamDecoder::new(&cfg).expect("engine");
    let mut frames = Vec::new();
    for chunk in samples.chunks(100_000) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    frames
}
