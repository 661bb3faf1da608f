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
        &droneid(&["decode", raw.to_str().unwrap(), "--sample-rate", "3M"]),
        2,
        "4 MS/s",
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
        &droneid(&["synth", "--output", b, "--sample-rate", "3M"]),
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
    let text = std::fs::read_to_string(&geo).unwrap();
    // RFC 7946 as read by an independent implementation (georust's `geojson`), then the
    // project's stricter structural check (coordinate ranges, no `crs`).
    let parsed = geojson::GeoJson::from_json_value(serde_json::from_str(&text).unwrap())
        .expect("the GeoJSON parses with the geojson crate");
    let geojson::GeoJson::FeatureCollection(fc) = parsed else {
        panic!("the GeoJSON is not a FeatureCollection");
    };
    assert!(fc.features.iter().all(|f| f.geometry.is_some()));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), fc.features.len());
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

/// Reads a synth truth file.
fn truth_lines(base: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(format!("{base}.truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn meta(base: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{base}.sigmf-meta")).unwrap()).unwrap()
}

#[test]
fn synth_ci8_with_dc_spike_decodes() {
    // HackRF-like: 8-bit samples with clipping 30 dB over the noise RMS, LO leakage 10 dB over
    // the noise power, bursts 1 MHz off centre. Decoded through `droneid decode`.
    let base = tmp("ci8dc");
    let b = base.to_str().unwrap();
    let o = droneid(&[
        "synth",
        "--output",
        b,
        "--sample-rate",
        "20M",
        "--bursts",
        "2",
        "--interval-ms",
        "5",
        "--snr-db",
        "10",
        "--freq-offset-hz",
        "1M",
        "--format",
        "ci8",
        "--dc-db",
        "10",
        "--seed",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = meta(b);
    assert_eq!(m["global"]["core:datatype"], "ci8");
    assert_eq!(m["global"]["droneid:impairments"]["dc"]["level_db"], 10.0);
    assert_eq!(
        m["global"]["droneid:impairments"]["quantize"]["clip_db"],
        30.0
    );
    let truth = truth_lines(b);
    let data = std::fs::metadata(format!("{b}.sigmf-data")).unwrap().len();
    let n = (truth[1]["start_sample"].as_i64().unwrap() as u64) * 2;
    assert!(data > n, "2 bytes per sample");
    let o = droneid(&["decode", &format!("{b}.sigmf-meta")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<serde_json::Value> = String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 2, "{}", stderr(&o));
    for (g, w) in got.iter().zip(&truth) {
        assert_eq!(g["block_hex"], w["block_hex"]);
        let ds = g["start_sample"].as_i64().unwrap() - w["start_sample"].as_i64().unwrap();
        assert!(ds.abs() <= 60, "start within 3 µs at 20 MS/s: off by {ds}");
    }
}

#[test]
fn synth_narrow_rate_truth_at_the_output_rate() {
    let base = tmp("narrow5m");
    let b = base.to_str().unwrap();
    let o = droneid(&[
        "synth",
        "--output",
        b,
        "--sample-rate",
        "5M",
        "--bursts",
        "2",
        "--interval-ms",
        "5",
        "--snr-db",
        "3",
        "--jitter-ms",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let truth = truth_lines(b);
    assert_eq!(truth.len(), 2);
    // Lead-in 1 ms, then 5 ms apart, at 5 MS/s.
    assert_eq!(truth[0]["start_sample"], 5000);
    assert_eq!(truth[1]["start_sample"], 30000);
    assert_eq!(truth[0]["sample_rate_hz"], 5e6);
    let frac = truth[0]["in_band_fraction"].as_f64().unwrap();
    assert!((frac - 5e6 / 9.015e6).abs() < 1e-9, "{frac}");
    let m = meta(b);
    assert_eq!(m["global"]["core:sample_rate"], 5e6);
    let n = std::fs::metadata(format!("{b}.sigmf-data")).unwrap().len() / 8;
    // Up to the second burst's end (3216 samples) plus the 1 ms tail, rounded up.
    assert!((n as i64 - (30000 + 3216 + 5000)).abs() <= 1, "{n}");
}

#[test]
fn synth_iq_swap_swaps_the_written_samples() {
    let a = tmp("noswap");
    let b = tmp("swap");
    let args = |p: &PathBuf, swap: bool| {
        let mut v = vec![
            "synth".to_string(),
            "--output".into(),
            p.to_str().unwrap().into(),
            "--snr-db".into(),
            "5".into(),
            "--tone".into(),
            "2M:20".into(),
        ];
        if swap {
            v.push("--iq-swap".into());
        }
        v
    };
    for (p, swap) in [(&a, false), (&b, true)] {
        let v = args(p, swap);
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        let o = droneid(&v);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let x = std::fs::read(format!("{}.sigmf-data", a.display())).unwrap();
    let y = std::fs::read(format!("{}.sigmf-data", b.display())).unwrap();
    assert_eq!(x.len(), y.len());
    for (p, q) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
        assert_eq!(&p[..4], &q[4..]);
        assert_eq!(&p[4..], &q[..4]);
    }
    assert_eq!(
        truth_lines(a.to_str().unwrap()),
        truth_lines(b.to_str().unwrap())
    );
}

#[test]
fn synth_pairs_and_interferers() {
    // Back-to-back pairs 700 µs apart on one channel, with a tone, a hopper and a Wi-Fi edge.
    let base = tmp("pairs");
    let b = base.to_str().unwrap();
    let o = droneid(&[
        "synth",
        "--output",
        b,
        "--sample-rate",
        "30.72M",
        "--bursts",
        "2",
        "--interval-ms",
        "5",
        "--jitter-ms",
        "0",
        "--snr-db",
        "8",
        "--pair-delay-us",
        "700",
        "--tone",
        "-1.5M:20",
        "--hopper-db",
        "20",
        "--hopper-channels-mhz=-9,9",
        "--wifi-db",
        "20",
        "--wifi-overlap-hz",
        "1.5M",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let truth = truth_lines(b);
    assert_eq!(truth.len(), 4);
    let d = truth[1]["start_sample"].as_i64().unwrap() - truth[0]["start_sample"].as_i64().unwrap();
    assert!((d - 21504).abs() <= 1, "700 µs at 30.72 MS/s: {d}");
    assert_ne!(truth[0]["serial_number"], truth[1]["serial_number"]);
    let imp = &meta(b)["global"]["droneid:impairments"];
    assert_eq!(imp["tones"][0]["freq_hz"], -1.5e6);
    assert_eq!(imp["hopper"]["channels_hz"][1], 9e6);
    let wifi_lo = imp["wifi"][0]["center_hz"].as_f64().unwrap() - 8.3e6;
    assert!((wifi_lo - 3.0075e6).abs() < 1.0, "{wifi_lo}");
}

#[test]
fn synth_bad_impairment_flags_exit_2() {
    let base = tmp("badimp");
    let b = base.to_str().unwrap();
    for (args, needle) in [
        (vec!["--sample-rate", "3.9M"], "sample-rate"),
        (vec!["--hopper-db", "NaN"], "--hopper-db"),
        (vec!["--dc-db", "inf"], "--dc-db"),
        (vec!["--tone", "9M:20"], "--tone"),
        (vec!["--tone", "1M"], "--tone"),
        (vec!["--tone", "1M:loud"], "--tone"),
        (vec!["--clip-db", "NaN"], "--clip-db"),
        (vec!["--wifi-db", "20"], "--wifi"),
        (
            vec![
                "--random-offsets",
                "--wifi-db",
                "20",
                "--wifi-overlap-hz",
                "1M",
            ],
            "--wifi-overlap-hz",
        ),
        (
            vec!["--hopper-db", "20", "--hopper-channels-mhz", "1,x"],
            "--hopper-channels-mhz",
        ),
        (vec!["--pair-delay-us=-5"], "--pair-delay-us"),
        (vec!["--freq-offset-hz", "20M"], "--freq-offset-hz"),
    ] {
        let mut v = vec!["synth", "--output", b];
        v.extend(args.iter().copied());
        let o = droneid(&v);
        assert_fails(&o, 2, needle);
        assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    }
    for ext in ["sigmf-meta", "sigmf-data", "truth.jsonl"] {
        assert!(
            !PathBuf::from(format!("{b}.{ext}")).exists(),
            "{ext} left behind"
        );
    }
}
