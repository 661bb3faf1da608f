//! The operators' outputs through the `droneid` binary: sensor identity on every line, CoT to
//! a UDP listener and to a TAK server that is not there, MQTT over TLS with a password against
//! a real mosquitto (and the exit-2 refusals), `live` with every output, SoapySDR's log routed.
//! The brokers, certificates and listeners are made by the tests (`scripts/setup.sh` installs
//! mosquitto, mosquitto-clients, openssl and builds the replay device).

#[path = "../../outputs/tests/support/mod.rs"]
mod support;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use support::{client_args, free_port, retained, Broker, BrokerConfig, Pki, Subscriber};

const BIN: &str = env!("CARGO_BIN_EXE_droneid");

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

fn droneid(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("SOAPY_SDR_PLUGIN_PATH", plugin_dir())
        .env_remove("DRONEID_MQTT_PASSWORD");
    c
}

/// 0.6 s at 15.36 MS/s, one drone, a burst every 100 ms (6 telemetry frames), 10 dB.
fn capture() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("operators");
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("scene-31");
        if !base.with_extension("sigmf-meta").exists() {
            let out = droneid(&["synth", "--output", base.to_str().unwrap()])
                .args([
                    "--sample-rate",
                    "15.36M",
                    "--interval-ms",
                    "100",
                    "--duration-s",
                    "0.6",
                ])
                .args(["--snr-db", "10", "--seed", "31", "--center-freq", "2414.5M"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        base.with_extension("sigmf-meta")
    })
    .clone()
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Exit 2, nothing on stdout, one line on stderr containing every `needle`.
fn usage_error(o: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err}");
    }
    err
}

#[test]
fn sensor_identity_on_every_line_and_bad_values_are_usage_errors() {
    let cap = capture();
    let cap = cap.to_str().unwrap();
    let o = droneid(&[
        "decode",
        cap,
        "-q",
        "--sensor-id",
        "mast-3",
        "--sensor-position",
        "52.51,13.39,35",
    ])
    .output()
    .unwrap();
    assert!(o.status.success());
    let v = lines(&o);
    assert_eq!(v.len(), 6);
    for l in &v {
        assert_eq!(l["sensor_id"], "mast-3");
        let (d, b) = droneid_outputs::distance_bearing(
            52.51,
            13.39,
            l["drone_lat_deg"].as_f64().unwrap(),
            l["drone_lon_deg"].as_f64().unwrap(),
        );
        assert!((l["drone_distance_m"].as_f64().unwrap() - d).abs() <= 0.05 + 1e-9);
        assert!((l["drone_bearing_deg"].as_f64().unwrap() - b).abs() <= 0.05 + 1e-9);
        assert!(l["pilot_distance_m"].as_f64().unwrap() > 0.0);
    }
    // Without the flags, no sensor keys.
    let plain = lines(&droneid(&["decode", cap, "-q"]).output().unwrap());
    assert!(plain
        .iter()
        .all(|l| l.get("sensor_id").is_none() && l.get("drone_distance_m").is_none()));

    for (flags, needle) in [
        (vec!["--sensor-position", "91,0"], "latitude"),
        (vec!["--sensor-position=-90.1,0"], "latitude"),
        (vec!["--sensor-position", "0,180.5"], "longitude"),
        (vec!["--sensor-position", "nan,1"], "finite"),
        (vec!["--sensor-position", "1"], "LAT,LON"),
        (vec!["--sensor-id", "a/b"], "--sensor-id"),
        (vec!["--cot", "http://tak:1"], "unknown scheme"),
        (vec!["--mqtt", "ftp://broker"], "mqtt://"),
        (
            vec![
                "--cot",
                "tls://127.0.0.1:1",
                "--cot-cert",
                "/nonexistent/c.pem",
                "--cot-key",
                "/nonexistent/k.pem",
            ],
            "--cot-cert",
        ),
        (vec!["--mqtt-ca", "ca.pem"], "need --mqtt"),
    ] {
        let mut args = vec!["decode", cap];
        args.extend(flags);
        usage_error(&droneid(&args).output().unwrap(), &[needle]);
        // live checks the same flags before streaming.
        let dev = format!("driver=replay,file={cap}");
        let mut largs = vec!["live", "--device", &dev];
        largs.extend(args[2..].iter().copied());
        usage_error(&droneid(&largs).output().unwrap(), &[needle]);
    }
}

