//! Encrypted DroneID records (spec §5.8) through the path users run: `droneid synth --record`
//! writes CRYP and INFP bursts of two sessions next to a plaintext drone, `droneid decode`
//! classifies them, and no encrypted frame ever prints a coordinate.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn droneid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(args)
        .output()
        .expect("run droneid")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Session A: a CRYP, an O4 INFP (138 bytes) and a second INFP. Session B: a CRYP and an
/// O3-style INFP (131 bytes, zero ciphertext). Plaintext drone `PLAIN00000000001`: two
/// telemetry records with a Berlin position. Cycled in this order over the bursts.
const RECORDS: &str = r#"[
  {"type": "cryp", "session_id": "1a2b3c4d", "seed": 1},
  {"type": "telemetry", "serial_number": "PLAIN00000000001", "sequence_number": 10,
   "drone_lat_deg": 52.52, "drone_lon_deg": 13.405},
  {"type": "infp", "session_id": "1a2b3c4d", "seed": 2},
  {"type": "encrypted", "packet_marker": "CRYP", "session_id": "0000beef", "seed": 3},
  {"type": "encrypted", "packet_marker": "INFP", "session_id": "0000beef", "length": 131,
   "ciphertext": "zero"},
  {"type": "telemetry", "serial_number": "PLAIN00000000001", "sequence_number": 11,
   "drone_lat_deg": 52.521, "drone_lon_deg": 13.406},
  {"type": "infp", "session_id": "1a2b3c4d", "seed": 4}
]"#;

/// Frame keys that carry a position or a serial; an encrypted line has none of them.
fn is_position_or_serial_key(k: &str) -> bool {
    k == "serial_number"
        || k.contains("lat")
        || k.contains("lon")
        || k.starts_with("home")
        || k.starts_with("app_")
        || k.starts_with("drone_")
        || k.contains("height")
        || k.contains("altitude")
        || k.starts_with("v_")
}

fn synth(dir: &Path) -> String {
    let rec = dir.join("records.json");
    std::fs::write(&rec, RECORDS).unwrap();
    let base = dir.join("mixed");
    let b = base.to_str().unwrap().to_string();
    let o = droneid(&[
        "synth",
        "--output",
        &b,
        "--sample-rate",
        "15.36M",
        "--bursts",
        "7",
        "--interval-ms",
        "12",
        "--snr-db",
        "10",
        "--seed",
        "12",
        "--record",
        rec.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "synth: {}", stderr(&o));
    b
}

#[test]
fn encrypted_bursts_decode_without_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let b = synth(dir.path());
    let geo = dir.path().join("tracks.geojson");
    let o = droneid(&[
        "decode",
        &format!("{b}.sigmf-meta"),
        "--geojson",
        geo.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "decode: {err}");
    let lines: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth: Vec<Value> = std::fs::read_to_string(format!("{b}.truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "every burst decodes at 10 dB: {err}");
    for (g, w) in lines.iter().zip(&truth) {
        assert_eq!(g["block_hex"], w["block_hex"]);
    }

    let mut sessions = Vec::new();
    for l in &lines {
        let obj = l.as_object().unwrap();
        assert_eq!(l["crc24_ok"], true);
        assert_eq!(l["crc16_ok"], true);
        match l["encrypted"]
            .as_bool()
            .expect("every line has `encrypted`")
        {
            true => {
                let marker = l["packet_marker"].as_str().unwrap();
                let sid = l["session_id"].as_str().unwrap();
                assert!(sid.len() == 8 && sid.chars().all(|c| c.is_ascii_hexdigit()));
                assert_eq!(sid, sid.to_lowercase());
                // Bytes 6–9 of the record, as transmitted.
                assert_eq!(&l["message_hex"].as_str().unwrap()[12..20], sid);
                for k in obj.keys() {
                    assert!(!is_position_or_serial_key(k), "encrypted line has {k}: {l}");
                }
                sessions.push((marker.to_string(), sid.to_string(), l["msg_type"].clone()));
            }
            false => {
                assert_eq!(l["serial_number"], "PLAIN00000000001");
                assert!(!obj.contains_key("packet_marker") && !obj.contains_key("session_id"));
                let lat = l["drone_lat_deg"].as_f64().unwrap();
                assert!((lat - 52.52).abs() < 0.01, "{lat}");
            }
        }
    }
    let want = [
        ("CRYP", "1a2b3c4d", 0x13),
        ("INFP", "1a2b3c4d", 0x10),
        ("CRYP", "0000beef", 0x13),
        ("INFP", "0000beef", 0x10),
        ("INFP", "1a2b3c4d", 0x10),
    ];
    let got: Vec<(&str, &str, u64)> = sessions
        .iter()
        .map(|(m, s, t)| (m.as_str(), s.as_str(), t.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);

    // The summary names both sessions; the plaintext drone keeps its row.
    assert!(
        err.contains("encrypted DJI drone, session 1a2b3c4d, 3 frames (1 CRYP, 2 INFP)"),
        "{err}"
    );
    assert!(
        err.contains("encrypted DJI drone, session 0000beef, 2 frames (1 CRYP, 1 INFP)"),
        "{err}"
    );
    assert!(err.contains("PLAIN00000000001"), "{err}");
    assert!(err.contains("3 drone(s) (2 encrypted)"), "{err}");

    // GeoJSON: only the plaintext drone.
    let g: Value = serde_json::from_str(&std::fs::read_to_string(&geo).unwrap()).unwrap();
    droneid_tracks::validate_geojson(&g).unwrap();
    let features = g["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        assert_eq!(f["properties"]["serial_number"], "PLAIN00000000001", "{f}");
    }
}

#[test]
fn bad_encrypted_record_spec_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("bad.json");
    std::fs::write(&rec, r#"{"type": "infp", "session_id": "1a2b"}"#).unwrap();
    let base = dir.path().join("bad");
    let o = droneid(&[
        "synth",
        "--output",
        base.to_str().unwrap(),
        "--record",
        rec.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("session_id") && err.contains("4"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!dir.path().join("bad.sigmf-meta").exists());
}
