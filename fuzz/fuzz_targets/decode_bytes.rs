//! Arbitrary bytes as cf32 / ci8 / ci16 samples at 15.36 MS/s, read through `droneid-io`
//! (`SampleSource`) and pushed through the single-threaded engine, `droneid_engine::StreamDecoder` (detector, demodulator,
//! turbo decoder): never a panic, and every frame it reports is self-consistent (a CRC24-valid
//! frame's block passes CRC24A, 8 or 9 symbols, finite numbers, serialisable JSON line).
//!
//! Byte 0 picks the format (low 2 bits: cf32, ci8, ci16, cf32) and whether the samples are
//! tiled (bit 2): fuzz inputs are a few KiB, far shorter than the detector's warm-up, so a
//! tiled input repeats them to 64 Ki samples to reach the detector and the burst demodulator.
#![no_main]

use droneid_core::Complex32;
use droneid_io::{SampleFormat, SampleSource, SourceInfo};
use droneid_engine::{EngineConfig, StreamDecoder};
use droneid_receiver::ReceiverConfig;
use libfuzzer_sys::fuzz_target;

const FS: f64 = 15.36e6;
const TILED_SAMPLES: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let format = match mode & 3 {
        1 => SampleFormat::Ci8,
        2 => SampleFormat::Ci16,
        _ => SampleFormat::Cf32,
    };
    let info = SourceInfo {
        path: "fuzz".into(),
        data_path: None,
        meta_path: None,
        format,
        sample_rate_hz: FS,
        center_freq_hz: Some(2.4445e9),
        total_samples: None,
        trailing_bytes: 0,
        header_bytes: 0,
        description: None,
    };
    let mut src = SampleSource::from_reader(Box::new(std::io::Cursor::new(bytes.to_vec())), info)
        .expect("source")
        .with_buffer_samples(977);
    let mut samples = Vec::new();
    let mut buf = vec![Complex32::new(0.0, 0.0); 1000];
    loop {
        let n = src.read_block(&mut buf).expect("read from memory");
        if n == 0 {
            break;
        }
        samples.extend_from_slice(&buf[..n]);
    }
    assert!(src.info().trailing_bytes < format.bytes_per_sample() as u64);
    assert!(samples.iter().all(|s| s.re.is_finite() && s.im.is_finite()));
    if mode & 4 != 0 && !samples.is_empty() {
        let base = samples.clone();
        samples = base.iter().copied().cycle().take(TILED_SAMPLES).collect();
    }
    let mut cfg = ReceiverConfig::new(FS);
    cfg.report_failed = true;
    cfg.max_iterations = 4;
    let mut rx = StreamDecoder::new(&EngineConfig::new(cfg)).expect("engine");
    let mut frames = Vec::new();
    for chunk in samples.chunks(20_000) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    for f in &frames {
        if f.crc24_ok {
            assert!(
                droneid_payload::block_crc24_ok(&f.block),
                "CRC24-valid frame fails CRC24A"
            );
        }
        assert!(f.symbols == 8 || f.symbols == 9, "symbols {}", f.symbols);
        assert!(f.freq_offset_hz.is_finite() && f.cfo_hz.is_finite());
        assert!(f.start_sample >= -(FS as i64) && f.start_sample <= samples.len() as i64);
        let _ = serde_json::Value::Object(f.to_json()).to_string();
    }
    assert_eq!(rx.stats().samples, samples.len() as u64);
});
