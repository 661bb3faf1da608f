//! `droneid decode` on hostile input files: every case has one documented outcome
//! (`docs/robustness.md`): a clean run (exit 0), a run with a warning on stderr (exit 0), or a
//! one-line error (exit 2 for unusable input, exit 1 for an I/O failure while running). Whatever
//! the input: no panic (never exit 101, never "panicked" on stderr), no hang (each run is killed
//! after a deadline), and no CRC24-valid frame that was not transmitted.
//!
//! These tests run the binary, so they live in the package that builds it (`CARGO_BIN_EXE_*` is
//! only set for a package's own binaries).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use droneid_core::{BurstFormat, Complex32};
use droneid_fec::{append_crc24, PAYLOAD_BYTES};
use droneid_synth::{render_to_vec, CaptureSpec, Scenario};
use serde_json::Value;

/// Sample rate of every capture here (the base rate: the cheapest to decode).
const FS: f64 = 15.36e6;
/// Burst length at 15.36 MS/s, 9-symbol format (cyclic prefixes included), about.
const BURST_LEN: usize = 9880;
/// Longest a single run may take before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(120);

/// A folder of its own per test, removed when the test passes.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("droneid-hostile-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// What one run of the binary gave.
struct Run {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON lines on stdout.
    fn frames(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{}: stdout line is not JSON ({e}): {l}", self.what))
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!(
            "{}: exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    /// Exit 0, a summary on stderr, nothing unexpected; returns the frames.
    fn clean(&self) -> Vec<Value> {
        assert_eq!(self.code, Some(0), "{}", self.describe());
        assert!(
            self.stderr.contains("droneid decode:"),
            "{}",
            self.describe()
        );
        assert!(
            !self.stderr.contains("warning"),
            "unexpected warning: {}",
            self.describe()
        );
        self.frames()
    }

    /// Exit 0 with a stderr line holding "warning" and `warning` (the wording around the
    /// number may change); returns the frames.
    fn warns(&self, warning: &str) -> Vec<Value> {
        assert_eq!(self.code, Some(0), "{}", self.describe());
        assert!(
            self.stderr
                .lines()
                .any(|l| l.contains("warning") && l.contains(warning)),
            "expected warning {warning:?}: {}",
            self.describe()
        );
        self.frames()
    }

    /// Exit `code`, one line on stderr mentioning every needle, nothing on stdout.
    fn fails(&self, code: i32, needles: &[&str]) {
        assert_eq!(self.code, Some(code), "{}", self.describe());
        assert!(self.stdout.is_empty(), "{}", self.describe());
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "error should be one line: {}",
            self.describe()
        );
        assert!(self.stderr.starts_with("droneid: "), "{}", self.describe());
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "stderr should mention {n:?}: {}",
                self.describe()
            );
        }
    }
}

