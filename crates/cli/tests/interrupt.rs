//! SIGINT in the middle of a stream: `decode` stops, writes every output with the frames decoded
//! so far, prints the summary and exits 130.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn sigint_mid_stream_flushes_every_output_and_exits_130() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let burst = std::fs::read(root.join("signals/synthetic-kz-8sym-15m36.cf32")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, geojson, h5) = (
        dir.path().join("frames.jsonl"),
        dir.path().join("tracks.geojson"),
        dir.path().join("frames.h5"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args([
            "decode",
            "-",
            "--sample-rate",
            "15.36M",
            "--format",
            "cf32",
            "--output",
        ])
        .arg(&jsonl)
        .arg("--geojson")
        .arg(&geojson)
        .arg("--hdf5")
        .arg(&h5)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // One burst, then a trickle of silence (a live pipe that keeps flowing) until the frame is out.
    stdin.write_all(&burst).unwrap();
    let zeros = vec![0u8; 8 * 16_384];
    let started = Instant::now();
    while std::fs::read_to_string(&jsonl)
        .unwrap_or_default()
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no frame came out"
        );
        stdin.write_all(&zeros).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGINT while samples keep arriving; the pipeline must stop within a second or so.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let stopped = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "did not stop after SIGINT"
        );
        let _ = stdin.write_all(&zeros);
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("SIGINT") && stderr.contains("CRC24 ok 1"),
        "{stderr}"
    );
    // Every output is complete and readable.
    let lines = std::fs::read_to_string(&jsonl).unwrap();
    assert_eq!(lines.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(v["crc24_ok"], true);
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&geojson).unwrap()).unwrap();
    assert_eq!(g["type"], "FeatureCollection");
    let dump = Command::new("h5dump").arg("-H").arg(&h5).output().unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(String::from_utf8_lossy(&dump.stdout).contains("frames"));
}
