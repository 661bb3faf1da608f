//! CoT events: their XML checked with a real XML parser (roxmltree) and with takproto, the TAK
//! ecosystem's converter (`scripts/setup.sh` installs it into `target/pyenv`); sent over UDP,
//! TCP and TLS with a client certificate (an `openssl s_server` that demands one), and to a
//! TAK server that is not there (counted, never blocking, an error at the end).

mod common;
mod support;

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use droneid_outputs::{
    cot_events, CotConfig, CotSender, FrameSink, OutputError, Sensor, SensorPosition, TlsFiles,
    ENCRYPTED_CE_M,
};
use droneid_tracks::TrackBuilder;
use serde_json::{Map, Value};
use support::{free_port, Pki};

fn sensor() -> Sensor {
    Sensor {
        id: Some("north-1".into()),
        position: Some(SensorPosition::parse("52.5,13.4,40").unwrap()),
    }
}

fn json_of(f: &droneid_receiver::Frame, s: &Sensor) -> Map<String, Value> {
    let mut m = f.to_json();
    s.annotate(&mut m);
    m
}

/// One parsed event: (uid, type, attributes of event, point, detail children).
struct Ev {
    uid: String,
    kind: String,
    how: String,
    time: String,
    start: String,
    stale: String,
    point: [f64; 5],
    callsign: Option<String>,
    track: Option<(f64, f64)>,
    remarks: String,
}

fn parse(xml: &str) -> Ev {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let ev = doc.root_element();
    assert_eq!(ev.tag_name().name(), "event");
    assert_eq!(ev.attribute("version"), Some("2.0"));
    let a = |n: roxmltree::Node, k: &str| {
        n.attribute(k)
            .unwrap_or_else(|| panic!("{k}: {xml}"))
            .to_string()
    };
    let point = ev
        .children()
        .find(|n| n.has_tag_name("point"))
        .expect("point");
    let p = |k: &str| a(point, k).parse::<f64>().unwrap();
    let detail = ev
        .children()
        .find(|n| n.has_tag_name("detail"))
        .expect("detail");
    let child = |name: &str| detail.children().find(|n| n.has_tag_name(name));
    Ev {
        uid: a(ev, "uid"),
        kind: a(ev, "type"),
        how: a(ev, "how"),
        time: a(ev, "time"),
        start: a(ev, "start"),
        stale: a(ev, "stale"),
        point: [p("lat"), p("lon"), p("hae"), p("ce"), p("le")],
        callsign: child("contact").map(|c| a(c, "callsign")),
        track: child("track").map(|t| {
            (
                a(t, "course").parse().unwrap(),
                a(t, "speed").parse().unwrap(),
            )
        }),
        remarks: child("remarks")
            .and_then(|r| r.text())
            .unwrap_or("")
            .to_string(),
    }
}

#[test]
fn events_carry_the_schema_fields() {
    let frames = common::frames();
    let s = sensor();
    let now = UNIX_EPOCH + Duration::from_millis(1_764_750_600_123);
    let mut drones = 0;
    for f in &frames {
        let json = json_of(f, &s);
        let events = cot_events(&json, &s, now, 60.0);
        if json["msg_type"] != 0x10 {
            assert!(events.is_empty(), "identity frames have no position");
            continue;
        }
        let serial = json["serial_number"].as_str().unwrap();
        assert_eq!(events.len(), 3, "drone, pilot and home");
        for e in &events {
            assert!(e.ends_with('\n') && e.matches('\n').count() == 1);
        }
        let d = parse(&events[0]);
        drones += 1;
        assert_eq!(d.uid, format!("droneid-{serial}"));
        assert_eq!(d.kind, "a-u-A-M-H-Q");
        assert_eq!(d.how, "m-g");
        assert_eq!(
            (d.time.as_str(), d.start.as_str()),
            ("2025-12-03T08:30:00.123Z", "2025-12-03T08:30:00.123Z")
        );
        assert_eq!(d.stale, "2025-12-03T08:31:00.123Z");
        assert!((d.point[0] - json["drone_lat_deg"].as_f64().unwrap()).abs() < 1e-6);
        assert!((d.point[1] - json["drone_lon_deg"].as_f64().unwrap()).abs() < 1e-6);
        assert_eq!(d.point[2], json["altitude_raw"].as_f64().unwrap());
        assert_eq!((d.point[3], d.point[4]), (10.0, 20.0));
        let callsign = d.callsign.unwrap();
        assert!(callsign.contains(serial), "{callsign}");
        let (course, speed) = d.track.unwrap();
        let (vn, ve) = (
            json["v_north_mps"].as_f64().unwrap(),
            json["v_east_mps"].as_f64().unwrap(),
        );
        assert!((speed - vn.hypot(ve)).abs() < 0.01);
        assert!((course - droneid_outputs::course_deg(vn, ve)).abs() < 0.06);
        for needle in [
            serial,
            "north-1",
            "SNR",
            "MHz",
            json["product_name"].as_str().unwrap(),
        ] {
            assert!(d.remarks.contains(needle), "{needle} not in {}", d.remarks);
        }
        let pilot = parse(&events[1]);
        assert_eq!(pilot.uid, format!("droneid-{serial}-pilot"));
        assert!((pilot.point[0] - json["app_lat_deg"].as_f64().unwrap()).abs() < 1e-6);
        let home = parse(&events[2]);
        assert_eq!(home.uid, format!("droneid-{serial}-home"));
        assert!((home.point[1] - json["home_lon_deg"].as_f64().unwrap()).abs() < 1e-6);
        // The uids depend on the serial only: another sensor names the drone the same way.
        let other = Sensor {
            id: Some("south-2".into()),
            position: None,
        };
        let e2 = cot_events(&json_of(f, &other), &other, SystemTime::now(), 30.0);
        assert_eq!(parse(&e2[0]).uid, d.uid);
        assert!(parse(&e2[0]).remarks.contains("south-2"));
    }
    assert!(drones > 0);
}

