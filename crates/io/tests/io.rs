//! Round trips, SigMF metadata, block reading and error cases, on files in a temp folder.

use droneid_io::*;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Seed for the random test signals.
const SEED: u64 = 0x5EED_0010;

/// A fresh, empty folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "droneid-io-test-{}-{}-{}",
            std::process::id(),
            name,
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn rate(r: f64) -> InputOptions {
    InputOptions {
        sample_rate_hz: Some(r),
        ..Default::default()
    }
}

fn read_all(src: &mut SampleSource, block: usize) -> Vec<Complex32> {
    let mut out = Vec::new();
    let mut buf = vec![Complex32::default(); block];
    loop {
        let n = src.read_block(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Samples on every format's grid (so all formats round-trip exactly): multiples of 1/128 in
/// [-1, 127/128] for the signed formats; cu8 needs odd multiples of 1/256 instead.
fn grid_samples(n: usize, fmt: SampleFormat) -> Vec<Complex32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    (0..n)
        .map(|_| {
            let (a, b): (i32, i32) = (rng.gen_range(-128..128), rng.gen_range(-128..128));
            match fmt {
                SampleFormat::Cu8 => {
                    Complex32::new((a as f32 + 0.5) / 128.0, (b as f32 + 0.5) / 128.0)
                }
                _ => Complex32::new(a as f32 / 128.0, b as f32 / 128.0),
            }
        })
        .collect()
}

#[test]
fn raw_round_trip_every_format() {
    let dir = TempDir::new("raw");
    for fmt in SampleFormat::ALL {
        let x = grid_samples(10_007, fmt);
        let mut bytes = Vec::new();
        fmt.encode(&x, &mut bytes);
        assert_eq!(bytes.len(), x.len() * fmt.bytes_per_sample());
        let p = dir.path(&format!("x.{}", fmt.name()));
        std::fs::write(&p, &bytes).unwrap();
        let opts = InputOptions {
            sample_rate_hz: Some(1e6),
            format: Some(fmt),
            center_freq_hz: Some(2.4e9),
        };
        let mut src = open_input(s(&p), &opts).unwrap();
        assert_eq!(src.info().format, fmt);
        assert_eq!(src.info().total_samples, Some(10_007));
        assert_eq!(src.info().trailing_bytes, 0);
        assert_eq!(src.info().center_freq_hz, Some(2.4e9));
        let y = read_all(&mut src, 4096);
        assert_eq!(y, x, "{fmt}");
        assert_eq!(src.samples_read(), 10_007);
        assert_eq!(src.nonfinite_samples(), 0);
        assert!(src.is_eof());
    }
}

#[test]
fn sigmf_writer_round_trip_every_format() {
    let dir = TempDir::new("sigmf");
    for fmt in SampleFormat::ALL {
        let x = grid_samples(5000, fmt);
        let base = dir.path(&format!("rec-{}", fmt.name()));
        let mut w =
            SigmfWriter::create(&base, fmt, 15.36e6, Some(5.7565e9), "test recording").unwrap();
        w.write(&x[..1234]).unwrap();
        w.write(&x[1234..]).unwrap();
        w.annotate(3000, 100, "second", None, None);
        w.annotate(1000, 8776, "DroneID 0x10", Some(5.752e9), Some(5.761e9));
        w.set_global("droneid:seed", serde_json::json!(42));
        assert_eq!(w.samples_written(), 5000);
        w.finish().unwrap();
        assert!(!dir
            .path(&format!("rec-{}.sigmf-data.tmp", fmt.name()))
            .exists());

        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(with(&base, ".sigmf-meta")).unwrap())
                .unwrap();
        let g = &meta["global"];
        assert_eq!(g["core:datatype"], fmt.sigmf_datatype());
        assert_eq!(g["core:sample_rate"], 15.36e6);
        assert_eq!(g["core:version"], "1.0.0");
        assert_eq!(g["core:recorder"], "droneid");
        assert_eq!(g["core:description"], "test recording");
        assert_eq!(g["droneid:seed"], 42);
        assert_eq!(meta["captures"][0]["core:sample_start"], 0);
        assert_eq!(meta["captures"][0]["core:frequency"], 5.7565e9);
        let ann = meta["annotations"].as_array().unwrap();
        assert_eq!(ann.len(), 2);
        assert_eq!(ann[0]["core:sample_start"], 1000, "sorted by start");
        assert_eq!(ann[0]["core:sample_count"], 8776);
        assert_eq!(ann[0]["core:label"], "DroneID 0x10");
        assert_eq!(ann[0]["core:freq_lower_edge"], 5.752e9);
        assert!(ann[1].get("core:freq_lower_edge").is_none());

        // Every way of naming the recording opens it.
        for name in [".sigmf-meta", ".sigmf-data", ".sigmf", ""] {
            let mut src = open_input(s(&with(&base, name)), &InputOptions::default()).unwrap();
            assert_eq!(src.info().format, fmt);
            assert_eq!(src.info().sample_rate_hz, 15.36e6);
            assert_eq!(src.info().center_freq_hz, Some(5.7565e9));
            assert_eq!(src.info().total_samples, Some(5000));
            assert_eq!(src.info().description.as_deref(), Some("test recording"));
            assert_eq!(read_all(&mut src, 777), x, "{fmt} via {name:?}");
        }
    }
}

fn with(base: &Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[test]
fn writer_dropped_or_given_meta_path_leaves_no_partial_files() {
    let dir = TempDir::new("drop");
    let base = dir.path("abandoned");
    {
        let mut w = SigmfWriter::create(&base, SampleFormat::Cf32, 1e6, None, "").unwrap();
        w.write(&[Complex32::new(1.0, 0.0); 100]).unwrap();
        assert!(with(&base, ".sigmf-data.tmp").exists());
    }
    assert_eq!(
        std::fs::read_dir(&dir.0).unwrap().count(),
        0,
        "nothing left after drop"
    );
    // A base given with an extension is stripped; no frequency means no core:frequency.
    let w = SigmfWriter::create(
        &dir.path("named.sigmf-meta"),
        SampleFormat::Cf32,
        1e6,
        None,
        "",
    )
    .unwrap();
    w.finish().unwrap();
    assert!(dir.path("named.sigmf-data").is_file());
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("named.sigmf-meta")).unwrap())
            .unwrap();
    assert!(meta["captures"][0].get("core:frequency").is_none());
    let src = open_input(s(&dir.path("named")), &InputOptions::default()).unwrap();
    assert_eq!(src.info().total_samples, Some(0));
    // Bad rates are refused before anything is created.
    assert!(matches!(
        SigmfWriter::create(&dir.path("bad"), SampleFormat::Cf32, f64::NAN, None, ""),
        Err(IoError::InvalidSampleRate { .. })
    ));
    assert!(!dir.path("bad.sigmf-data.tmp").exists());
}