/// Runs `droneid decode ARGS` (plus `extra`), with stdout and stderr to files and a deadline.
/// Checks what holds for every input: no panic, no hang, every stdout line is JSON.
fn decode_with(what: &str, args: &[&str], stdin: Stdio) -> Run {
    let dir = std::env::temp_dir().join(format!("droneid-hostile-{}-out", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let tag = format!("run{}", RUNS.fetch_add(1, Ordering::Relaxed));
    let (out_path, err_path) = (
        dir.join(format!("{tag}.out")),
        dir.join(format!("{tag}.err")),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_droneid"))
        .arg("decode")
        .args(args)
        .arg("--no-progress")
        .stdin(stdin)
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("run droneid");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: droneid decode still running after {DEADLINE:?} (hang)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        what: what.to_string(),
        code: status.code(),
        stdout: std::fs::read_to_string(&out_path).unwrap(),
        stderr: std::fs::read_to_string(&err_path).unwrap(),
    };
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    // The outcome table of docs/robustness.md (`cargo test --test hostile -- --nocapture`).
    eprintln!(
        "[hostile] {what} | exit {} | {} frame line(s) | {}",
        status.code().map_or("signal".into(), |c| c.to_string()),
        run.stdout.lines().count(),
        run.stderr
            .lines()
            .filter(|l| l.starts_with("droneid:") || l.contains("warning"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" / ")
    );
    assert!(run.code.is_some(), "killed by a signal: {}", run.describe());
    assert_ne!(run.code, Some(101), "panic: {}", run.describe());
    assert!(
        !run.stderr.contains("panicked"),
        "panic: {}",
        run.describe()
    );
    let _ = run.frames();
    run
}

fn decode(what: &str, args: &[&str]) -> Run {
    decode_with(what, args, Stdio::null())
}

/// A raw cf32 file at 15.36 MS/s.
fn decode_raw(what: &str, path: &Path) -> Run {
    decode(what, &[path.to_str().unwrap(), "--sample-rate", "15.36M"])
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn cf32_bytes(x: &[Complex32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() * 8);
    for v in x {
        out.extend_from_slice(&v.re.to_le_bytes());
        out.extend_from_slice(&v.im.to_le_bytes());
    }
    out
}

fn write(path: &Path, bytes: &[u8]) {
    File::create(path).unwrap().write_all(bytes).unwrap();
}

/// One 9-symbol burst at 15 dB SNR with 10 ms of noise before it and 2 ms after.
fn spec() -> CaptureSpec {
    let mut sc = Scenario::new(FS);
    sc.seed = 0x0405_711E;
    sc.snr_db = Some(15.0);
    sc.format = BurstFormat::Nine;
    sc.lead_in_s = 10e-3;
    sc.tail_s = 2e-3;
    sc.cfo_hz = 1_500.0;
    let spec = sc.build().unwrap();
    assert_eq!(spec.bursts.len(), 1);
    spec
}

/// The capture of [`spec`], optionally carrying `block` instead of its record. Returns the
/// samples, the burst's first sample and its block as hex.
fn capture(block: Option<[u8; 176]>) -> (Vec<Complex32>, usize, String) {
    let mut spec = spec();
    if let Some(b) = block {
        spec.bursts[0].block = b;
    }
    let (x, truth) = render_to_vec(&spec);
    let t = &truth[0];
    (x, t.start_sample as usize, t.block_hex.clone())
}

/// The block of the default capture.
fn default_block() -> [u8; 176] {
    spec().bursts[0].block
}

/// No line claims a CRC24-valid block other than `allowed`.
fn no_false_frame(run: &Run, frames: &[Value], allowed: &[&str]) {
    for f in frames {
        if f["crc24_ok"] == true {
            let hex = f["block_hex"].as_str().unwrap();
            assert!(
                allowed.contains(&hex),
                "false CRC24-valid frame {hex}: {}",
                run.describe()
            );
        }
    }
}

#[test]
fn empty_short_truncated_and_ragged_raw_files() {
    let dir = TempDir::new("raw");
    let (x, start, hex) = capture(None);
    let ok = [hex.as_str()];

    // The intact capture decodes: the baseline for the cases below.
    let p = dir.path("whole.cf32");
    write(&p, &cf32_bytes(&x));
    let r = decode_raw("whole", &p);
    let f = r.clean();
    assert_eq!(f.len(), 1, "{}", r.describe());
    assert_eq!(f[0]["block_hex"], hex.as_str());

    // Empty file: a clean run over 0 samples.
    let p = dir.path("empty.cf32");
    write(&p, b"");
    let r = decode_raw("empty", &p);
    assert!(r.clean().is_empty());
    assert!(r.stderr.contains("0 samples"), "{}", r.describe());

    // Empty standard input: the same.
    let r = decode_with(
        "empty stdin",
        &["-", "--sample-rate", "15.36M"],
        Stdio::null(),
    );
    assert!(r.clean().is_empty());

    // Shorter than one burst (the first 2000 samples of it, and a file of 100 samples).
    let p = dir.path("short.cf32");
    write(&p, &cf32_bytes(&x[start..start + 2000]));
    let r = decode_raw("shorter than a burst", &p);
    assert!(r.clean().is_empty());
    write(&p, &cf32_bytes(&x[..100]));
    let r = decode_raw("100 samples", &p);
    assert!(r.clean().is_empty());

    // Truncated mid-burst at the end, and at the start: either decodes the transmitted block or
    // nothing, never a wrong CRC24-valid frame.
    for (what, range) in [
        ("cut at 1/2 of the burst", 0..start + BURST_LEN / 2),
        ("cut at 1/4 of the burst", 0..start + BURST_LEN / 4),
        ("starts at 1/2 of the burst", start + BURST_LEN / 2..x.len()),
        (
            "starts at 3/4 of the burst",
            start + 3 * BURST_LEN / 4..x.len(),
        ),
    ] {
        let p = dir.path("cut.cf32");
        write(&p, &cf32_bytes(&x[range]));
        let r = decode_raw(what, &p);
        let f = r.clean();
        no_false_frame(&r, &f, &ok);
    }

    // A length that is not a whole number of samples: the whole samples decode, the rest is
    // reported.
    for (what, extra, text) in [
        ("3 odd bytes", &b"\x01\x02\x03"[..], "3 trailing byte"),
        (
            "a dangling float",
            &1.0f32.to_le_bytes()[..],
            "4 trailing byte",
        ),
        ("one byte", &b"\x7f"[..], "1 trailing byte"),
    ] {
        let mut bytes = cf32_bytes(&x);
        bytes.extend_from_slice(extra);
        let p = dir.path("ragged.cf32");
        write(&p, &bytes);
        let r = decode_raw(what, &p);
        let f = r.warns(text);
        assert_eq!(f.len(), 1, "{}", r.describe());
        assert_eq!(f[0]["block_hex"], hex.as_str());
    }
    // Same for 16-bit integers (odd byte count) and a file of fewer bytes than one sample.
    let p = dir.path("ragged.ci16");
    write(&p, &[0u8; 4 * 1000 + 1]);
    let r = decode(
        "ci16 odd bytes",
        &[s(&p), "--sample-rate", "15.36M", "--format", "ci16"],
    );
    assert!(r.warns("1 trailing byte").is_empty());
    let p = dir.path("tiny.cf32");
    write(&p, &[0u8; 7]);
    let r = decode_raw("7 bytes", &p);
    assert!(r.warns("7 trailing byte").is_empty());
}

#[test]
fn zeros_noise_and_non_finite_samples() {
    let dir = TempDir::new("values");
    let (x, start, hex) = capture(None);
    let ok = [hex.as_str()];

    // All zeros, and pure noise (the capture's own noise before the burst, 0.3 s of it tiled).
    let p = dir.path("zeros.cf32");
    write(&p, &vec![0u8; 8 * 300_000]);
    let r = decode_raw("all zeros", &p);
    assert!(r.clean().is_empty());
    let spec = CaptureSpec {
        sample_rate_hz: FS,
        center_freq_hz: None,
        total_samples: 300_000,
        noise: true,
        bursts: Vec::new(),
        seed: 99,
    };
    let (noise, _) = render_to_vec(&spec);
    let p = dir.path("noise.cf32");
    write(&p, &cf32_bytes(&noise));
    let r = decode_raw("pure noise", &p);
    assert!(r.clean().is_empty());
    let r = decode(
        "pure noise --all",
        &[s(&p), "--sample-rate", "15.36M", "--all"],
    );
    let f = r.clean();
    no_false_frame(&r, &f, &[]);

    // One NaN sample inside the burst: an erasure; the burst still decodes, with a warning.
    let mut y = x.clone();
    y[start + 3000] = Complex32::new(f32::NAN, 0.0);
    let p = dir.path("nan1.cf32");
    write(&p, &cf32_bytes(&y));
    let r = decode_raw("one NaN in the burst", &p);
    let f = r.warns("1 NaN/Inf samples");
    assert_eq!(f.len(), 1, "{}", r.describe());
    assert_eq!(f[0]["block_hex"], hex.as_str());

    // One +Inf, one -Inf.
    let mut y = x.clone();
    y[start + 5000] = Complex32::new(0.0, f32::INFINITY);
    y[start + 5001] = Complex32::new(f32::NEG_INFINITY, 1.0);
    let p = dir.path("inf2.cf32");
    write(&p, &cf32_bytes(&y));
    let r = decode_raw("two Inf in the burst", &p);
    let f = r.warns("2 NaN/Inf samples");
    no_false_frame(&r, &f, &ok);
    assert_eq!(f.len(), 1, "{}", r.describe());

    // Long runs inside the burst: NaN over half of it, and Inf over all of it (with --all).
    for (what, from, len, v) in [
        (
            "NaN over half the burst",
            start + 2000,
            BURST_LEN / 2,
            Complex32::new(f32::NAN, f32::NAN),
        ),
        (
            "Inf over the whole burst",
            start,
            BURST_LEN,
            Complex32::new(f32::INFINITY, f32::NEG_INFINITY),
        ),
        (
            "NaN everywhere",
            0,
            x.len(),
            Complex32::new(f32::NAN, f32::NAN),
        ),
    ] {
        let mut y = x.clone();
        y[from..from + len].fill(v);
        let p = dir.path("nanrun.cf32");
        write(&p, &cf32_bytes(&y));
        let r = decode(what, &[s(&p), "--sample-rate", "15.36M", "--all"]);
        let f = r.warns(&format!("{len} NaN/Inf samples"));
        no_false_frame(&r, &f, &ok);
    }

    // Huge finite values (1e38) over part of the burst: no overflow to a false frame.
    let mut y = x.clone();
    for v in &mut y[start..start + 3000] {
        *v *= 1e37;
    }
    let p = dir.path("huge.cf32");
    write(&p, &cf32_bytes(&y));
    let r = decode("huge values", &[s(&p), "--sample-rate", "15.36M", "--all"]);
    let f = r.clean();
    no_false_frame(&r, &f, &ok);

    // Huge finite values (and f32::MAX) before the burst, not in it: whatever they do to the
    // detector's running estimates, the burst 5 ms later still decodes.
    for (what, scale) in [
        ("1e30 before the burst", 1e30f32),
        ("f32::MAX before the burst", f32::MAX),
    ] {
        let mut y = x.clone();
        for v in &mut y[start - 80_000..start - 78_000] {
            *v = Complex32::new(scale, -scale);
        }
        let p = dir.path("hugebefore.cf32");
        write(&p, &cf32_bytes(&y));
        let r = decode_raw(what, &p);
        let f = r.clean();
        assert_eq!(f.len(), 1, "{}", r.describe());
        assert_eq!(f[0]["block_hex"], hex.as_str());
    }
}

#[test]
fn corrupted_crc16_and_crc24() {
    let dir = TempDir::new("crc");
    let good = default_block();

    // CRC16 broken, CRC24 valid: a message byte flipped, CRC24 recomputed over the new bytes.
    // The frame is reported (it is what was transmitted) with "crc16_ok": false.
    let mut payload = [0u8; PAYLOAD_BYTES];
    payload.copy_from_slice(&good[..PAYLOAD_BYTES]);
    payload[10] ^= 0x5a;
    let bad16 = append_crc24(&payload);
    assert_ne!(bad16, good);
    let (x, _, hex) = capture(Some(bad16));
    let p = dir.path("crc16.cf32");
    write(&p, &cf32_bytes(&x));
    let r = decode_raw("CRC16 corrupted", &p);
    let f = r.clean();
    assert_eq!(f.len(), 1, "{}", r.describe());
    assert_eq!(f[0]["block_hex"], hex.as_str());
    assert_eq!(f[0]["crc24_ok"], true);
    assert_eq!(f[0]["crc16_ok"], false);
    assert_ne!(f[0]["crc16_stored"], f[0]["crc16_computed"]);
    assert!(r.stderr.contains("CRC16 failed 1"), "{}", r.describe());

    // CRC24 broken: a payload byte flipped, the old CRC24 kept. No frame line; the summary
    // counts it; with --all one line with "crc24_ok": false.
    let mut bad24 = good;
    bad24[40] ^= 0x01;
    let (x, _, _) = capture(Some(bad24));
    let p = dir.path("crc24.cf32");
    write(&p, &cf32_bytes(&x));
    let r = decode_raw("CRC24 corrupted", &p);
    assert!(r.clean().is_empty(), "{}", r.describe());
    assert!(r.stderr.contains("CRC24 failed 1"), "{}", r.describe());
    let r = decode(
        "CRC24 corrupted --all",
        &[s(&p), "--sample-rate", "15.36M", "--all"],
    );
    let f = r.clean();
    assert_eq!(f.len(), 1, "{}", r.describe());
    assert_eq!(f[0]["crc24_ok"], false);
    assert_eq!(f[0]["crc16_ok"], false);
}

/// A SigMF recording `NAME.sigmf-meta` with `meta` as its text and `data` as its samples.
fn sigmf(dir: &TempDir, name: &str, meta: &str, data: &[u8]) -> PathBuf {
    let m = dir.path(&format!("{name}.sigmf-meta"));
    write(&m, meta.as_bytes());
    write(&dir.path(&format!("{name}.sigmf-data")), data);
    m
}

fn meta(global: &str) -> String {
    format!(
        r#"{{"global": {{{global}}}, "captures": [{{"core:sample_start": 0}}], "annotations": []}}"#
    )
}

#[test]
fn lying_or_broken_sigmf_metadata() {
    let dir = TempDir::new("sigmf");
    let (x, _, hex) = capture(None);
    let ok = [hex.as_str()];
    let data = cf32_bytes(&x);
    let good =
        r#""core:datatype": "cf32_le", "core:version": "1.0.0", "core:sample_rate": 15360000"#;

    let m = sigmf(&dir, "good", &meta(good), &data);
    let r = decode("valid SigMF", &[s(&m)]);
    assert_eq!(r.clean().len(), 1, "{}", r.describe());

    // 0-byte data file with valid metadata: a clean run over 0 samples.
    let m = sigmf(&dir, "nodata", &meta(good), b"");
    let r = decode("0-byte data", &[s(&m)]);
    assert!(r.clean().is_empty());
    assert!(r.stderr.contains("0 samples"), "{}", r.describe());

    // A datatype that is wrong but readable (cf32 data read as ci16 / ci8 / cf64): garbage
    // samples, nothing decodes, exit 0.
    for dt in ["ci16_le", "ci8", "cu8", "cf64_le"] {
        let m = sigmf(
            &dir,
            "wrongtype",
            &meta(&format!(
                r#""core:datatype": "{dt}", "core:sample_rate": 15360000"#
            )),
            &data,
        );
        let r = decode(&format!("datatype {dt} for cf32 data"), &[s(&m), "--all"]);
        let f = r.frames();
        assert_eq!(r.code, Some(0), "{}", r.describe());
        no_false_frame(&r, &f, &ok);
    }
    // Datatypes that cannot be read: exit 2 naming the datatype.
    for (dt, needle) in [
        ("rf32_le", "rf32_le"),
        ("cf32_be", "cf32_be"),
        ("ci12_le", "ci12_le"),
        ("", "unsupported sample datatype"),
        ("cf32_le; rm -rf /", "unsupported sample datatype"),
    ] {
        let m = sigmf(
            &dir,
            "badtype",
            &meta(&format!(
                r#""core:datatype": {}, "core:sample_rate": 15360000"#,
                Value::from(dt)
            )),
            &data,
        );
        decode(&format!("datatype {dt:?}"), &[s(&m)]).fails(2, &[needle]);
    }
    // Missing or mistyped fields.
    for (what, text, needles) in [
        (
            "no datatype",
            meta(r#""core:sample_rate": 15360000"#),
            &["core:datatype", "missing"][..],
        ),
        (
            "no sample rate",
            meta(r#""core:datatype": "cf32_le""#),
            &["no sample rate", "--sample-rate"][..],
        ),
        (
            "no global",
            r#"{"captures": []}"#.to_string(),
            &["`global`"][..],
        ),
        ("empty object", "{}".to_string(), &["`global`"][..]),
        ("JSON array", "[1, 2]".to_string(), &["`global`"][..]),
        ("JSON null", "null".to_string(), &["`global`"][..]),
        (
            "rate as a string",
            meta(r#""core:datatype": "cf32_le", "core:sample_rate": "15.36M""#),
            &["core:sample_rate", "must be a number"][..],
        ),
        (
            "datatype as a number",
            meta(r#""core:datatype": 8, "core:sample_rate": 15360000"#),
            &["core:datatype", "must be a string"][..],
        ),
        (
            "captures not an array",
            format!(r#"{{"global": {{{good}}}, "captures": 5}}"#),
            &["captures", "must be an array"][..],
        ),
        (
            "frequency as a string",
            format!(r#"{{"global": {{{good}}}, "captures": [{{"core:frequency": "2.4G"}}]}}"#),
            &["core:frequency", "must be a number"][..],
        ),
        (
            "negative header bytes",
            format!(r#"{{"global": {{{good}}}, "captures": [{{"core:header_bytes": -8}}]}}"#),
            &["core:header_bytes", "non-negative integer"][..],
        ),
        (
            "header bytes beyond the data",
            format!(
                r#"{{"global": {{{good}}}, "captures": [{{"core:header_bytes": 18446744073709551615}}]}}"#
            ),
            &["core:header_bytes", "only"][..],
        ),
        (
            "two channels",
            meta(&format!(r#"{good}, "core:num_channels": 2"#)),
            &["2 interleaved channels"][..],
        ),
    ] {
        let m = sigmf(&dir, "fields", &text, &data);
        decode(what, &[s(&m)]).fails(2, needles);
    }
    // Sample rates that are not positive finite numbers, or below 4 MS/s. (JSON has no NaN
    // or Infinity: those literals are invalid JSON; 1e999 is out of range for serde_json.)
    for (what, rate, needle) in [
        ("rate 0", "0", "sample rate 0 Hz is invalid"),
        ("rate -15.36e6", "-15.36e6", "is invalid"),
        ("rate 1", "1", "below 4 MS/s"),
        ("rate NaN", "NaN", "not valid JSON"),
        ("rate Infinity", "Infinity", "not valid JSON"),
        ("rate 1e999", "1e999", "not valid JSON"),
    ] {
        let m = sigmf(
            &dir,
            "rate",
            &meta(&format!(
                r#""core:datatype": "cf32_le", "core:sample_rate": {rate}"#
            )),
            &data,
        );
        decode(what, &[s(&m)]).fails(2, &[needle]);
    }
    // Huge rates: refused before anything is allocated for them.
    for rate in ["1e300", "1.7976931348623157e308", "1e13"] {
        let m = sigmf(
            &dir,
            "hugerate",
            &meta(&format!(
                r#""core:datatype": "cf32_le", "core:sample_rate": {rate}"#
            )),
            &data,
        );
        decode(&format!("rate {rate}"), &[s(&m)]).fails(2, &["sample rate", "above"]);
    }
    // A rate that lies but is plausible (twice the real one): the data is read at the wrong
    // rate, nothing decodes, exit 0.
    let m = sigmf(
        &dir,
        "liar",
        &meta(r#""core:datatype": "cf32_le", "core:sample_rate": 30720000"#),
        &data,
    );
    let r = decode("rate twice the real one", &[s(&m), "--all"]);
    let f = r.clean();
    no_false_frame(&r, &f, &ok);
    // Not JSON at all, truncated JSON, binary, a UTF-8 BOM, an empty meta file.
    for (what, text) in [
        ("not JSON", &b"core:datatype = cf32_le"[..]),
        (
            "truncated JSON",
            &br#"{"global": {"core:datatype": "cf32_le", "core:sa"#[..],
        ),
        ("binary", &b"\x00\xff\xfe\x80garbage"[..]),
        ("UTF-8 BOM", &b"\xef\xbb\xbf{\"global\": {}}"[..]),
        ("empty meta", &b""[..]),
    ] {
        let m = dir.path("notjson.sigmf-meta");
        write(&m, text);
        write(&dir.path("notjson.sigmf-data"), &data);
        decode(what, &[s(&m)]).fails(2, &["not valid JSON"]);
    }
    // The sample count does not match: annotations and a `core:sample_count` claiming far
    // more samples than the data holds, and a data file of a ragged length. The metadata's
    // counts are not used: the data file's length is what is read, with a warning for the
    // partial sample.
    let lying = format!(
        r#"{{"global": {{{good}, "core:sample_count": 999999999}},
            "captures": [{{"core:sample_start": 0}}],
            "annotations": [{{"core:sample_start": 0, "core:sample_count": 999999999}}]}}"#
    );
    let m = sigmf(&dir, "count", &lying, &data);
    let r = decode("sample count larger than the data", &[s(&m)]);
    assert_eq!(r.clean().len(), 1, "{}", r.describe());
    let mut ragged = data.clone();
    ragged.extend_from_slice(&[1, 2, 3, 4, 5]);
    let m = sigmf(&dir, "ragged", &meta(good), &ragged);
    let r = decode("data not a whole number of samples", &[s(&m)]);
    assert_eq!(r.warns("5 trailing byte").len(), 1, "{}", r.describe());
    // `core:dataset` naming a missing file, a directory, or nothing.
    for (what, dataset, needles) in [
        (
            "dataset missing",
            "absent.bin",
            &["input not found", "absent.bin"][..],
        ),
        ("dataset is a directory", "sub", &["is a directory"][..]),
        ("dataset empty", "", &["core:dataset"][..]),
    ] {
        std::fs::create_dir_all(dir.path("sub")).unwrap();
        let m = sigmf(
            &dir,
            "dataset",
            &meta(&format!(
                r#"{good}, "core:dataset": {}"#,
                Value::from(dataset)
            )),
            &data,
        );
        decode(what, &[s(&m)]).fails(2, needles);
    }
    // The data file of a valid meta is missing.
    let m = dir.path("orphan.sigmf-meta");
    write(&m, meta(good).as_bytes());
    decode("meta without data", &[s(&m)]).fails(2, &["input not found", "orphan.sigmf-data"]);
}

#[test]
fn paths_that_are_not_sample_files() {
    let dir = TempDir::new("paths");
    // A directory, with and without --sample-rate, and a directory named like a SigMF meta.
    let d = dir.path("adir");
    std::fs::create_dir_all(&d).unwrap();
    decode("directory", &[s(&d)]).fails(2, &["is a directory"]);
    decode("directory with rate", &[s(&d), "--sample-rate", "15.36M"])
        .fails(2, &["is a directory"]);
    let d = dir.path("x.sigmf-meta");
    std::fs::create_dir_all(&d).unwrap();
    decode("directory named .sigmf-meta", &[s(&d)]).fails(2, &["is a directory"]);
    // A file that does not exist (raw, SigMF, with a rate).
    let p = dir.path("missing.cf32");
    decode("nonexistent", &[s(&p)]).fails(2, &["input not found", "missing.cf32"]);
    decode("nonexistent with rate", &[s(&p), "--sample-rate", "15.36M"])
        .fails(2, &["input not found"]);
    let p = dir.path("missing.sigmf-meta");
    decode("nonexistent meta", &[s(&p)]).fails(2, &["input not found"]);
    // A raw file without --sample-rate.
    let p = dir.path("raw.cf32");
    write(&p, &[0u8; 80]);
    decode("raw without rate", &[s(&p)]).fails(2, &["--sample-rate"]);

    // Unreadable inputs. CI runs the tests as root, which reads any file whatever its
    // permissions, so the case that always runs is a path that exists but that open(2) refuses
    // to everyone, root included: a Unix socket (ENXIO, "No such device or address"). Without
    // root, a file with mode 000 (EACCES) is checked as well.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::net::UnixListener;
        let p = dir.path("socket.cf32");
        let _raw = UnixListener::bind(&p).unwrap();
        assert!(
            File::open(&p).is_err(),
            "a socket cannot be opened, even by root"
        );
        decode("unreadable (socket)", &[s(&p), "--sample-rate", "15.36M"])
            .fails(2, &["cannot open", "socket.cf32"]);
        let m = dir.path("socket.sigmf-meta");
        let _meta = UnixListener::bind(&m).unwrap();
        decode("unreadable meta (socket)", &[s(&m)])
            .fails(2, &["cannot open", "socket.sigmf-meta"]);

        let p = dir.path("secret.cf32");
        write(&p, &[0u8; 800]);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&p).is_err() {
            decode("unreadable", &[s(&p), "--sample-rate", "15.36M"])
                .fails(2, &["cannot open", "secret.cf32"]);
            let m = dir.path("secret.sigmf-meta");
            write(
                &m,
                br#"{"global": {"core:datatype": "cf32_le", "core:sample_rate": 15360000}}"#,
            );
            std::fs::set_permissions(&m, std::fs::Permissions::from_mode(0o000)).unwrap();
            decode("unreadable meta", &[s(&m)]).fails(2, &["cannot open", "secret.sigmf-meta"]);
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn read_and_write_failures_are_io_errors() {
    // A read that fails part-way: exit 1 naming the input. Reading a process's own memory at
    // offset 0 fails with EIO on Linux (the page is not mapped).
    let mem = Path::new("/proc/self/mem");
    if mem.exists() {
        let r = decode("read error", &[s(mem), "--sample-rate", "15.36M"]);
        r.fails_after_summary(1, &["reading", "failed after 0 samples"]);
    }
    // stdout closed before the first frame is written: exit 1, "writing frames failed".
    let dir = TempDir::new("io");
    let (x, _, _) = capture(None);
    let p = dir.path("burst.cf32");
    write(&p, &cf32_bytes(&x));
    let mut child = Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(["decode", s(&p), "--sample-rate", "15.36M", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("writing frames failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

impl Run {
    /// Exit `code` after the summary: the last stderr line is the error and mentions the
    /// needles; stdout holds only what was decoded before.
    fn fails_after_summary(&self, code: i32, needles: &[&str]) {
        assert_eq!(self.code, Some(code), "{}", self.describe());
        let last = self.stderr.trim_end().lines().last().unwrap_or("");
        assert!(last.starts_with("droneid: "), "{}", self.describe());
        for n in needles {
            assert!(
                last.contains(n),
                "stderr should mention {n:?}: {}",
                self.describe()
            );
        }
    }
}
