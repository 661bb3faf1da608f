//! The MQTT publisher against a real broker: each test starts its own `mosquitto` on a free
//! loopback port (plain, or TLS with a password file and certificates made by the test) and
//! reads with `mosquitto_sub` (`scripts/setup.sh` installs mosquitto, mosquitto-clients and
//! openssl; the tests fail without them).

mod common;
mod support;

use std::time::{Duration, Instant};

use droneid_outputs::{
    state_json, FrameSink, MqttConfig, MqttPublisher, OutputError, Sensor, SensorPosition, TlsFiles,
};
use droneid_tracks::TrackBuilder;
use serde_json::Value;
use support::{client_args, free_port, retained, Broker, BrokerConfig, Pki, Subscriber};

fn config(url: &str, prefix: &str, bound: usize) -> MqttConfig {
    let mut c = MqttConfig::new(url, prefix);
    c.queue_bound = bound;
    c
}

/// Messages a frame makes: its JSON, and the retained state of telemetry.
fn messages_of(f: &droneid_receiver::Frame) -> u64 {
    1 + u64::from(state_json(&f.to_json()).is_some())
}

#[test]
fn frames_state_and_status_reach_a_subscriber() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _broker = Broker::start(port, dir.path());
    let sub = Subscriber::start(port, "test/droneid/#");
    let mut cfg = config(&format!("mqtt://127.0.0.1:{port}"), "test/droneid/", 1000);
    cfg.sensor = Sensor {
        id: Some("north-1".into()),
        position: Some(SensorPosition::parse("52.5,13.4,40").unwrap()),
    };
    let mut p = MqttPublisher::connect(&cfg).unwrap();
    let mut builder = TrackBuilder::new();
    for f in &frames {
        builder.push(f);
        p.frame(f).unwrap();
    }
    let tracks = builder.finish();
    p.finish(&tracks).unwrap();
    // Frames, states, one summary per drone, the sensor's "online" and "offline".
    let expected: u64 =
        frames.iter().map(messages_of).sum::<u64>() + tracks.drones.len() as u64 + 2;
    let stats = p.stats();
    assert_eq!(stats.published, expected, "{stats:?}");
    assert_eq!((stats.sent, stats.acked), (expected, expected), "{stats:?}");
    assert_eq!((stats.dropped, stats.unsent, stats.reconnects), (0, 0, 0));

    let got = sub.take(expected as usize, Duration::from_secs(20));
    let frame_msgs: Vec<Value> = got
        .iter()
        .filter(|(t, _)| t == "test/droneid/frames")
        .map(|(_, p)| serde_json::from_str(p).unwrap())
        .collect();
    assert_eq!(frame_msgs.len(), frames.len());
    for (m, f) in frame_msgs.iter().zip(&frames) {
        assert_eq!(m["start_sample"], f.start_sample);
        assert_eq!(m["serial_number"], f.serial_number().unwrap());
        assert_eq!(m["block_hex"], droneid_payload::to_hex(&f.block));
        assert_eq!(m["sensor_id"], "north-1");
        if m["msg_type"] == 0x10 {
            assert!(m["drone_distance_m"].as_f64().unwrap() > 0.0, "{m}");
            assert!((0.0..360.0).contains(&m["drone_bearing_deg"].as_f64().unwrap()));
        }
    }
    for d in &tracks.drones {
        let states: Vec<Value> = got
            .iter()
            .filter(|(t, _)| *t == format!("test/droneid/drones/{}/state", d.serial_number))
            .map(|(_, p)| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(states.len(), d.points.len());
        for (v, pt) in states.iter().zip(&d.points) {
            assert_eq!(v["drone_lat_deg"], pt.lat_deg);
            assert_eq!(v["sequence_number"], pt.sequence_number);
            assert_eq!(v["sensor_id"], "north-1");
            assert_eq!(v["drone"], d.serial_number.as_str());
        }
        // Retained: a subscriber that comes later gets the newest state.
        let last: Value = serde_json::from_str(
            &retained(
                port,
                &format!("test/droneid/drones/{}/state", d.serial_number),
                &[],
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            last["sequence_number"],
            d.points.last().unwrap().sequence_number
        );
        let summary = got
            .iter()
            .find(|(t, _)| *t == format!("test/droneid/drones/{}/summary", d.serial_number))
            .expect("summary");
        let v: Value = serde_json::from_str(&summary.1).unwrap();
        assert_eq!(v["telemetry_frames"], d.telemetry_frames);
    }
    let statuses: Vec<Value> = got
        .iter()
        .filter(|(t, _)| t == "test/droneid/sensors/north-1/status")
        .map(|(_, p)| serde_json::from_str(p).unwrap())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert_eq!(statuses[0]["status"], "online");
    assert_eq!(statuses[0]["position"]["lat_deg"], 52.5);
    assert_eq!(statuses[1]["status"], "offline");
    let st: Value =
        serde_json::from_str(&retained(port, "test/droneid/sensors/north-1/status", &[]).unwrap())
            .unwrap();
    assert_eq!(st["status"], "offline");
}

/// The broker goes away mid-run: messages queue, the publisher reconnects with back-off when
/// it is back, and everything queued is delivered.
#[test]
fn reconnects_after_broker_restart() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = Broker::start(port, dir.path());
    let sub = Subscriber::start(port, "rc/frames");
    let mut p =
        MqttPublisher::connect(&config(&format!("mqtt://127.0.0.1:{port}"), "rc", 100)).unwrap();
    let (first, second) = frames.split_at(4);
    for f in first {
        // Telemetry also goes to drones/…/state, which this subscriber ignores.
        p.frame(f).unwrap();
    }
    assert_eq!(
        sub.take(first.len(), Duration::from_secs(10)).len(),
        first.len()
    );
    broker.stop();
    for f in second {
        let t = Instant::now();
        p.frame(f).unwrap();
        assert!(t.elapsed() < Duration::from_millis(50), "frame() blocked");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(!p.stats().connected);
    let _broker = Broker::start(port, dir.path());
    let t = Instant::now();
    while p.stats().acked < p.stats().published && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(p.stats().acked >= p.stats().published, "{:?}", p.stats());
    let log = std::fs::read_to_string(dir.path().join("broker.log")).unwrap_or_default();
    // QoS 1 is "at least once": a message in flight when the broker went away may arrive
    // twice, and in any order relative to the rest. Every one of `second` must arrive, and
    // nothing that was never published.
    let published: std::collections::HashSet<i64> = frames.iter().map(|f| f.start_sample).collect();
    let mut missing: std::collections::HashSet<i64> =
        second.iter().map(|f| f.start_sample).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !missing.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let got = sub.take_or(1, left, &log);
        let v: Value = serde_json::from_str(&got[0].1).unwrap();
        let start = v["start_sample"].as_i64().unwrap();
        assert!(published.contains(&start), "never published: {start}");
        missing.remove(&start);
    }
    let s = p.shutdown(Duration::from_secs(5));
    assert!(s.reconnects >= 1, "{s:?}");
    assert_eq!((s.dropped, s.unsent), (0, 0), "{s:?}");
}