#[test]
fn sigmf_meta_dataset_frequency_header_and_overrides() {
    let dir = TempDir::new("meta");
    let x = grid_samples(300, SampleFormat::Ci16);
    let mut bytes = vec![0xAAu8; 12]; // header to skip
    SampleFormat::Ci16.encode(&x, &mut bytes);
    bytes.push(0x01); // one trailing byte
    std::fs::write(dir.path("capture.bin"), &bytes).unwrap();
    std::fs::write(
        dir.path("cap.sigmf-meta"),
        r#"{"global": {"core:datatype": "ci16_le", "core:sample_rate": 2e6, "core:version": "1.0.0",
             "core:dataset": "capture.bin"},
            "captures": [{"core:sample_start": 0, "core:frequency": 2.4415e9, "core:header_bytes": 12}]}"#,
    )
    .unwrap();
    let mut src = open_input(s(&dir.path("cap.sigmf-meta")), &InputOptions::default()).unwrap();
    let info = src.info().clone();
    assert_eq!(
        info.data_path.as_deref(),
        Some(dir.path("capture.bin").as_path())
    );
    assert_eq!(info.format, SampleFormat::Ci16);
    assert_eq!(info.sample_rate_hz, 2e6);
    assert_eq!(info.center_freq_hz, Some(2.4415e9));
    assert_eq!(info.header_bytes, 12);
    assert_eq!(info.total_samples, Some(300));
    assert_eq!(info.trailing_bytes, 1);
    assert_eq!(read_all(&mut src, 64), x);
    assert_eq!(src.info().trailing_bytes, 1);

    // Flags override the metadata.
    let opts = InputOptions {
        sample_rate_hz: Some(3e6),
        center_freq_hz: Some(5.8e9),
        format: Some(SampleFormat::Ci8),
    };
    let src = open_input(s(&dir.path("cap.sigmf-meta")), &opts).unwrap();
    assert_eq!(
        (src.info().sample_rate_hz, src.info().center_freq_hz),
        (3e6, Some(5.8e9))
    );
    assert_eq!(src.info().format, SampleFormat::Ci8);
    assert_eq!(src.info().total_samples, Some(600));

    // The raw dataset named directly finds its sibling meta through core:dataset... only when the
    // stem matches; here it does not (capture.bin vs cap.sigmf-meta), so it is raw.
    let e = open_input(s(&dir.path("capture.bin")), &InputOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::MissingSampleRate { .. }), "{e}");

    // Default dataset name, no sample rate in the meta: needs --sample-rate.
    std::fs::write(
        dir.path("norate.sigmf-meta"),
        r#"{"global": {"core:datatype": "cf32_le"}}"#,
    )
    .unwrap();
    std::fs::write(dir.path("norate.sigmf-data"), [0u8; 16]).unwrap();
    let e = open_input(s(&dir.path("norate.sigmf-meta")), &InputOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::MissingSampleRate { .. }));
    assert!(e.to_string().contains("--sample-rate"), "{e}");
    let src = open_input(s(&dir.path("norate.sigmf-meta")), &rate(1e6)).unwrap();
    assert_eq!(src.info().total_samples, Some(2));
    assert_eq!(src.info().center_freq_hz, None);
}

