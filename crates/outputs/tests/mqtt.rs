//! The MQTT publisher against a real broker: each test starts its own `mosquitto` on a free
//! loopback port and reads with `mosquitto_sub` (both must be installed: `scripts/setup.sh`
//! installs mosquitto and mosquitto-clients; the tests fail without them).

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use droneid_outputs::{FrameSink, MqttPublisher};
use droneid_tracks::TrackBuilder;
use serde_json::Value;

/// A loopback port nobody listens on (just released by the OS).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `mosquitto` from PATH, or from the sbin directories Debian puts it in.
fn mosquitto_bin() -> PathBuf {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .expect("mosquitto must be installed (Debian package mosquitto, see scripts/setup.sh)")
}

/// A broker on `port`, persisting sessions in `dir` (so a restart keeps the subscriber's
/// persistent session and its queued messages). Killed on drop.
struct Broker(Child);

impl Broker {
    fn start(port: u16, dir: &Path) -> Broker {
        // Started as root, mosquitto drops to its own user: let it write its database and log.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
                 persistence_location {}/\nlog_dest file {}/broker.log\nlog_type all\n",
                dir.display(),
                dir.display()
            ),
        )
        .unwrap();
        let child = Command::new(mosquitto_bin())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "mosquitto did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker(child)
    }

    /// Stops the broker (SIGTERM so that it saves its sessions; then waits).
    fn stop(mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let t = Instant::now();
        while self.0.try_wait().unwrap().is_none() {
            if t.elapsed() > Duration::from_secs(5) {
                let _ = self.0.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mosquitto_sub -v` on `topic` with QoS 1 and a persistent session; lines arrive on the
/// receiver. Returns once the subscription is in place (a probe message came through).
struct Subscriber {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Subscriber {
    fn start(port: u16, topic: &str) -> Subscriber {
        let mut child = Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-q",
                "1",
                "-v",
                "-c",
            ])
            .args(["-i", "droneid-test-sub", "-t", topic, "-t", "probe"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub must be installed (Debian package mosquitto-clients)");
        let out: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let sub = Subscriber { child, lines };
        let t = Instant::now();
        loop {
            let ok = Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-t",
                    "probe",
                    "-m",
                    "x",
                ])
                .status()
                .expect("mosquitto_pub must be installed (Debian package mosquitto-clients)");
            assert!(ok.success());
            if let Ok(l) = sub.lines.recv_timeout(Duration::from_millis(200)) {
                assert_eq!(l, "probe x");
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "subscriber not ready"
            );
        }
        sub
    }

    /// The next `n` lines, or panics after `timeout`.
    fn take(&self, n: usize, timeout: Duration) -> Vec<(String, String)> {
        self.take_or(n, timeout, "")
    }

    /// The next `n` lines, or panics after `timeout` showing `log`.
    fn take_or(&self, n: usize, timeout: Duration, log: &str) -> Vec<(String, String)> {
        let deadline = Instant::now() + timeout;
        (0..n)
            .map(|i| {
                let left = deadline.saturating_duration_since(Instant::now());
                let l = self
                    .lines
                    .recv_timeout(left)
                    .unwrap_or_else(|_| panic!("only {i} of {n} messages arrived\n{log}"));
                let (t, p) = l.split_once(' ').expect("topic payload");
                (t.to_string(), p.to_string())
            })
            .collect()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn frames_and_tracks_reach_a_subscriber() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _broker = Broker::start(port, dir.path());
    let sub = Subscriber::start(port, "test/droneid/#");
    let mut p =
        MqttPublisher::connect(&format!("mqtt://127.0.0.1:{port}"), "test/droneid/", 1000).unwrap();
    let mut builder = TrackBuilder::new();
    for f in &frames {
        builder.push(f);
        p.frame(f).unwrap();
    }
    let tracks = builder.finish();
    let points: usize = tracks.drones.iter().map(|d| d.points.len()).sum();
    p.finish(&tracks).unwrap();
    let expected = frames.len() + points + tracks.drones.len();
    let stats = p.stats();
    assert_eq!(stats.published as usize, expected);
    assert_eq!(
        (stats.sent, stats.acked),
        (expected as u64, expected as u64),
        "{stats:?}"
    );
    assert_eq!((stats.dropped, stats.unsent, stats.reconnects), (0, 0, 0));

    let got = sub.take(expected, Duration::from_secs(20));
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
    }
    for d in &tracks.drones {
        let pos: Vec<Value> = got
            .iter()
            .filter(|(t, _)| *t == format!("test/droneid/drones/{}/position", d.serial_number))
            .map(|(_, p)| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(pos.len(), d.points.len());
        for (v, pt) in pos.iter().zip(&d.points) {
            assert_eq!(v["lat_deg"], pt.lat_deg);
            assert_eq!(v["sequence_number"], pt.sequence_number);
        }
        let summary = got
            .iter()
            .find(|(t, _)| *t == format!("test/droneid/drones/{}/summary", d.serial_number))
            .expect("summary");
        let v: Value = serde_json::from_str(&summary.1).unwrap();
        assert_eq!(v["telemetry_frames"], d.telemetry_frames);
    }
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
    let mut p = MqttPublisher::connect(&format!("mqtt://127.0.0.1:{port}"), "rc", 100).unwrap();
    let (first, second) = frames.split_at(4);
    for f in first {
        // Telemetry also goes to drones/…/position, which this subscriber ignores.
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
    assert_eq!(p.stats().acked, p.stats().published, "{:?}", p.stats());
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
    assert_eq!(s.acked, s.published, "{s:?}");
}

/// No broker at all: the URL is accepted, publishing never blocks, and once the queue is full
/// every further message is counted as dropped, exactly.
#[test]
fn no_broker_never_blocks_and_counts_drops() {
    let frames = common::frames();
    let port = free_port();
    let bound = 10;
    let mut p = MqttPublisher::connect(&format!("mqtt://127.0.0.1:{port}"), "nb", bound).unwrap();
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
    let extra: u64 = frames
        .iter()
        .map(|f| 1 + u64::from(droneid_outputs::TrackRow::from_frame(f).is_some()))
        .sum();
    assert_eq!(accepted, bound);
    let s = p.stats();
    assert_eq!(s.published, 1000 + extra);
    assert_eq!(s.dropped, 1000 + extra - bound as u64);
    assert_eq!((s.queued, s.sent, s.acked), (bound as u64, 0, 0));
    assert!(!s.connected);
    let s = p.shutdown(Duration::from_millis(100));
    assert_eq!(s.unsent, bound as u64);
    assert!(s.connect_failures >= 1);
}

#[test]
fn bad_urls_are_errors_but_a_dead_broker_is_not() {
    for url in ["localhost", "mqtts://h:8883", "mqtt://:1883", "mqtt://h:x"] {
        let e = MqttPublisher::connect(url, "p", 10).unwrap_err();
        assert!(e.to_string().contains(url), "{e}");
    }
    assert!(MqttPublisher::connect("mqtt://127.0.0.1:1", "p/#", 10).is_err());
    assert!(MqttPublisher::connect("mqtt://127.0.0.1:1", "p", 10).is_ok());
}
