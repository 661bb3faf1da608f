//! The threaded pipeline against the single-threaded configuration of the same engine
//! ([`StreamDecoder`]) and both against the synthesiser's ground truth.

mod common;

use std::sync::atomic::Ordering;

use common::VecSource;
use droneid_engine::{run, EngineConfig, RunControl, StreamDecoder};
use droneid_receiver::{Frame, ReceiverConfig};
use droneid_synth::{render_to_vec, CaptureSpec, Scenario};
use rand::{Rng, SeedableRng};

const FS: f64 = 61.44e6;

/// Three drones hopping over five non-overlapping 10 MHz channels of a 61.44 MS/s capture,
/// every 40 ms each; drone 1 transmits 150 µs after drone 0 (overlapping in time, on another
/// channel), drone 2 on its own schedule.
fn hopping_capture() -> CaptureSpec {
    let mut sc = Scenario::new(FS);
    sc.seed = 0x40_0F;
    sc.drones = 3;
    sc.duration_s = Some(0.2);
    sc.interval_s = 0.04;
    sc.jitter_s = 0.0;
    sc.snr_db = Some(6.0);
    let mut spec = sc.build().expect("scenario");
    let channels = [-20e6, -10e6, 0.0, 10e6, 20e6];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Drone 0 hops at random; drone 1 follows drone 0 in time on the channel two steps away.
    let d0: Vec<usize> = (0..spec.bursts.len())
        .filter(|&i| spec.bursts[i].drone == 0)
        .collect();
    let d1: Vec<usize> = (0..spec.bursts.len())
        .filter(|&i| spec.bursts[i].drone == 1)
        .collect();
    for (k, &i) in d0.iter().enumerate() {
        let ch = rng.gen_range(0..channels.len());
        spec.bursts[i].freq_offset_hz = channels[ch];
        if let Some(&j) = d1.get(k) {
            spec.bursts[j].start_sample = spec.bursts[i].start_sample + 150e-6 * FS;
            spec.bursts[j].freq_offset_hz = channels[(ch + 2) % channels.len()];
        }
    }
    for b in spec.bursts.iter_mut().filter(|b| b.drone == 2) {
        b.freq_offset_hz = channels[rng.gen_range(0..channels.len())];
    }
    spec
}

/// The single-threaded engine, with other block boundaries than the threaded run (smaller
/// blocks, odd push sizes): the output must not depend on them.
fn single_threaded(samples: &[droneid_core::Complex32]) -> (Vec<Frame>, u64) {
    let mut cfg = EngineConfig::new(ReceiverConfig::new(FS));
    cfg.block_samples = 50_000;
    let mut rx = StreamDecoder::new(&cfg).unwrap();
    let mut frames = Vec::new();
    for chunk in samples.chunks(77_777) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    (frames, rx.stats().samples)
}

/// Every burst of the truth decoded exactly once, with its block, within 200 samples (3 µs).
fn assert_matches_truth(
    frames: &[Frame],
    spec: &CaptureSpec,
    truth: &[droneid_synth::TruthRecord],
) {
    assert_eq!(frames.len(), truth.len());
    for t in truth {
        let b = &spec.bursts[t.burst_index];
        let hits = frames
            .iter()
            .filter(|f| f.block == b.block && (f.start_sample - t.start_sample).abs() < 200)
            .count();
        assert_eq!(
            hits, 1,
            "burst at {} ({} Hz)",
            t.start_sample, t.freq_offset_hz
        );
    }
}

#[test]
fn hopping_drones_every_burst_once_threaded_and_single_threaded_alike() {
    let spec = hopping_capture();
    let (samples, truth) = render_to_vec(&spec);
    let (expected, single_samples) = single_threaded(&samples);
    assert_eq!(single_samples, spec.total_samples);
    assert_matches_truth(&expected, &spec, &truth);

    let cfg = EngineConfig::new(ReceiverConfig::new(FS));
    let control = RunControl::default();
    let mut frames = Vec::new();
    let summary = run(
        &cfg,
        Box::new(VecSource::new(samples, FS)),
        &control,
        &mut |f: Frame| frames.push(f),
        None,
    )
    .unwrap();

    assert_matches_truth(&frames, &spec, &truth);
    // Same frames, in the same order, as the single-threaded engine.
    assert_eq!(frames.len(), expected.len());
    for (a, b) in frames.iter().zip(&expected) {
        assert_eq!(a.block, b.block);
        assert_eq!(a.start_sample, b.start_sample);
        assert_eq!(a.freq_offset_hz, b.freq_offset_hz);
        assert_eq!(a.snr_db, b.snr_db);
    }
    assert_eq!(summary.stats.samples, spec.total_samples);
    assert_eq!(summary.samples_lost, 0);
    assert!(summary.source_error.is_none() && !summary.interrupted);
}