fn recv_events(sock: &UdpSocket, quiet: Duration) -> Vec<String> {
    sock.set_read_timeout(Some(quiet)).unwrap();
    let mut buf = [0u8; 65536];
    let mut v = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        v.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    v
}

#[test]
fn cot_from_decode_and_an_unreachable_tak_server() {
    let cap = capture();
    let cap = cap.to_str().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("udp://127.0.0.1:{}", sock.local_addr().unwrap().port());
    let o = droneid(&["decode", cap, "--sensor-id", "mast-3", "--cot", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let frames = lines(&o);
    let events = recv_events(&sock, Duration::from_millis(500));
    // Drone, pilot and home per telemetry frame.
    assert_eq!(events.len(), 3 * frames.len());
    let serial = frames[0]["serial_number"].as_str().unwrap();
    for e in &events {
        let doc = roxmltree::Document::parse(e).unwrap();
        let ev = doc.root_element();
        assert!(ev
            .attribute("uid")
            .unwrap()
            .starts_with(&format!("droneid-{serial}")));
        assert_eq!(ev.attribute("how"), Some("m-g"));
        let remarks = ev
            .descendants()
            .find(|n| n.has_tag_name("remarks"))
            .unwrap();
        assert!(remarks.text().unwrap().contains("mast-3"));
    }
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "cot: {} events, {} sent",
            events.len(),
            events.len()
        )),
        "{err}"
    );

    // Nobody listens: decoding goes on, every frame is printed, the failures are counted and
    // the run ends with exit 1 naming what was lost.
    let url = format!("tcp://127.0.0.1:{}", free_port());
    let o = droneid(&["decode", cap, "--cot", &url]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(lines(&o).len(), frames.len());
    assert!(
        err.contains("not delivered") && err.contains("failed connection attempts"),
        "{err}"
    );
}

#[test]
fn mqtt_over_tls_with_a_password_and_the_refusals() {
    let cap = capture();
    let cap = cap.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let wrong_ca = Pki::new(&dir.path().join("wrong"));
    let bdir = dir.path().join("broker");
    std::fs::create_dir_all(&bdir).unwrap();
    let port = free_port();
    let _b = Broker::start_with(
        port,
        &bdir,
        &BrokerConfig {
            tls: Some(&pki),
            users: &[("mast-3", "Tr0ub4dor&3")],
        },
    );
    let extra = client_args(Some(&pki), Some(("mast-3", "Tr0ub4dor&3")));
    let sub = Subscriber::start_with(port, &["site/frames"], &extra);
    let url = format!("mqtts://127.0.0.1:{port}");
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();
    let o = droneid(&[
        "decode",
        cap,
        "--sensor-id",
        "mast-3",
        "--mqtt",
        &url,
        "--mqtt-topic",
        "site",
    ])
    .args(["--mqtt-user", "mast-3", "--mqtt-ca", ca])
    .env("DRONEID_MQTT_PASSWORD", "Tr0ub4dor&3")
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("Tr0ub4dor"));
    let frames = lines(&o);
    let got = sub.take(frames.len(), Duration::from_secs(10));
    for ((_, p), f) in got.iter().zip(&frames) {
        let v: Value = serde_json::from_str(p).unwrap();
        assert_eq!(&v, f, "the published frame is the printed line");
        assert_eq!(v["sensor_id"], "mast-3");
    }
    let serial = frames[0]["serial_number"].as_str().unwrap();
    let state: Value = serde_json::from_str(
        &retained(port, &format!("site/drones/{serial}/state"), &extra).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["sequence_number"],
        frames.last().unwrap()["sequence_number"]
    );
    let status: Value =
        serde_json::from_str(&retained(port, "site/sensors/mast-3/status", &extra).unwrap())
            .unwrap();
    assert_eq!(status["status"], "offline", "a clean exit says offline");

    // A wrong password (flag or environment), no password, a wrong CA: exit 2, one line,
    // before any frame, the password never shown.
    let base = ["decode", cap, "--mqtt", &url, "--mqtt-user", "mast-3"];
    let o = droneid(&base)
        .args(["--mqtt-ca", ca, "--mqtt-password", "hunter2"])
        .output()
        .unwrap();
    let e = usage_error(&o, &["--mqtt", "refused"]);
    assert!(!e.contains("hunter2"), "{e}");
    let o = droneid(&base)
        .args(["--mqtt-ca", ca])
        .env("DRONEID_MQTT_PASSWORD", "hunter2")
        .output()
        .unwrap();
    assert!(!usage_error(&o, &["refused"]).contains("hunter2"));
    usage_error(
        &droneid(&base).args(["--mqtt-ca", ca]).output().unwrap(),
        &["refused"],
    );
    let wrong = wrong_ca.path("ca.pem");
    let o = droneid(&base)
        .args([
            "--mqtt-ca",
            wrong.to_str().unwrap(),
            "--mqtt-password",
            "Tr0ub4dor&3",
        ])
        .output()
        .unwrap();
    let e = usage_error(&o, &["TLS", "certificate"]);
    assert!(!e.contains("Tr0ub4dor"), "{e}");
}

