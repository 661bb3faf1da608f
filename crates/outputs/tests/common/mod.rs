//! Shared by the output tests: decoded frames of a synthesised multi-drone capture.

#![allow(dead_code)]

use droneid_engine::{EngineConfig, StreamDecoder};
use droneid_receiver::{Frame, ReceiverConfig};
use droneid_synth::Scenario;

/// Seed of the scenario.
pub const SEED: u64 = 0x4F55_5450;
/// Sample rate of the capture, Hz.
pub const RATE: f64 = 30.72e6;
/// Drones in the capture.
pub const DRONES: usize = 3;
/// Bursts per drone.
pub const BURSTS: usize = 4;

/// Three drones on random channels, four bursts each, every second burst an identity (0x11)
/// message; 10 dB SNR (every burst decodes). Frames in decoding order.
pub fn frames() -> Vec<Frame> {
    let mut sc = Scenario::new(RATE);
    sc.seed = SEED;
    sc.drones = DRONES;
    sc.bursts_per_drone = Some(BURSTS);
    sc.interval_s = 0.01;
    sc.jitter_s = 0.002;
    sc.snr_db = Some(10.0);
    sc.random_offsets = true;
    sc.identity_every = 2;
    sc.center_freq_hz = Some(2.4445e9);
    let spec = sc.build().expect("scenario");
    let (samples, truth) = droneid_synth::render_to_vec(&spec);
    let mut cfg = ReceiverConfig::new(RATE);
    cfg.center_freq_hz = Some(2.4445e9);
    let mut rx = StreamDecoder::new(&EngineConfig::new(cfg)).expect("engine");
    let mut frames = Vec::new();
    for chunk in samples.chunks(100_000) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    assert_eq!(frames.len(), truth.len(), "every burst decodes at 10 dB");
    assert_eq!(frames.len(), DRONES * BURSTS);
    frames
}
