//! The line-rate pipeline and its per-sample stages, in input samples per second.
//!
//! * `engine/decode/61m44`, `engine/decode/122m88`: [`droneid_engine::run`] (every thread: source,
//!   FFT analysis, detector, rayon burst decoding, ordered sink) over a 0.28 s in-memory capture
//!   with three drones on random channels, a burst each per ~50 ms at 10 dB.
//! * `engine/analysis/122m88`: the FFT filter bank alone (`SpectrumAnalyzer::analyze`).
//! * `engine/detector/122m88`: detection on those spectra alone (`EnergyDetector::process_power`).
//!
//! Run: `cargo bench -p droneid-benches --bench engine -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use droneid_core::Complex32;
use droneid_engine::{run, EngineConfig, MemorySource, RunControl};
use droneid_receiver::{DetectorConfig, EnergyDetector, Frame, ReceiverConfig, SpectrumAnalyzer};
use droneid_synth::{render_to_vec, Scenario};

fn capture(fs: f64) -> (Arc<Vec<Complex32>>, usize) {
    let mut sc = Scenario::new(fs);
    sc.seed = 11;
    sc.drones = 3;
    sc.duration_s = Some(0.25);
    sc.interval_s = 0.05;
    sc.jitter_s = 0.0;
    sc.random_offsets = true;
    sc.snr_db = Some(10.0);
    let mut spec = sc.build().expect("valid scenario");
    // Stagger the drones so that no two bursts collide in time and frequency.
    for b in spec.bursts.iter_mut() {
        b.start_sample += b.drone as f64 * 0.013 * fs;
    }
    // Room for the delayed last bursts.
    spec.total_samples += (0.03 * fs) as u64;
    let (samples, truth) = render_to_vec(&spec);
    (Arc::new(samples), truth.len())
}

fn decode(samples: &Arc<Vec<Complex32>>, fs: f64) -> usize {
    let mut n = 0usize;
    let source = MemorySource::new(samples.clone(), fs);
    run(
        &EngineConfig::new(ReceiverConfig::new(fs)),
        Box::new(source),
        &RunControl::default(),
        &mut |f: Frame| n += usize::from(f.crc24_ok),
        None,
    )
    .expect("engine");
    n
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/decode");
    g.sample_size(10);
    for (name, fs) in [("61m44", 61.44e6), ("122m88", 122.88e6)] {
        let (samples, bursts) = capture(fs);
        let found = decode(&samples, fs);
        assert_eq!(found, bursts, "{name}: decoded {found} of {bursts} bursts");
        g.throughput(Throughput::Elements(samples.len() as u64));
        g.bench_function(name, |b| b.iter(|| black_box(decode(&samples, fs))));
    }
    g.finish();
}

fn stages(c: &mut Criterion) {
    let fs = 122.88e6;
    let (samples, _) = capture(fs);
    let block = &samples[..1 << 21];
    let cfg = DetectorConfig::new(fs);
    let mut analyzer = SpectrumAnalyzer::new(cfg.fft_len);
    let mut spectra = Vec::with_capacity(analyzer.max_output_len(block.len()));
    let mut g = c.benchmark_group("engine/analysis");
    g.throughput(Throughput::Elements(block.len() as u64));
    g.bench_function("122m88", |b| {
        b.iter(|| {
            spectra.clear();
            analyzer.analyze(black_box(block), &mut spectra);
            black_box(spectra.len())
        })
    });
    g.finish();
    spectra.clear();
    analyzer.analyze(block, &mut spectra);
    let mut detector = EnergyDetector::new(&cfg).expect("detector");
    let mut found = Vec::with_capacity(64);
    let mut g = c.benchmark_group("engine/detector");
    g.throughput(Throughput::Elements(block.len() as u64));
    g.bench_function("122m88", |b| {
        b.iter(|| {
            found.clear();
            detector.process_power(black_box(&spectra), &mut found);
            black_box(found.len())
        })
    });
    g.finish();
}

criterion_group!(benches, engine, stages);
criterion_main!(benches);
