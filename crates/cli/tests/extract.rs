//! `droneid extract`: each decoded burst of a 61.44 MS/s capture cut out as its own SigMF
//! recording at 15.36 MS/s (or 30.72), centred on the burst; each decodes with `droneid decode`
//! to the same frame as in the original capture, and its metadata validates against the SigMF
//! schema (the `sigmf` Python package).

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
        "droneid-extract-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lines(o: &Output) -> Vec<Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// 2 drones at 61.44 MS/s on random channels, 2 bursts each, 8 dB; centre 2444.5 MHz.
fn capture(dir: &Path) -> PathBuf {
    let base = dir.join("wide");
    let o = droneid(&[
        "synth",
        "--output",
        base.to_str().unwrap(),
        "--sample-rate",
        "61.44M",
        "--drones",
        "2",
        "--random-offsets",
        "--bursts",
        "2",
        "--interval-ms",
        "10",
        "--snr-db",
        "8",
        "--seed",
        "21",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta = base.with_extension("sigmf-meta");
    let mut v = read_json(&meta);
    v["captures"][0]["core:frequency"] = json!(2444.5e6);
    v["captures"][0]["core:datetime"] = json!("2026-11-25T09:30:00Z");
    std::fs::write(&meta, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    meta
}

fn sigmf_validate(meta: &Path) {
    let python = std::env::var_os("DRONEID_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python3"),
        PathBuf::from,
    );
    let script = "import json, sys\nfrom sigmf import validate\nvalidate.validate(json.load(open(sys.argv[1])))\n";
    let o = Command::new(python)
        .args(["-W", "ignore", "-c", script, meta.to_str().unwrap()])
        .output()
        .expect("python3 with the sigmf package (scripts/setup.sh installs it in target/pyenv)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn extracted_bursts_decode_to_the_same_frames() {
    let dir = tmp_dir("same");
    let meta = capture(&dir);
    let original = lines(&droneid(&["decode", meta.to_str().unwrap(), "--quiet"]));
    assert_eq!(original.len(), 4);
    for (rate, rate_hz) in [("15.36M", 15.36e6), ("30.72M", 30.72e6)] {
        let out = dir.join(format!("out-{rate}"));
        std::fs::create_dir_all(&out).unwrap();
        let o = droneid(&[
            "extract",
            meta.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--rate",
            rate,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let written: Vec<PathBuf> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(PathBuf::from)
            .collect();
        assert_eq!(written.len(), 4, "one recording per burst");
        for m in &written {
            let v = read_json(m);
            assert_eq!(v["global"]["core:sample_rate"], json!(rate_hz));
            let ann = &v["annotations"][0];
            let frame = original
                .iter()
                .find(|f| f["block_hex"] == ann["droneid:block_hex"])
                .expect("the annotation carries one of the original frames");
            let centre = frame["center_freq_hz"].as_f64().unwrap();
            let f = v["captures"][0]["core:frequency"].as_f64().unwrap();
            assert!((f - centre).abs() <= 1.0, "{f} vs {centre}");
            assert!(v["captures"][0]["core:datetime"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-25T09:30:00.0"));
            // The recording is short: the burst plus 200 µs on each side.
            let data_len = std::fs::metadata(m.with_extension("sigmf-data"))
                .unwrap()
                .len()
                / 8;
            let burst = ann["core:sample_count"].as_u64().unwrap();
            let margin = (200e-6 * rate_hz) as u64;
            assert!(data_len <= burst + 2 * margin + 2, "{data_len} samples");
            // It decodes, alone, to the same frame, centred, where the annotation says.
            let got = lines(&droneid(&["decode", m.to_str().unwrap(), "--quiet"]));
            assert_eq!(got.len(), 1, "{}", m.display());
            let g = &got[0];
            assert_eq!(g["block_hex"], frame["block_hex"]);
            assert!(g["freq_offset_hz"].as_f64().unwrap().abs() < 5e3, "{g}");
            assert!((g["center_freq_hz"].as_f64().unwrap() - centre).abs() < 5e3);
            let at = ann["core:sample_start"].as_i64().unwrap();
            assert!(
                (g["start_sample"].as_i64().unwrap() - at).abs() <= 2,
                "{g} vs {at}"
            );
            sigmf_validate(m);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn extract_refuses_stdin_bad_rates_and_missing_folders() {
    let dir = tmp_dir("refuse");
    let meta = capture(&dir);
    let m = meta.to_str().unwrap();
    for (args, needle) in [
        (vec!["extract", "-", "--out", "."], "not stdin"),
        (
            vec!["extract", m, "--out", ".", "--rate", "20M"],
            "use 15.36M or 30.72M",
        ),
        (
            vec!["extract", m, "--out", "/nonexistent/dir"],
            "does not exist",
        ),
    ] {
        let o = droneid(&args);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{err}");
        assert!(o.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