/// No broker at all: the URL is accepted, publishing never blocks, and once the queue is full
/// every further message is counted as dropped, exactly.
#[test]
fn no_broker_never_blocks_and_counts_drops() {
    let frames = common::frames();
    let port = free_port();
    let bound = 10;
    let mut p =
        MqttPublisher::connect(&config(&format!("mqtt://127.0.0.1:{port}"), "nb", bound)).unwrap();
    let t = Instant::now();
    let mut accepted = 0;
    for i in 0..1000 {
        if p.publish("nb/x", format!("{i}").as_bytes()) {
            accepted += 1;
        }
    }
    for f in &frames {
        p.frame(f).unwrap();
    }
    let elapsed = t.elapsed();
    assert!(
        elapsed < Duration::from_millis(500),
        "publishing took {elapsed:?}"
    );
    let extra: u64 = frames.iter().map(messages_of).sum();
    assert_eq!(accepted, bound);
    let s = p.stats();
    assert_eq!(s.published, 1000 + extra);
    assert_eq!(s.dropped, 1000 + extra - bound as u64);
    assert_eq!((s.queued, s.sent, s.acked), (bound as u64, 0, 0));
    assert!(!s.connected);
    let s = p.shutdown(Duration::from_millis(100));
    assert_eq!(s.unsent, bound as u64);
    assert!(s.connect_failures >= 1);
    assert!(p.summary().contains("refused"), "{}", p.summary());
}