#[test]
fn trailing_bytes_and_nan_counted() {
    let dir = TempDir::new("nan");
    let mut bytes = Vec::new();
    let vals = [
        (1.0f32, 2.0f32),
        (f32::NAN, 0.5),
        (0.25, f32::NEG_INFINITY),
        (3.0, 4.0),
        (f32::INFINITY, f32::NAN),
    ];
    for (re, im) in vals {
        bytes.extend_from_slice(&re.to_le_bytes());
        bytes.extend_from_slice(&im.to_le_bytes());
    }
    bytes.extend_from_slice(&[1, 2, 3]);
    let p = dir.path("nan.cf32");
    std::fs::write(&p, &bytes).unwrap();
    let mut src = open_input(s(&p), &rate(1e6)).unwrap();
    assert_eq!(src.info().trailing_bytes, 3);
    assert_eq!(src.info().total_samples, Some(5));
    let y = read_all(&mut src, 2);
    let z = Complex32::new(0.0, 0.0);
    assert_eq!(
        y,
        vec![Complex32::new(1.0, 2.0), z, z, Complex32::new(3.0, 4.0), z]
    );
    assert!(y.iter().all(|c| c.re.is_finite() && c.im.is_finite()));
    assert_eq!(src.nonfinite_samples(), 3);
    assert_eq!(src.samples_read(), 5);
}

/// A reader that returns at most `max` bytes per call (like a pipe), with interruptions.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    max: usize,
    calls: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls == 5 {
            self.calls = 0;
            return Err(std::io::Error::from(std::io::ErrorKind::Interrupted));
        }
        let n = buf.len().min(self.max).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn info_for(fmt: SampleFormat) -> SourceInfo {
    SourceInfo {
        path: "test".into(),
        data_path: None,
        meta_path: None,
        format: fmt,
        sample_rate_hz: 1e6,
        center_freq_hz: None,
        total_samples: None,
        trailing_bytes: 0,
        header_bytes: 0,
        description: None,
    }
}

