//! A SigMF recording as a scanning receiver writes it: two capture segments (a retune from
//! 2414.5 to 2444.5 MHz between bursts), each with its own `core:frequency` and
//! `core:datetime`. Every frame must report the frequency and UTC time of its own segment, and
//! a burst that straddles the retune is not reported across it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn droneid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(args)
        .output()
        .expect("run droneid")
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "droneid-segments-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const FS: f64 = 30.72e6;
const OFFSET_HZ: f64 = -5.3e6;
const T0: &str = "2026-11-25T12:00:00Z";
const T1: &str = "2026-11-25T12:00:10.250Z";

/// 4 bursts 20 ms apart at −5.3 MHz from the centre, 30.72 MS/s; returns the base path and
/// each burst's truth start sample.
fn synth(dir: &Path) -> (PathBuf, Vec<i64>) {
    let base = dir.join("scan");
    let o = droneid(&[
        "synth",
        "--output",
        base.to_str().unwrap(),
        "--sample-rate",
        "30.72M",
        "--bursts",
        "4",
        "--interval-ms",
        "20",
        "--freq-offset-hz=-5.3e6",
        "--snr-db",
        "15",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let truth = std::fs::read_to_string(base.with_extension("truth.jsonl")).unwrap();
    let starts = truth
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["start_sample"]
                .as_i64()
                .unwrap()
        })
        .collect();
    (base, starts)
}

/// Rewrites the recording's captures: 2414.5 MHz at T0 from 0, 2444.5 MHz at T1 from `retune`.
fn set_two_segments(base: &Path, retune: i64) -> PathBuf {
    let meta = base.with_extension("sigmf-meta");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    v["captures"] = json!([
        {"core:sample_start": 0, "core:frequency": 2414.5e6, "core:datetime": T0},
        {"core:sample_start": retune, "core:frequency": 2444.5e6, "core:datetime": T1},
    ]);
    std::fs::write(&meta, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    meta
}

fn frames(o: &Output) -> Vec<Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `T` plus `seconds`, as the decoder writes it (microseconds).
fn utc_plus(t: &str, seconds: f64) -> String {
    let ns = droneid_io::parse_datetime_ns(t).unwrap() + (seconds * 1e9).round() as i128;
    droneid_io::format_utc_ns(ns)
}

#[test]
fn every_frame_takes_frequency_and_time_from_its_own_segment() {
    let dir = tmp_dir("own");
    let (base, starts) = synth(&dir);
    // The retune halfway between bursts 1 and 2.
    let retune = (starts[1] + starts[2]) / 2;
    let meta = set_two_segments(&base, retune);
    let got = frames(&droneid(&["decode", meta.to_str().unwrap(), "--quiet"]));
    assert_eq!(got.len(), 4, "{got:?}");
    for (f, &start) in got.iter().zip(&starts) {
        let s = f["start_sample"].as_i64().unwrap();
        assert!((s - start).abs() <= 4, "start {s} vs truth {start}");
        let offset = f["freq_offset_hz"].as_f64().unwrap();
        assert!((offset - OFFSET_HZ).abs() < 20e3, "offset {offset}");
        let (centre, utc) = if s < retune {
            (2414.5e6, utc_plus(T0, s as f64 / FS))
        } else {
            (2444.5e6, utc_plus(T1, (s - retune) as f64 / FS))
        };
        let abs = f["center_freq_hz"].as_f64().unwrap();
        assert!(
            (abs - (centre + offset)).abs() < 1.0,
            "burst at {s}: {abs} Hz, expected {} Hz",
            centre + offset
        );
        assert_eq!(f["utc"], json!(utc), "burst at {s}");
    }
    // The frames after the retune say 2439.2 MHz, not 2409.2 MHz.
    assert!((got[3]["center_freq_hz"].as_f64().unwrap() - 2439.2e6).abs() < 30e3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_burst_straddling_the_retune_is_not_decoded_across_it() {
    let dir = tmp_dir("straddle");
    let (base, starts) = synth(&dir);
    // The retune in the middle of burst 2 (19760 samples long at 30.72 MS/s).
    let meta = set_two_segments(&base, starts[2] + 8000);
    let o = droneid(&["decode", meta.to_str().unwrap(), "--all"]);
    let got = frames(&o);
    let seen: Vec<i64> = got
        .iter()
        .map(|f| f["start_sample"].as_i64().unwrap())
        .collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.iter().all(|s| (s - starts[2]).abs() > 1000),
        "burst 2 straddles the retune: {seen:?}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 bursts straddled a retune"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