#[test]
fn bad_urls_are_errors_but_a_dead_broker_is_not() {
    for url in ["localhost", "http://h:8883", "mqtt://:1883", "mqtt://h:x"] {
        let e = MqttPublisher::connect(&config(url, "p", 10)).unwrap_err();
        assert!(e.to_string().contains(url), "{e}");
    }
    let e = MqttPublisher::connect(&config("mqtt://u:hunter2@h:x", "p", 10)).unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(MqttPublisher::connect(&config("mqtt://127.0.0.1:1", "p/#", 10)).is_err());
    let mut c = config("mqtt://127.0.0.1:1", "p", 10);
    c.tls.ca = Some("ca.pem".into());
    assert!(MqttPublisher::connect(&c)
        .unwrap_err()
        .to_string()
        .contains("mqtts://"));
    let mut c = config("mqtt://127.0.0.1:1", "p", 10);
    c.password = Some("x".into());
    assert!(
        MqttPublisher::connect(&c).is_err(),
        "a password without a user"
    );
    assert!(MqttPublisher::connect(&config("mqtt://127.0.0.1:1", "p", 10)).is_ok());
}

/// TLS with a CA and a password file: frames arrive; a wrong password, no password, a
/// wrong CA and an unreadable CA file are errors at connect, each one line without the
/// password.
#[test]
fn tls_and_password_against_mosquitto() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let other = Pki::new(&dir.path().join("other"));
    let bdir = dir.path().join("broker");
    std::fs::create_dir_all(&bdir).unwrap();
    let port = free_port();
    let _broker = Broker::start_with(
        port,
        &bdir,
        &BrokerConfig {
            tls: Some(&pki),
            users: &[("sensor", "c0rrect-horse")],
        },
    );
    let extra = client_args(Some(&pki), Some(("sensor", "c0rrect-horse")));
    let sub = Subscriber::start_with(port, &["tls/frames"], &extra);
    let url = format!("mqtts://127.0.0.1:{port}");
    let with = |user: Option<&str>, pw: Option<&str>, ca: &std::path::Path| {
        let mut c = config(&url, "tls", 100);
        c.username = user.map(str::to_string);
        c.password = pw.map(str::to_string);
        c.tls = TlsFiles {
            ca: Some(ca.to_path_buf()),
            ..TlsFiles::default()
        };
        c
    };
    let mut p = MqttPublisher::connect(&with(
        Some("sensor"),
        Some("c0rrect-horse"),
        &pki.path("ca.pem"),
    ))
    .unwrap();
    for f in &frames {
        p.frame(f).unwrap();
    }
    let got = sub.take(frames.len(), Duration::from_secs(20));
    assert!(got.iter().all(|(t, _)| t == "tls/frames"));
    let s = p.shutdown(Duration::from_secs(5));
    assert_eq!((s.dropped, s.unsent), (0, 0), "{s:?}");

    let refused = |c: MqttConfig, want: &str| {
        let t = Instant::now();
        let e = MqttPublisher::connect(&c).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, OutputError::MqttConnect { .. } | OutputError::Tls(_)),
            "{e:?}"
        );
        assert!(text.contains(want), "{text}");
        assert!(
            !text.contains("wr0ng") && !text.contains("c0rrect") && !text.contains('\n'),
            "{text}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "took {:?}",
            t.elapsed()
        );
    };
    refused(
        with(Some("sensor"), Some("wr0ng"), &pki.path("ca.pem")),
        "refused",
    );
    refused(with(None, None, &pki.path("ca.pem")), "refused");
    refused(
        with(Some("sensor"), Some("c0rrect-horse"), &other.path("ca.pem")),
        "certificate",
    );
    refused(
        with(
            Some("sensor"),
            Some("c0rrect-horse"),
            &dir.path().join("missing.pem"),
        ),
        "--mqtt-ca",
    );
}