#[test]
fn no_fix_means_no_drone_point_and_encrypted_drones_are_alerts_at_the_sensor() {
    let frames = common::frames();
    let s = sensor();
    let f = frames
        .iter()
        .find(|f| f.to_json()["msg_type"] == 0x10)
        .unwrap();
    let mut json = json_of(f, &s);
    json.insert("drone_lat_deg".into(), 0.0.into());
    json.insert("drone_lon_deg".into(), 0.0.into());
    let events = cot_events(&json, &s, SystemTime::now(), 60.0);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| !parse(e)
        .uid
        .ends_with(&json["serial_number"].as_str().unwrap().to_string())));

    let mut enc = Map::new();
    for (k, v) in [
        ("crc24_ok", Value::Bool(true)),
        ("encrypted", Value::Bool(true)),
        ("packet_marker", "CRYP".into()),
        ("session_id", "0a1b2c3d".into()),
        ("snr_db", 7.5.into()),
        ("center_freq_hz", 2.4145e9.into()),
    ] {
        enc.insert(k.into(), v);
    }
    let e = cot_events(&enc, &s, SystemTime::now(), 60.0);
    assert_eq!(e.len(), 1);
    let a = parse(&e[0]);
    assert_eq!(a.uid, "droneid-session-0a1b2c3d");
    assert_eq!(a.kind, "b-a-o-opn");
    assert_eq!(&a.point[..4], &[52.5, 13.4, 40.0, ENCRYPTED_CE_M]);
    assert!(
        a.remarks.contains("0a1b2c3d")
            && a.remarks.contains("CRYP")
            && a.remarks.contains("north-1")
    );
    // Without a sensor position an encrypted drone cannot be placed.
    assert!(cot_events(&enc, &Sensor::default(), SystemTime::now(), 60.0).is_empty());
    // Hostile text is escaped.
    let mut h = json.clone();
    h.insert("serial_number".into(), "<x&\"'>".into());
    for e in cot_events(&h, &s, SystemTime::now(), 60.0) {
        assert!(parse(&e).remarks.contains("<x&\"'>"));
    }
}

/// The python with takproto: `target/pyenv` (made by scripts/setup.sh), else `python3`.
fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python3");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

#[test]
fn takproto_reads_the_events() {
    let frames = common::frames();
    let s = sensor();
    let now = SystemTime::now();
    let mut input = String::new();
    let mut expect = Vec::new();
    for f in &frames {
        for e in cot_events(&json_of(f, &s), &s, now, 60.0) {
            expect.push(parse(&e));
            input.push_str(&e);
        }
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tak/check_cot.py");
    let child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("\n*** SKIPPED takproto check: no python3 (run scripts/setup.sh) ***\n");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        eprintln!(
            "\n*** SKIPPED takproto check: takproto not installed (run scripts/setup.sh) ***\n"
        );
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), expect.len());
    for (g, e) in got.iter().zip(&expect) {
        assert_eq!(g["uid"], e.uid.as_str());
        assert_eq!(g["type"], e.kind.as_str());
        assert_eq!(g["how"], "m-g");
        assert!((g["lat"].as_f64().unwrap() - e.point[0]).abs() < 1e-9);
        assert!((g["lon"].as_f64().unwrap() - e.point[1]).abs() < 1e-9);
        assert_eq!(g["ce"].as_f64().unwrap(), e.point[3]);
        assert_eq!(
            g["stale_ms"].as_i64().unwrap() - g["start_ms"].as_i64().unwrap(),
            60_000
        );
        assert_eq!(g["callsign"], e.callsign.clone().unwrap().as_str());
        if let Some((c, sp)) = e.track {
            assert!((g["course"].as_f64().unwrap() - c).abs() < 1e-9);
            assert!((g["speed"].as_f64().unwrap() - sp).abs() < 1e-9);
        }
        assert!(g["xml_detail"].as_str().unwrap().contains("<remarks>"));
    }
}

