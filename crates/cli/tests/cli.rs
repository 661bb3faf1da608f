//! The `droneid` binary as users call it: bundled signals, synth → decode round trips, and bad
//! input (one-line error, documented exit status, nothing on stdout, no panic, no partial files).

use std::path::PathBuf;
use std::process::{Command, Output};

fn droneid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(args)
        .output()
        .expect("run droneid")
}

fn signals() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../signals")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("droneid-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed run: the given status, a message naming `needle`, nothing on stdout, no panic.
fn assert_fails(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(
        o.stdout.is_empty(),
        "stdout should be empty: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.contains(needle),
        "stderr should mention {needle:?}: {err}"
    );
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn decodes_bundled_real_capture() {
    let o = droneid(&[
        "decode",
        signals()
            .join("real-0x11-15m36.sigmf-meta")
            .to_str()
            .unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 1);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["serial_number"], "3NZCHCQ0043XV1");
    assert_eq!(v["crc24_ok"], true);
    assert_eq!(v["crc16_ok"], true);
    assert!(stderr(&o).contains("CRC24 ok 1"));
}

#[test]
fn raw_file_with_flags_and_stdin() {
    let raw = signals().join("synthetic-kz-8sym-15m36.cf32");
    let o = droneid(&[
        "decode",
        raw.to_str().unwrap(),
        "--sample-rate",
        "15.36M",
        "--format",
        "cf32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["crc24_ok"], true);
    assert_eq!(
        v["crc16_ok"], false,
        "this encoder put the CRC16 one byte late"
    );
    assert_eq!(v["sequence_number"], 12345);
    // Same through standard input.
    let o = Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(["decode", "-", "--sample-rate", "15360000"])
        .stdin(std::fs::File::open(&raw).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 1);
}

#[test]
fn synth_then_decode_round_trip() {
    let base = tmp("roundtrip");
    let b = base.to_str().unwrap();
    let o = droneid(&[
        "synth",
        "--output",
        b,
        "--sample-rate",
        "30.72M",
        "--bursts",
        "3",
        "--interval-ms",
        "15",
        "--snr-db",
        "6",
        "--cfo-hz",
        "4000",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let truth = std::fs::read_to_string(format!("{b}.truth.jsonl")).unwrap();
    let o = droneid(&["decode", &format!("{b}.sigmf-meta")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: Vec<serde_json::Value> = truth
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g["message_hex"], w["message_hex"]);
        assert_eq!(g["block_hex"], w["block_hex"]);
        let ds = g["start_sample"].as_i64().unwrap() - w["start_sample"].as_i64().unwrap();
        assert!(
            ds.abs() <= 92,
            "start within 3 µs at 30.72 MS/s: off by {ds}"
        );
    }
}

#[test]
fn bad_input_is_a_one_line_error() {
    let missing = tmp("does-not-exist.cf32");
    assert_fails(
        &droneid(&[
            "decode",
            missing.to_str().unwrap(),
            "--sample-rate",
            "15.36M",
        ]),
        2,
        "does-not-exist",
    );
    let dir = std::env::temp_dir();
    assert_fails(
        &droneid(&["decode", dir.to_str().unwrap(), "--sample-rate", "15.36M"]),
        2,
        "director",
    );
    // A raw file with no SigMF metadata beside it.
    let raw = tmp("bare.cf32");
    std::fs::copy(signals().join("synthetic-kz-8sym-15m36.cf32"), &raw).unwrap();
    assert_fails(
        &droneid(&["decode", raw.to_str().unwrap()]),
        2,
        "--sample-rate",
    );
    assert_fails(
        &droneid(&["decode", raw.to_str().unwrap(), "--sample-rate", "10M"]),
        2,
        "15.36",
    );
    assert_fails(
        &droneid(&["decode", raw.to_str().unwrap(), "--sample-rate", "fast"]),
        2,
        "sample-rate",
    );
    assert_fails(
        &droneid(&[
            "decode",
            raw.to_str().unwrap(),
            "--sample-rate",
            "15.36M",
            "--format",
            "cf128",
        ]),
        2,
        "cf128",
    );
    let meta = tmp("broken.sigmf-meta");
    std::fs::write(&meta, b"{ not json").unwrap();
    std::fs::write(tmp("broken.sigmf-data"), [0u8; 64]).unwrap();
    assert_fails(&droneid(&["decode", meta.to_str().unwrap()]), 2, "JSON");
    let meta = tmp("norate.sigmf-meta");
    std::fs::write(&meta, br#"{"global": {"core:datatype": "cf32_le", "core:version": "1.0.0"}, "captures": [], "annotations": []}"#).unwrap();
    std::fs::write(tmp("norate.sigmf-data"), [0u8; 64]).unwrap();
    assert_fails(&droneid(&["decode", meta.to_str().unwrap()]), 2, "sample");
}

#[test]
fn hostile_samples_decode_cleanly_to_nothing() {
    // Empty file, odd length, zeros, NaN/Inf: exit 0, no frames, warnings where due.
    let empty = tmp("empty.cf32");
    std::fs::write(&empty, b"").unwrap();
    let o = droneid(&["decode", empty.to_str().unwrap(), "--sample-rate", "15.36M"]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", stderr(&o));
    let odd = tmp("odd.cf32");
    std::fs::write(&odd, vec![0u8; 8 * 1000 + 3]).unwrap();
    let o = droneid(&["decode", odd.to_str().unwrap(), "--sample-rate", "15.36M"]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", stderr(&o));
    assert!(stderr(&o).contains("trailing"), "{}", stderr(&o));
    let mut bad = Vec::new();
    for i in 0..200_000u32 {
        let v = match i % 3 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            _ => (i as f32).sin(),
        };
        bad.extend_from_slice(&v.to_le_bytes());
        bad.extend_from_slice(&(-v).to_le_bytes());
    }
    let nan = tmp("nan.cf32");
    std::fs::write(&nan, bad).unwrap();
    let o = droneid(&[
        "decode",
        nan.to_str().unwrap(),
        "--sample-rate",
        "15.36M",
        "--all",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // `--all` prints demodulated bursts whose CRC24 failed; garbage may sync by chance (its
    // strong tones), but it must never give a CRC-valid frame.
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["crc24_ok"], false, "no valid frames from garbage: {line}");
    }
    assert!(stderr(&o).contains("NaN"), "{}", stderr(&o));
}

#[test]
fn synth_bad_flags_leave_no_files() {
    let base = tmp("badsynth");
    let b = base.to_str().unwrap();
    assert_fails(
        &droneid(&["synth", "--output", b, "--symbols", "7"]),
        2,
        "--symbols",
    );
    assert_fails(
        &droneid(&["synth", "--output", b, "--sample-rate", "10M"]),
        2,
        "sample-rate",
    );
    let rec = tmp("bad-record.json");
    std::fs::write(&rec, b"{\"type\": \"telemetry\", \"serial_number\": 5").unwrap();
    assert_fails(
        &droneid(&["synth", "--output", b, "--record", rec.to_str().unwrap()]),
        2,
        "record",
    );
    for ext in ["sigmf-meta", "sigmf-data", "truth.jsonl"] {
        assert!(
            !PathBuf::from(format!("{b}.{ext}")).exists(),
            "{ext} left behind"
        );
    }
}

#[test]
fn output_and_geojson_files() {
    let base = tmp("tracks");
    let b = base.to_str().unwrap();
    let o = droneid(&[
        "synth",
        "--output",
        b,
        "--sample-rate",
        "30.72M",
        "--drones",
        "2",
        "--random-offsets",
        "--bursts",
        "3",
        "--interval-ms",
        "25",
        "--snr-db",
        "5",
        "--seed",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = tmp("tracks.jsonl");
    let geo = tmp("tracks.geojson");
    let o = droneid(&[
        "decode",
        &format!("{b}.sigmf-meta"),
        "--output",
        lines.to_str().unwrap(),
        "--geojson",
        geo.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "frames go to --output");
    assert_eq!(std::fs::read_to_string(&lines).unwrap().lines().count(), 6);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&geo).unwrap()).unwrap();
    droneid_tracks::validate_geojson(&v).unwrap();
    let paths = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["role"] == "path")
        .count();
    assert_eq!(paths, 2, "one path per drone");
    assert!(stderr(&o).contains("SYNTH000000000D1") && stderr(&o).contains("SYNTH000000000D2"));
    // A missing directory fails before decoding, with nothing written.
    let o = droneid(&[
        "decode",
        &format!("{b}.sigmf-meta"),
        "--geojson",
        "/nonexistent-dir/x.geojson",
    ]);
    assert_fails(&o, 2, "does not exist");
}
