//! `droneid decode X.sigmf-meta --annotate OUT.sigmf-meta`: a copy of the metadata with one
//! annotation per decoded burst, checked against the official SigMF schema by the `sigmf`
//! Python package (a validator that did not come from this project; `.ci/run` installs it).
//! The data file is never touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn droneid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(args)
        .output()
        .expect("run droneid")
}

fn signals() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../signals")
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "droneid-annotate-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok_lines(o: &Output) -> Vec<Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The Python that `scripts/setup.sh` gives the `sigmf` package: `target/pyenv` of this
/// checkout (or `$DRONEID_PYTHON`).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("DRONEID_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python3")
}

/// Validates `meta` with the `sigmf` package (`sigmf.validate.validate` against the schema it
/// ships, then a full `sigmf.fromfile` load, which finds and checks the data file too).
fn sigmf_validate(meta: &Path) {
    let script = r#"
import json, sys
import sigmf
from sigmf import validate
meta = json.load(open(sys.argv[1]))
validate.validate(meta)
f = sigmf.fromfile(sys.argv[1])
print(len(f.get_annotations()), f.get_global_field("core:sample_rate"))
"#;
    let o = Command::new(python())
        .args(["-W", "ignore", "-c", script, meta.to_str().unwrap()])
        .output()
        .expect("python3 with the sigmf package (scripts/setup.sh installs it in target/pyenv)");
    assert!(
        o.status.success(),
        "sigmf validation of {} failed: {}{}",
        meta.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn annotations_of_the_bundled_burst_validate_against_the_sigmf_schema() {
    let dir = tmp_dir("real");
    let input = signals().join("real-0x11-15m36.sigmf-meta");
    let data = signals().join("real-0x11-15m36.cf64");
    let data_before = std::fs::read(&data).unwrap();
    let meta_before = std::fs::read(&input).unwrap();
    let out = dir.join("real-annotated.sigmf-meta");
    let lines = ok_lines(&droneid(&[
        "decode",
        input.to_str().unwrap(),
        "--annotate",
        out.to_str().unwrap(),
    ]));
    assert_eq!(lines.len(), 1);
    assert_eq!(std::fs::read(&data).unwrap(), data_before, "data untouched");
    assert_eq!(
        std::fs::read(&input).unwrap(),
        meta_before,
        "input meta untouched"
    );
    let v = read_json(&out);
    let anns = v["annotations"].as_array().unwrap();
    // The recording's own annotation is kept; ours is added.
    assert_eq!(anns.len(), 2);
    let a = anns
        .iter()
        .find(|a| a["core:label"] == json!("DroneID"))
        .unwrap();
    assert_eq!(a["core:sample_start"], json!(0));
    assert_eq!(
        a["core:sample_count"],
        json!(8776),
        "8-symbol burst at 15.36 MS/s"
    );
    assert_eq!(
        a["core:comment"],
        json!("serial 3NZCHCQ0043XV1, message type 0x11")
    );
    assert_eq!(a["droneid:serial_number"], json!("3NZCHCQ0043XV1"));
    assert_eq!(a["droneid:block_hex"], lines[0]["block_hex"]);
    assert!(a.get("core:freq_lower_edge").is_none(), "centre unknown");
    assert_eq!(
        v["global"]["core:extensions"],
        json!([{"name": "droneid", "version": "1.0.0", "optional": true}])
    );
    assert_eq!(
        v["global"]["core:description"],
        read_json(&input)["global"]["core:description"]
    );
    sigmf_validate(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn annotations_of_a_synthesised_capture_match_the_frames() {
    let dir = tmp_dir("synth");
    let base = dir.join("cap");
    let o = droneid(&[
        "synth",
        "--output",
        base.to_str().unwrap(),
        "--sample-rate",
        "30.72M",
        "--bursts",
        "3",
        "--interval-ms",
        "15",
        "--freq-offset-hz=4e6",
        "--snr-db",
        "12",
        "--seed",
        "11",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let input = base.with_extension("sigmf-meta");
    // Give the recording a centre and a time, so the annotation edges are absolute.
    let mut m = read_json(&input);
    m["captures"][0]["core:frequency"] = json!(5756.5e6);
    m["captures"][0]["core:datetime"] = json!("2026-11-25T08:00:00Z");
    std::fs::write(&input, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let data = base.with_extension("sigmf-data");
    let data_len = std::fs::metadata(&data).unwrap().len();
    let data_mtime = std::fs::metadata(&data).unwrap().modified().unwrap();
    // The copy goes to another folder: it names its data file relative to itself.
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let out = dir.join("out/annotated.sigmf-meta");
    let lines = ok_lines(&droneid(&[
        "decode",
        input.to_str().unwrap(),
        "--annotate",
        out.to_str().unwrap(),
    ]));
    assert_eq!(lines.len(), 3);
    assert_eq!(std::fs::metadata(&data).unwrap().len(), data_len);
    assert_eq!(
        std::fs::metadata(&data).unwrap().modified().unwrap(),
        data_mtime
    );
    let v = read_json(&out);
    assert_eq!(v["global"]["core:dataset"], json!("../cap.sigmf-data"));
    let ours: Vec<&Value> = v["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["core:label"] == json!("DroneID"))
        .collect();
    assert_eq!(ours.len(), 3);
    for (a, f) in ours.iter().zip(&lines) {
        assert_eq!(a["core:sample_start"], f["start_sample"]);
        assert_eq!(
            a["core:sample_count"],
            json!(19760),
            "9 symbols at 30.72 MS/s"
        );
        let c = f["center_freq_hz"].as_f64().unwrap();
        assert!((c - 5760.5e6).abs() < 30e3, "{c}");
        assert_eq!(a["core:freq_lower_edge"], json!(c - 4.5075e6));
        assert_eq!(a["core:freq_upper_edge"], json!(c + 4.5075e6));
        assert_eq!(a["droneid:block_hex"], f["block_hex"]);
        assert_eq!(a["droneid:utc"], f["utc"]);
        assert!(f["utc"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T08:00:00.0"));
        let serial = f["serial_number"].as_str().unwrap();
        assert_eq!(
            a["core:comment"],
            json!(format!("serial {serial}, message type 0x10"))
        );
    }
    sigmf_validate(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn annotate_refuses_raw_input_and_the_inputs_own_metadata() {
    let dir = tmp_dir("refuse");
    let raw = signals().join("real-0x11-15m36.cf64");
    let out = dir.join("x.sigmf-meta");
    // A copy of the samples without metadata beside it is a raw recording.
    let plain = dir.join("plain.cf64");
    std::fs::copy(&raw, &plain).unwrap();
    let o = droneid(&[
        "decode",
        plain.to_str().unwrap(),
        "--format",
        "cf64",
        "--sample-rate",
        "15.36M",
        "--annotate",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--annotate needs a SigMF input"));
    assert!(o.stdout.is_empty());
    let input = signals().join("real-0x11-15m36.sigmf-meta");
    let o = droneid(&[
        "decode",
        input.to_str().unwrap(),
        "--annotate",
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the input's own metadata"));
    let o = droneid(&[
        "decode",
        input.to_str().unwrap(),
        "--annotate",
        dir.join("x.sigmf-data").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must be a .sigmf-meta file"));
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
