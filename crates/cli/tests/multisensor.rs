//! A site rehearsal: three `droneid live` processes on the replay device, each with its own
//! sensor id and its own recording of one scene (the same drone, different SNR), publish to one
//! mosquitto and send CoT to one UDP listener. A subscriber sees every frame once per sensor,
//! tagged with its sensor id; the drone's retained state topic holds the newest state; the
//! drone's CoT uid is the same from all three; each sensor's status ends "offline". A fourth
//! sensor killed with SIGKILL is marked offline by the broker (its last will).

#[path = "../../outputs/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, retained, Broker, Subscriber};

const BIN: &str = env!("CARGO_BIN_EXE_droneid");
const SENSORS: [(&str, &str, &str); 3] = [
    ("north", "8", "52.5190,13.4010"),
    ("east", "10", "52.5160,13.4090"),
    ("south", "12", "52.5120,13.4000"),
];

fn plugin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/soapy");
    let dir = dir.canonicalize().unwrap_or(dir);
    assert!(
        dir.join("libreplaySupport.so").exists(),
        "the SoapySDR replay module is missing from {}: run scripts/setup.sh first",
        dir.display()
    );
    dir
}

/// One recording of the scene (seed 41: one drone, a burst every 100 ms for 0.6 s) at `snr`.
fn recording(snr: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("multisensor");
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join(format!("scene-41-{snr}db"));
    if !base.with_extension("sigmf-meta").exists() {
        let out = Command::new(BIN)
            .args([
                "synth",
                "--output",
                base.to_str().unwrap(),
                "--sample-rate",
                "15.36M",
            ])
            .args([
                "--interval-ms",
                "100",
                "--duration-s",
                "0.6",
                "--seed",
                "41",
            ])
            .args(["--snr-db", snr, "--center-freq", "2414.5M"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    base.with_extension("sigmf-meta")
}

fn live(sensor: &str, position: &str, file: &Path, mqtt: &str, cot: &str, loop_: bool) -> Command {
    let mut c = Command::new(BIN);
    c.env("SOAPY_SDR_PLUGIN_PATH", plugin_dir())
        .args(["live", "--device"])
        .arg(format!(
            "driver=replay,file={},paced=1,loop={}",
            file.display(),
            u8::from(loop_)
        ))
        .args(["--buffer-ms", "1000", "--status-interval", "0"])
        .args(["--sensor-id", sensor, "--sensor-position", position])
        .args(["--mqtt", mqtt, "--mqtt-topic", "site", "--cot", cot]);
    c
}

#[test]
fn three_sensors_one_broker_one_tak_listener() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _broker = Broker::start(port, dir.path());
    let sub = Subscriber::start_with(port, &["site/frames"], &[]);
    let tak = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cot = format!("udp://127.0.0.1:{}", tak.local_addr().unwrap().port());
    let mqtt = format!("mqtt://127.0.0.1:{port}");
    let files: Vec<PathBuf> = SENSORS.iter().map(|(_, snr, _)| recording(snr)).collect();

    let t = Instant::now();
    let children: Vec<_> = SENSORS
        .iter()
        .zip(&files)
        .map(|((id, _, pos), f)| {
            live(id, pos, f, &mqtt, &cot, false)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut printed: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for ((id, _, _), c) in SENSORS.iter().zip(children) {
        let o = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{id}: {err}");
        let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6, "{id} decodes every burst: {err}");
        printed.insert(id.to_string(), lines);
    }
    eprintln!("three sensors ran in {:.2} s", t.elapsed().as_secs_f64());

    // MQTT: every frame once per sensor, tagged with its sensor id.
    let got = sub.take(18, Duration::from_secs(10));
    assert!(
        sub.drain(Duration::from_millis(300)).is_empty(),
        "no duplicates"
    );
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    for (_, p) in &got {
        let v: Value = serde_json::from_str(p).unwrap();
        let id = v["sensor_id"].as_str().unwrap().to_string();
        assert!(
            seen.insert((id.clone(), v["start_sample"].as_i64().unwrap())),
            "twice: {v}"
        );
        assert!(printed[&id].contains(&v), "published as printed");
    }
    for (id, _, _) in SENSORS {
        assert_eq!(seen.iter().filter(|(s, _)| s == id).count(), 6, "{id}");
    }
    // The same drone from every sensor; the retained state is its newest.
    let serials: BTreeSet<&str> = printed
        .values()
        .flatten()
        .map(|v| v["serial_number"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), 1);
    let serial = *serials.iter().next().unwrap();
    let newest = printed
        .values()
        .flatten()
        .map(|v| v["sequence_number"].as_u64().unwrap())
        .max()
        .unwrap();
    let state: Value =
        serde_json::from_str(&retained(port, &format!("site/drones/{serial}/state"), &[]).unwrap())
            .unwrap();
    assert_eq!(state["sequence_number"], newest);
    assert!(SENSORS.iter().any(|(id, _, _)| state["sensor_id"] == *id));
    assert!(state["drone_distance_m"].as_f64().unwrap() > 0.0);
    for (id, _, _) in SENSORS {
        let s: Value = serde_json::from_str(
            &retained(port, &format!("site/sensors/{id}/status"), &[]).unwrap(),
        )
        .unwrap();
        assert_eq!(s["status"], "offline");
    }

    // CoT: one drone uid from all three sensors, each naming itself in the remarks.
    tak.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 65536];
    let mut drone_uids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut events = 0;
    while let Ok(n) = tak.recv(&mut buf) {
        events += 1;
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        let doc = roxmltree::Document::parse(text).unwrap();
        let ev = doc.root_element();
        if ev.attribute("type") != Some("a-u-A-M-H-Q") {
            continue;
        }
        let remarks = ev
            .descendants()
            .find(|n| n.has_tag_name("remarks"))
            .unwrap();
        let remarks = remarks.text().unwrap();
        let sensor = SENSORS
            .iter()
            .find(|(id, _, _)| remarks.contains(&format!("sensor {id}")));
        drone_uids
            .entry(sensor.expect("sensor in remarks").0.to_string())
            .or_default()
            .insert(ev.attribute("uid").unwrap().to_string());
    }
    assert_eq!(
        events,
        3 * 18,
        "drone, pilot and home for every frame of every sensor"
    );
    assert_eq!(drone_uids.len(), 3);
    for uids in drone_uids.values() {
        assert_eq!(uids, &BTreeSet::from([format!("droneid-{serial}")]));
    }

    // A sensor that dies (SIGKILL, no DISCONNECT) is marked offline by the broker's last will.
    let mut c = live("west", "52.5,13.39", &files[0], &mqtt, &cot, true)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        let s = retained(port, "site/sensors/west/status", &[]).unwrap_or_default();
        if s.contains("\"online\"") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "west never came online: {s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    c.kill().unwrap();
    c.wait().unwrap();
    let t = Instant::now();
    loop {
        let s = retained(port, "site/sensors/west/status", &[]).unwrap_or_default();
        if s.contains("\"offline\"") {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no last will: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