#[test]
fn live_has_every_output_and_routes_soapy_logging() {
    let cap = capture();
    let dir = tempfile::tempdir().unwrap();
    let bdir = dir.path().join("broker");
    std::fs::create_dir_all(&bdir).unwrap();
    let port = free_port();
    let _b = Broker::start(port, &bdir);
    let sub = Subscriber::start(port, "live/frames");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cot = format!("udp://127.0.0.1:{}", sock.local_addr().unwrap().port());
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let dev = format!("driver=replay,file={},paced=1", cap.display());
    let o = droneid(&[
        "live",
        "--device",
        &dev,
        "--center-freq",
        "2414.5M",
        "--buffer-ms",
        "1000",
    ])
    .args(["--sensor-id", "mast-3", "--status-interval", "0"])
    .args([
        "--output",
        &p("frames.jsonl"),
        "--geojson",
        &p("tracks.geojson"),
        "--hdf5",
        &p("run.h5"),
    ])
    .args([
        "--mqtt",
        &format!("mqtt://127.0.0.1:{port}"),
        "--mqtt-topic",
        "live",
        "--cot",
        &cot,
    ])
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    let frames: Vec<Value> = std::fs::read_to_string(p("frames.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(frames.len(), 6, "{err}");
    assert!(frames.iter().all(|f| f["sensor_id"] == "mast-3"));
    let gj: Value =
        serde_json::from_str(&std::fs::read_to_string(p("tracks.geojson")).unwrap()).unwrap();
    assert_eq!(gj["type"], "FeatureCollection");
    let h5 = Command::new("h5dump")
        .args(["-H", &p("run.h5")])
        .output()
        .unwrap();
    let header = String::from_utf8_lossy(&h5.stdout);
    assert!(h5.status.success() && header.contains("frames"));
    let attr = Command::new("h5dump")
        .args(["-a", "/sensor_id", &p("run.h5")])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&attr.stdout).contains("\"mast-3\""));
    assert_eq!(sub.take(6, Duration::from_secs(10)).len(), 6);
    assert_eq!(recv_events(&sock, Duration::from_millis(300)).len(), 18);
    assert!(
        err.contains("mqtt: ") && err.contains("cot: 18 events, 18 sent"),
        "{err}"
    );

    // A device that fails mid-stream logs through SoapySDR: the error is shown, prefixed,
    // without -v too.
    let dev = format!(
        "driver=replay,file={},paced=0,fail_after=2000000",
        cap.display()
    );
    let o = droneid(&["live", "--device", &dev, "-q"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("soapysdr: error: replay: device lost"),
        "{err}"
    );
    let o = droneid(&["devices", "-v"]).output().unwrap();
    assert!(o.status.success());
}

/// Encrypted records (spec §5.8) from the synthesiser: CoT makes an alert at the sensor named
/// by the session id, MQTT keys the drone's retained state by `session:<hex>`, and nothing
/// published for an encrypted frame carries a coordinate.
#[test]
fn encrypted_drones_are_alerts_and_session_states_without_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("records.json");
    std::fs::write(
        &rec,
        r#"[{"type": "cryp", "session_id": "1a2b3c4d", "seed": 1},
            {"type": "telemetry", "serial_number": "PLAIN00000000001", "sequence_number": 10,
             "drone_lat_deg": 52.52, "drone_lon_deg": 13.405},
            {"type": "infp", "session_id": "1a2b3c4d", "seed": 2}]"#,
    )
    .unwrap();
    let base = dir.path().join("enc");
    let o = droneid(&[
        "synth",
        "--output",
        base.to_str().unwrap(),
        "--sample-rate",
        "15.36M",
    ])
    .args([
        "--bursts",
        "3",
        "--interval-ms",
        "12",
        "--snr-db",
        "10",
        "--seed",
        "12",
    ])
    .arg("--record")
    .arg(&rec)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cap = base.with_extension("sigmf-meta");
    let bdir = dir.path().join("broker");
    std::fs::create_dir_all(&bdir).unwrap();
    let port = free_port();
    let _b = Broker::start(port, &bdir);
    let sub = Subscriber::start(port, "enc/#");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cot = format!("udp://127.0.0.1:{}", sock.local_addr().unwrap().port());
    let o = droneid(&["decode", cap.to_str().unwrap(), "--sensor-id", "mast-3"])
        .args(["--sensor-position", "52.50,13.40,30", "--cot", &cot])
        .args([
            "--mqtt",
            &format!("mqtt://127.0.0.1:{port}"),
            "--mqtt-topic",
            "enc",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let frames = lines(&o);
    assert_eq!(frames.len(), 3);
    let coord = |k: &str| k.contains("lat") || k.contains("lon") || k.contains("distance");
    for f in frames.iter().filter(|f| f["encrypted"] == true) {
        assert!(!f.as_object().unwrap().keys().any(|k| coord(k)), "{f}");
    }
    // CoT: the plaintext drone's three events and one alert per encrypted frame.
    let events = recv_events(&sock, Duration::from_millis(500));
    let alerts: Vec<_> = events
        .iter()
        .filter(|e| e.contains("droneid-session-"))
        .collect();
    assert_eq!(alerts.len(), 2);
    assert_eq!(events.len(), 3 + 2);
    for a in alerts {
        let doc = roxmltree::Document::parse(a).unwrap();
        let ev = doc.root_element();
        assert_eq!(ev.attribute("uid"), Some("droneid-session-1a2b3c4d"));
        let p = ev.children().find(|n| n.has_tag_name("point")).unwrap();
        assert_eq!(
            (p.attribute("lat"), p.attribute("lon"), p.attribute("ce")),
            (Some("52.5000000"), Some("13.4000000"), Some("5000.0"))
        );
        let r = ev
            .descendants()
            .find(|n| n.has_tag_name("remarks"))
            .unwrap();
        assert!(r.text().unwrap().contains("1a2b3c4d"));
    }
    // MQTT: frames as printed, a retained state per session without coordinates.
    let got = sub.drain(Duration::from_millis(500));
    for (t, p) in &got {
        let v: Value = serde_json::from_str(p).unwrap();
        if v["encrypted"] == true {
            assert!(!v.as_object().unwrap().keys().any(|k| coord(k)), "{t} {v}");
        }
    }
    let state: Value =
        serde_json::from_str(&retained(port, "enc/drones/session:1a2b3c4d/state", &[]).unwrap())
            .unwrap();
    assert_eq!(state["session_id"], "1a2b3c4d");
    assert_eq!(state["encrypted"], true);
    assert_eq!(state["sensor_id"], "mast-3");
    assert!(
        !state.as_object().unwrap().keys().any(|k| coord(k)),
        "{state}"
    );
}