#[test]
fn odd_read_sizes_change_nothing() {
    let mut sc = Scenario::new(FS);
    sc.seed = 99;
    sc.drones = 2;
    sc.random_offsets = true;
    sc.duration_s = Some(0.08);
    sc.interval_s = 0.03;
    sc.snr_db = Some(8.0);
    let spec = sc.build().unwrap();
    let (samples, truth) = render_to_vec(&spec);
    let mut src = VecSource::new(samples, FS);
    src.chunk = 12_345; // not a multiple of anything
    let mut cfg = EngineConfig::new(ReceiverConfig::new(FS));
    cfg.block_samples = 40_000;
    cfg.ring_blocks = 3;
    cfg.decode_threads = 1;
    let mut frames = Vec::new();
    run(
        &cfg,
        Box::new(src),
        &RunControl::default(),
        &mut |f: Frame| frames.push(f),
        None,
    )
    .unwrap();
    assert_eq!(frames.len(), truth.len());
    for (f, t) in frames.iter().zip(&truth) {
        assert!(
            (f.start_sample - t.start_sample).abs() < 200,
            "{} vs {}",
            f.start_sample,
            t.start_sample
        );
    }
}

#[test]
fn live_source_drops_are_counted_exactly_and_later_bursts_keep_true_times() {
    let mut sc = Scenario::new(FS);
    sc.seed = 5;
    sc.drones = 1;
    sc.duration_s = Some(0.25);
    sc.interval_s = 0.05;
    sc.snr_db = Some(10.0);
    let spec = sc.build().unwrap();
    let (samples, truth) = render_to_vec(&spec);
    let total = samples.len() as u64;
    let mut src = VecSource::new(samples, FS);
    src.live = true;
    let served = src.served.clone();
    let mut cfg = EngineConfig::new(ReceiverConfig::new(FS));
    // Tiny rings and blocks: an unpaced live source outruns the pipeline and must drop.
    cfg.block_samples = 16_384;
    cfg.ring_blocks = 2;
    let mut frames = Vec::new();
    let summary = run(
        &cfg,
        Box::new(src),
        &RunControl::default(),
        &mut |f: Frame| frames.push(f),
        None,
    )
    .unwrap();
    let served = served.load(Ordering::Relaxed);
    assert_eq!(served, total);
    assert_eq!(summary.samples_in, served);
    // Every sample is either processed or counted as lost.
    assert_eq!(
        summary.stats.samples + summary.samples_lost,
        served,
        "{summary:?}"
    );
    // Whatever was decoded sits at its true position despite the gaps before it.
    for f in &frames {
        assert!(
            truth
                .iter()
                .any(|t| (f.start_sample - t.start_sample).abs() < 200),
            "frame at {} matches no burst",
            f.start_sample
        );
    }
}

#[test]
fn stop_request_ends_the_run_with_frames_so_far() {
    let mut sc = Scenario::new(FS);
    sc.seed = 11;
    sc.duration_s = Some(0.3);
    sc.interval_s = 0.02;
    sc.snr_db = Some(10.0);
    let (samples, truth) = render_to_vec(&sc.build().unwrap());
    let mut src = VecSource::new(samples, FS);
    src.chunk = 65_536;
    let control = RunControl::default();
    let stop = control.stop.clone();
    let mut frames = Vec::new();
    let summary = run(
        &EngineConfig::new(ReceiverConfig::new(FS)),
        Box::new(src),
        &control,
        &mut |f: Frame| {
            frames.push(f);
            stop.store(true, Ordering::Relaxed);
        },
        None,
    )
    .unwrap();
    assert!(summary.interrupted);
    assert!(
        !frames.is_empty() && frames.len() < truth.len(),
        "{} of {}",
        frames.len(),
        truth.len()
    );
}

#[test]
fn source_failure_mid_stream_is_reported_after_delivering_earlier_frames() {
    let mut sc = Scenario::new(FS);
    sc.seed = 12;
    sc.duration_s = Some(0.2);
    sc.interval_s = 0.03;
    sc.snr_db = Some(10.0);
    let (samples, truth) = render_to_vec(&sc.build().unwrap());
    let mut src = VecSource::new(samples, FS);
    src.chunk = 65_536;
    // Fail half way through the capture.
    let half = truth[truth.len() / 2].start_sample as usize;
    src.fail_after = Some(half);
    let mut frames = Vec::new();
    let summary = run(
        &EngineConfig::new(ReceiverConfig::new(FS)),
        Box::new(src),
        &RunControl::default(),
        &mut |f: Frame| frames.push(f),
        None,
    )
    .unwrap();
    assert!(summary
        .source_error
        .as_deref()
        .unwrap()
        .contains("unplugged"));
    let before = truth
        .iter()
        .filter(|t| (t.start_sample as f64 + t.length_samples) < half as f64 - 70_000.0)
        .count();
    assert!(
        frames.len() >= before,
        "{} frames, {before} bursts ended before the failure",
        frames.len()
    );
}

#[test]
fn rate_mismatch_is_a_configuration_error() {
    let src = VecSource::new(vec![droneid_core::Complex32::new(0.0, 0.0); 10], 30.72e6);
    let err = run(
        &EngineConfig::new(ReceiverConfig::new(FS)),
        Box::new(src),
        &RunControl::default(),
        &mut |_f: Frame| {},
        None,
    )
    .unwrap_err();
    assert!(err.0.contains("differs"), "{err}");
}