#[test]
fn short_reads_and_block_boundaries() {
    for fmt in SampleFormat::ALL {
        let x = grid_samples(1001, fmt);
        let mut bytes = Vec::new();
        fmt.encode(&x, &mut bytes);
        bytes.push(7); // partial sample at the end
        for (max, internal, block) in [
            (1, 3, 5),
            (3, 7, 1),
            (5, 1, 64),
            (4096, 100, 1000),
            (13, 1000, 2000),
        ] {
            let r = Trickle {
                data: bytes.clone(),
                pos: 0,
                max,
                calls: 0,
            };
            let mut src = SampleSource::from_reader(Box::new(r), info_for(fmt))
                .unwrap()
                .with_buffer_samples(internal);
            let mut buf = vec![Complex32::default(); block];
            let mut y = Vec::new();
            loop {
                let n = src.read_block(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                // Full blocks until the end.
                assert!(
                    n == block || y.len() + n == 1001,
                    "{fmt} short block {n} before the end"
                );
                y.extend_from_slice(&buf[..n]);
            }
            assert_eq!(y, x, "{fmt} max={max} internal={internal} block={block}");
            assert_eq!(src.info().trailing_bytes, 1);
            assert_eq!(src.read_block(&mut buf).unwrap(), 0, "stays at EOF");
        }
    }
    // An empty output slice reads nothing.
    let r = Trickle {
        data: vec![0; 80],
        pos: 0,
        max: 8,
        calls: 0,
    };
    let mut src = SampleSource::from_reader(Box::new(r), info_for(SampleFormat::Cf32)).unwrap();
    assert_eq!(src.read_block(&mut []).unwrap(), 0);
    assert!(!src.is_eof());
}

#[test]
fn read_errors_are_reported() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("device unplugged"))
        }
    }
    let mut src =
        SampleSource::from_reader(Box::new(Broken), info_for(SampleFormat::Cf32)).unwrap();
    let e = src.read_block(&mut [Complex32::default(); 4]).unwrap_err();
    assert!(matches!(e, IoError::Read { .. }));
    assert!(e.to_string().contains("device unplugged"));
}

