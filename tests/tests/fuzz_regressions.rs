//! Regression tests from the cargo-fuzz targets in `fuzz/` (run them with `scripts/fuzz.sh`):
//! the inputs below, inline, are the edge cases each target is about, plus every input a fuzz
//! run found to crash (none so far: see `docs/robustness.md`). Each runs in milliseconds on the
//! stable toolchain, so CI replays them on every build.

use droneid_core::Complex32;
use droneid_engine::{EngineConfig, StreamDecoder};
use droneid_fec::{BlockDecoder, DecoderConfig, BLOCK_BYTES, E};
use droneid_io::{parse_sigmf_meta, SampleFormat, SampleSource, SourceInfo};
use droneid_payload::{block_crc24_ok, parse_block, parse_bytes, FILLER_END};
use droneid_receiver::ReceiverConfig;
use std::path::Path;

/// `fec_decode`: the LLR words of the fuzz input, repeated to fill the 7200 LLRs.
fn fec_decode(words: &[f32]) {
    let mut dec = BlockDecoder::new(&DecoderConfig::default()).unwrap();
    let mut llr = Box::new([0f32; E]);
    for (i, v) in llr.iter_mut().enumerate() {
        *v = words[i % words.len()];
    }
    let mut block = [0u8; BLOCK_BYTES];
    let outcome = dec.decode(&llr, &mut block);
    if outcome.is_ok() {
        assert_eq!(droneid_fec::crc::crc24a(&block), 0, "{words:?}");
    }
}

#[test]
fn fec_decode_non_finite_and_extreme_llrs() {
    let cases: &[&[f32]] = &[
        &[f32::NAN],
        &[0.0],
        &[-0.0],
        &[f32::INFINITY],
        &[f32::NEG_INFINITY],
        &[f32::INFINITY, f32::NEG_INFINITY],
        &[f32::NAN, 1.0, f32::NEG_INFINITY],
        &[f32::MAX],
        &[f32::MIN],
        &[f32::MAX, f32::MIN, 3.0],
        &[f32::MIN_POSITIVE],
        &[1e-45],
        &[1e30, -1e30, 0.0, f32::NAN],
    ];
    for words in cases {
        fec_decode(words);
    }
    // All-NaN and all-zero LLRs carry no information: reported as a failure, never as the
    // all-zero block (whose CRC24 is 0).
    let mut dec = BlockDecoder::new(&DecoderConfig::default()).unwrap();
    let mut block = [0u8; BLOCK_BYTES];
    for v in [f32::NAN, 0.0, f32::INFINITY * 0.0] {
        let out = dec.decode(&Box::new([v; E]), &mut block);
        assert!(!out.is_ok(), "{v}");
    }
}

/// `payload_parse`: the invariants the target asserts.
fn payload_parse(data: &[u8]) {
    if let Some(m) = parse_bytes(data) {
        assert_eq!(m.message.len() + m.filler.len(), FILLER_END);
    }
    let mut block = [0u8; 176];
    let n = data.len().min(176);
    block[..n].copy_from_slice(&data[..n]);
    let m = parse_block(&block);
    assert_eq!(m.crc24_ok, block_crc24_ok(&block));
    assert_eq!(m.message.len() + m.filler.len(), FILLER_END);
    let _ = serde_json::to_string(&m.json_fields());
}

#[test]
fn payload_parse_length_and_type_edges() {
    payload_parse(&[]);
    payload_parse(&[0]);
    payload_parse(&[255]);
    // L + 3 = 173 (the longest record that fits) and 174 (one too long), each type.
    for (l, t) in [
        (170u8, 0x10u8),
        (171, 0x10),
        (170, 0x11),
        (171, 0x11),
        (88, 0x10),
        (21, 0x11),
    ] {
        let mut b = vec![0xffu8; 176];
        b[0] = l;
        b[1] = t;
        b[2] = 2;
        payload_parse(&b);
        payload_parse(&b[..l as usize + 3]);
        payload_parse(&b[..l as usize + 2]);
    }
    // Short 0x10 / 0x11 records, non-UTF-8 serials.
    payload_parse(&[88, 0x10, 2, 0xc3, 0x28]);
    payload_parse(&[21, 0x11, 0xff, 0xfe, 0xfd]);
}