/// Feeds the frames through a sender; returns it finished.
fn run_sender(cfg: &CotConfig) -> (CotSender, Result<(), OutputError>, usize) {
    let frames = common::frames();
    let mut c = CotSender::open(cfg).unwrap();
    let mut b = TrackBuilder::new();
    let mut n = 0;
    for f in &frames {
        b.push(f);
        n += cot_events(
            &json_of(f, &cfg.sensor),
            &cfg.sensor,
            SystemTime::now(),
            60.0,
        )
        .len();
        let t = Instant::now();
        c.frame_json(f, &json_of(f, &cfg.sensor)).unwrap();
        assert!(t.elapsed() < Duration::from_millis(50), "frame() blocked");
    }
    let r = c.finish(&b.finish());
    (c, r, n)
}

#[test]
fn udp_and_tcp_deliver_every_event() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut cfg = CotConfig::new(&format!(
        "udp://127.0.0.1:{}",
        sock.local_addr().unwrap().port()
    ));
    cfg.sensor = sensor();
    let (c, r, n) = run_sender(&cfg);
    r.unwrap();
    assert_eq!(c.stats().sent as usize, n);
    let mut buf = [0u8; 65536];
    for _ in 0..n {
        let len = sock.recv(&mut buf).unwrap();
        parse(std::str::from_utf8(&buf[..len]).unwrap());
    }

    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    });
    let mut cfg = CotConfig::new(&format!("tcp://127.0.0.1:{port}"));
    cfg.sensor = sensor();
    let (c, r, n) = run_sender(&cfg);
    r.unwrap();
    drop(c);
    let text = reader.join().unwrap();
    assert_eq!(text.lines().count(), n);
    text.lines().for_each(|l| {
        parse(l);
    });
}

#[test]
fn tls_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let port = free_port();
    // A TLS server that demands a client certificate from our CA and prints what it gets.
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-Verify", "1", "-verify_return_error"])
        .args(["-accept", &port.to_string()])
        .arg("-cert")
        .arg(pki.path("server.pem"))
        .arg("-key")
        .arg(pki.path("server.key"))
        .arg("-CAfile")
        .arg(pki.path("ca.pem"))
        // s_server ends the session at EOF on its stdin: keep a pipe open.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl");
    let _stdin = server.stdin.take();
    let stdout = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut cfg = CotConfig::new(&format!("tls://127.0.0.1:{port}"));
    cfg.sensor = sensor();
    cfg.tls = TlsFiles {
        ca: Some(pki.path("ca.pem")),
        cert: Some(pki.path("client.pem")),
        key: Some(pki.path("client.key")),
    };
    let (c, r, n) = run_sender(&cfg);
    r.unwrap();
    assert_eq!(c.stats().sent as usize, n, "{}", c.stats());
    drop(c);
    let mut events = Vec::new();
    while events.len() < n {
        let l = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("only {} of {n} events arrived", events.len()));
        if l.starts_with("<?xml") {
            parse(&l);
            events.push(l);
        }
    }
    let _ = server.kill();
    let _ = server.wait();

    // Unreadable files are configuration errors naming the flag.
    let mut bad = cfg.clone();
    bad.tls.cert = Some(dir.path().join("missing.pem"));
    let e = CotSender::open(&bad).unwrap_err().to_string();
    assert!(e.contains("--cot-cert") && e.contains("missing.pem"), "{e}");
    let mut bad = cfg.clone();
    bad.tls.key = None;
    assert!(CotSender::open(&bad)
        .unwrap_err()
        .to_string()
        .contains("--cot-key"));
}

#[test]
fn an_unreachable_tak_server_is_counted_never_blocks_and_fails_at_the_end() {
    let mut cfg = CotConfig::new(&format!("tcp://127.0.0.1:{}", free_port()));
    cfg.sensor = sensor();
    cfg.queue_bound = 4;
    let (c, r, n) = run_sender(&cfg);
    let s = c.stats();
    assert!(s.connect_failures >= 1, "{s}");
    assert_eq!(s.sent, 0);
    assert_eq!(s.events as usize, n);
    assert_eq!(s.dropped + s.unsent, s.events, "{s}");
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("not delivered") && e.contains("failed connection"),
        "{e}"
    );
    for bad in ["http://h:1", "udp://h:0", "tcp://h:1/x"] {
        assert!(CotSender::open(&CotConfig::new(bad)).is_err(), "{bad}");
    }
    let mut m = CotConfig::new("udp://239.2.3.1:6969");
    m.tls.ca = Some("ca.pem".into());
    assert!(CotSender::open(&m)
        .unwrap_err()
        .to_string()
        .contains("tls://"));
    assert!(CotSender::open(&CotConfig::new("udp://239.2.3.1:6969")).is_ok());
}