#[test]
fn bad_inputs() {
    let dir = TempDir::new("bad");
    let none = InputOptions::default();
    // Missing file: says the path.
    let missing = dir.path("nope.cf32");
    let e = open_input(s(&missing), &rate(1e6)).unwrap_err();
    assert!(matches!(e, IoError::NotFound { .. }));
    assert!(e.to_string().contains("nope.cf32"), "{e}");
    let e = open_input(s(&missing), &none).unwrap_err();
    assert!(
        matches!(e, IoError::NotFound { .. }),
        "missing file reported before the rate: {e}"
    );
    // A directory.
    let e = open_input(s(&dir.0), &rate(1e6)).unwrap_err();
    assert!(matches!(e, IoError::IsDirectory { .. }), "{e}");
    // Raw file without a rate.
    let raw = dir.path("raw.cf32");
    std::fs::write(&raw, [0u8; 64]).unwrap();
    let e = open_input(s(&raw), &none).unwrap_err();
    assert!(matches!(e, IoError::MissingSampleRate { .. }));
    assert!(e.to_string().contains("--sample-rate"), "{e}");
    // Stdin without a rate.
    let e = open_input("-", &none).unwrap_err();
    assert!(
        matches!(e, IoError::MissingSampleRate { .. }) && e.to_string().contains("--sample-rate")
    );
    // Invalid rates.
    for r in [f64::NAN, 0.0, -1e6, f64::INFINITY] {
        let e = open_input(s(&raw), &rate(r)).unwrap_err();
        assert!(matches!(e, IoError::InvalidSampleRate { .. }), "{r}: {e}");
    }
    let e = open_input(
        s(&raw),
        &InputOptions {
            center_freq_hz: Some(f64::NAN),
            ..rate(1e6)
        },
    )
    .unwrap_err();
    assert!(matches!(e, IoError::InvalidCenterFreq { .. }));
    // Meta that is not JSON.
    std::fs::write(dir.path("broken.sigmf-meta"), "{ not json").unwrap();
    let e = open_input(s(&dir.path("broken.sigmf-meta")), &none).unwrap_err();
    assert!(matches!(e, IoError::MetaJson { .. }));
    assert!(
        e.to_string().contains("not valid JSON") && e.to_string().contains("line 1"),
        "{e}"
    );
    // Meta without a datatype, with a wrong-typed rate.
    std::fs::write(dir.path("nodt.sigmf-meta"), r#"{"global": {}}"#).unwrap();
    let e = open_input(s(&dir.path("nodt.sigmf-meta")), &none).unwrap_err();
    assert!(e.to_string().contains("core:datatype"), "{e}");
    std::fs::write(
        dir.path("strrate.sigmf-meta"),
        r#"{"global": {"core:datatype": "cf32_le", "core:sample_rate": "fast"}}"#,
    )
    .unwrap();
    let e = open_input(s(&dir.path("strrate.sigmf-meta")), &none).unwrap_err();
    assert!(e.to_string().contains("core:sample_rate"), "{e}");
    // Unsupported datatypes, listing the supported ones; --format overrides.
    for (dt, why) in [
        ("cf32_be", "big-endian"),
        ("rf32_le", "real-valued"),
        ("ci32_le", "supported"),
    ] {
        std::fs::write(
            dir.path("dt.sigmf-meta"),
            format!(r#"{{"global": {{"core:datatype": "{dt}", "core:sample_rate": 1e6}}}}"#),
        )
        .unwrap();
        std::fs::write(dir.path("dt.sigmf-data"), [0u8; 32]).unwrap();
        let e = open_input(s(&dir.path("dt.sigmf-meta")), &none).unwrap_err();
        assert!(matches!(e, IoError::UnsupportedDatatype { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains(why) && msg.contains("cf32_le, cf64_le, ci16_le, ci8, cu8"),
            "{msg}"
        );
        let opts = InputOptions {
            format: Some(SampleFormat::Cf32),
            ..none
        };
        assert!(open_input(s(&dir.path("dt.sigmf-meta")), &opts).is_ok());
    }
    // Meta present, data missing: names the data file.
    std::fs::write(
        dir.path("nodata.sigmf-meta"),
        r#"{"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6}}"#,
    )
    .unwrap();
    let e = open_input(s(&dir.path("nodata.sigmf-meta")), &none).unwrap_err();
    assert!(
        matches!(e, IoError::NotFound { .. }) && e.to_string().contains("nodata.sigmf-data"),
        "{e}"
    );
    // header_bytes beyond the file.
    std::fs::write(
        dir.path("hdr.sigmf-meta"),
        r#"{"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6}, "captures": [{"core:header_bytes": 100}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path("hdr.sigmf-data"), [0u8; 10]).unwrap();
    let e = open_input(s(&dir.path("hdr.sigmf-meta")), &none).unwrap_err();
    assert!(e.to_string().contains("core:header_bytes"), "{e}");
    // A SigMF archive.
    std::fs::write(dir.path("arch.sigmf"), [0u8; 10]).unwrap();
    let e = open_input(s(&dir.path("arch.sigmf")), &none).unwrap_err();
    assert!(matches!(e, IoError::SigmfArchive { .. }), "{e}");
    // Multi-channel.
    std::fs::write(dir.path("mc.sigmf-meta"), r#"{"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6, "core:num_channels": 2}}"#)
        .unwrap();
    std::fs::write(dir.path("mc.sigmf-data"), [0u8; 16]).unwrap();
    assert!(matches!(
        open_input(s(&dir.path("mc.sigmf-meta")), &none),
        Err(IoError::MultiChannel { .. })
    ));
    // Every message is one line.
    let e = open_input(s(&dir.path("broken.sigmf-meta")), &none).unwrap_err();
    assert!(!e.to_string().contains('\n'));
}

/// A bundled recording in the workspace's `signals/`.
fn signal(name: &str) -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../signals")
        .join(name);
    assert!(
        local.is_file(),
        "bundled signal {} missing",
        local.display()
    );
    local
}

#[test]
fn bundled_signal_files() {
    let meta = signal("real-0x11-15m36.sigmf-meta");
    let mut src = open_input(s(&meta), &InputOptions::default()).unwrap();
    assert_eq!(src.info().format, SampleFormat::Cf64);
    assert_eq!(src.info().sample_rate_hz, 15.36e6);
    assert_eq!(src.info().total_samples, Some(140_416 / 16));
    assert_eq!(src.info().trailing_bytes, 0);
    let x = read_all(&mut src, 1000);
    assert_eq!(x.len(), 8776);
    assert_eq!(src.nonfinite_samples(), 0);
    let power = x.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / x.len() as f64;
    assert!(power > 0.0 && power.is_finite());
    // Naming the .cf64 dataset directly finds the sibling meta (core:dataset names it).
    let data = meta.with_file_name("real-0x11-15m36.cf64");
    let src = open_input(s(&data), &InputOptions::default()).unwrap();
    assert_eq!(src.info().format, SampleFormat::Cf64);

    let meta = signal("synthetic-kz-8sym-15m36.sigmf-meta");
    let mut src = open_input(s(&meta), &InputOptions::default()).unwrap();
    assert_eq!(src.info().format, SampleFormat::Cf32);
    assert_eq!(src.info().total_samples, Some(2_457_600 / 8));
    let x = read_all(&mut src, 65_536);
    // README: non-zero samples 1000–9775, zeros elsewhere.
    let first = x.iter().position(|c| c.norm_sqr() > 0.0).unwrap();
    let last = x.iter().rposition(|c| c.norm_sqr() > 0.0).unwrap();
    assert_eq!((first, last), (1000, 9775));
}

#[test]
fn hostile_metadata_and_rates() {
    let dir = TempDir::new("hostile");
    let raw = dir.path("raw.cf32");
    std::fs::write(&raw, [0u8; 64]).unwrap();
    // Rates above MAX_SAMPLE_RATE_HZ (a typo, or a lying SigMF file) are refused up front, from
    // the command line and from the metadata alike, before anything is sized by them.
    for r in [1e13, 1e300, f64::MAX] {
        let e = open_input(s(&raw), &rate(r)).unwrap_err();
        assert!(matches!(e, IoError::SampleRateTooHigh { .. }), "{r}: {e}");
        assert!(e.to_string().contains("10 GS/s"), "{e}");
    }
    assert!(open_input(s(&raw), &rate(MAX_SAMPLE_RATE_HZ)).is_ok());
    let meta = dir.path("big.sigmf-meta");
    std::fs::write(dir.path("big.sigmf-data"), [0u8; 64]).unwrap();
    std::fs::write(
        &meta,
        r#"{"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e300}}"#,
    )
    .unwrap();
    let e = open_input(s(&meta), &InputOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::SampleRateTooHigh { .. }), "{e}");
    // `core:dataset` that names no file: a field error, not "input not found: ''".
    for ds in ["", "  ", "sub/"] {
        std::fs::write(
            &meta,
            format!(
                r#"{{"global": {{"core:datatype": "cf32_le", "core:sample_rate": 2e7, "core:dataset": "{ds}"}}}}"#
            ),
        )
        .unwrap();
        let e = open_input(s(&meta), &InputOptions::default()).unwrap_err();
        assert!(
            matches!(&e, IoError::MetaField { field, .. } if field == "core:dataset"),
            "{ds:?}: {e}"
        );
    }
    // The parser on its own, as the fuzz target drives it: never a panic, one-line errors.
    let p = Path::new("x.sigmf-meta");
    let ok = parse_sigmf_meta(
        br#"{"global": {"core:datatype": "ci8", "core:sample_rate": 2e7}, "captures": [{"core:frequency": 2.4e9, "core:header_bytes": 4}]}"#,
        p,
    )
    .unwrap();
    assert_eq!(ok.datatype, "ci8");
    assert_eq!(ok.sample_rate_hz, Some(2e7));
    assert_eq!(ok.frequency_hz, Some(2.4e9));
    assert_eq!(ok.header_bytes, 4);
    for bad in [
        &b""[..],
        b"\xff\xfe",
        b"[]",
        b"{\"global\": 1}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\"}, \"captures\": [1]}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\", \"core:num_channels\": -1}}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\", \"core:sample_rate\": 1e999}}",
        b"{\"global\": {\"core:datatype\": \"cf32_le\", \"core:sample_rate\": NaN}}",
    ] {
        let e = parse_sigmf_meta(bad, p).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
    }
}