/// `sigmf_meta`: a value or a one-line error.
#[test]
fn sigmf_meta_parser_edges() {
    let deep = "[".repeat(10_000);
    let cases: &[&[u8]] = &[
        b"",
        b"\0",
        deep.as_bytes(),
        b"{\"global\": {\"core:datatype\": \"\\ud800\"}}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\", \"core:sample_rate\": -0.0}}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\"}, \"captures\": []}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\"}, \"captures\": [{\"core:header_bytes\": 1.5}]}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\", \"core:num_channels\": 18446744073709551616}}",
        b"{\"global\": {\"core:datatype\": \"\xff\"}}",
    ];
    for c in cases {
        match parse_sigmf_meta(c, Path::new("f.sigmf-meta")) {
            Ok(m) => {
                let _ = SampleFormat::from_sigmf_datatype(&m.datatype);
            }
            Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }
}

/// `decode_bytes`: bytes as samples through droneid-io and the receiver (byte 0 = mode).
fn decode_bytes(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let format = match mode & 3 {
        1 => SampleFormat::Ci8,
        2 => SampleFormat::Ci16,
        _ => SampleFormat::Cf32,
    };
    let info = SourceInfo {
        path: "regression".into(),
        data_path: None,
        meta_path: None,
        format,
        sample_rate_hz: 15.36e6,
        center_freq_hz: Some(2.4445e9),
        total_samples: None,
        trailing_bytes: 0,
        header_bytes: 0,
        description: None,
    };
    let mut src = SampleSource::from_reader(Box::new(std::io::Cursor::new(bytes.to_vec())), info)
        .unwrap()
        .with_buffer_samples(977);
    let mut samples = Vec::new();
    let mut buf = vec![Complex32::new(0.0, 0.0); 1000];
    loop {
        let n = src.read_block(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        samples.extend_from_slice(&buf[..n]);
    }
    if mode & 4 != 0 && !samples.is_empty() {
        let base = samples.clone();
        samples = base.iter().copied().cycle().take(1 << 16).collect();
    }
    let mut cfg = ReceiverConfig::new(15.36e6);
    cfg.report_failed = true;
    cfg.max_iterations = 4;
    let mut rx = StreamDecoder::new(&EngineConfig::new(cfg)).unwrap();
    let mut frames = Vec::new();
    for chunk in samples.chunks(20_000) {
        rx.push(chunk, &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    for f in &frames {
        if f.crc24_ok {
            assert!(block_crc24_ok(&f.block));
        }
        assert!(f.symbols == 8 || f.symbols == 9);
        let _ = serde_json::Value::Object(f.to_json()).to_string();
    }
    assert_eq!(rx.stats().samples, samples.len() as u64);
}

#[test]
fn decode_bytes_edges() {
    decode_bytes(&[]);
    decode_bytes(&[0]);
    decode_bytes(&[4, 1, 2, 3]); // tiled, less than one cf32 sample
                                 // One NaN / one Inf cf32 sample, tiled; full-scale ci8 / ci16 square waves, tiled.
    let mut nan = vec![4u8];
    nan.extend_from_slice(&f32::NAN.to_le_bytes());
    nan.extend_from_slice(&f32::INFINITY.to_le_bytes());
    decode_bytes(&nan);
    let mut sq8 = vec![5u8];
    for i in 0..512 {
        sq8.extend_from_slice(if (i / 37) % 2 == 0 {
            &[0x7f, 0x80]
        } else {
            &[0x80, 0x7f]
        });
    }
    decode_bytes(&sq8);
    let mut sq16 = vec![6u8];
    for i in 0..700 {
        let v: i16 = if (i / 300) % 2 == 0 {
            i16::MAX
        } else {
            i16::MIN
        };
        sq16.extend_from_slice(&v.to_le_bytes());
        sq16.extend_from_slice(&(-v / 3).to_le_bytes());
    }
    decode_bytes(&sq16);
    // Huge cf32 values in bursts of 640 samples (about a burst's symbol spacing), tiled.
    let mut huge = vec![4u8];
    for i in 0..1280 {
        let v = if i < 640 { 3e38f32 } else { -1e-38 };
        huge.extend_from_slice(&v.to_le_bytes());
        huge.extend_from_slice(&(-v).to_le_bytes());
    }
    decode_bytes(&huge);
}
