//! A small MQTT 3.1.1 publisher (QoS 1) with its own thread, a bounded queue and reconnection.
//!
//! Only what publishing needs is implemented, over a plain `std::net::TcpStream`: CONNECT /
//! CONNACK (clean session, optional user name and password, keep-alive), PUBLISH QoS 1 / PUBACK
//! (up to [`MAX_IN_FLIGHT`] unacknowledged, re-sent with DUP after a reconnect), PINGREQ /
//! PINGRESP, DISCONNECT. No TLS (`mqtts://` is refused), no subscriptions.
//!
//! [`MqttPublisher::publish`] never blocks: it puts the message on a queue of at most
//! `queue_bound` messages, and counts it as dropped when the queue is full (broker down or too
//! slow). The thread connects, drains the queue, and on any error reconnects with exponential
//! back-off (0.1 s doubling to 5 s). A broker that is down at start is not an error.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use droneid_receiver::Frame;
use droneid_tracks::Tracks;
use serde_json::{json, Value};

use crate::row::TrackRow;
use crate::{FrameSink, OutputError};

/// Unacknowledged QoS 1 messages at most.
pub const MAX_IN_FLIGHT: usize = 64;
const KEEP_ALIVE_S: u16 = 30;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Socket read timeout: how often the thread looks at the queue while messages are in flight.
const POLL: Duration = Duration::from_millis(5);

/// A parsed `mqtt://[user[:password]@]host[:port][/]` URL (`tcp://` is accepted too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttUrl {
    /// Host name or address (IPv6 in brackets in the URL, without them here).
    pub host: String,
    /// TCP port (default 1883).
    pub port: u16,
    /// User name, when given.
    pub username: Option<String>,
    /// Password, when given.
    pub password: Option<String>,
}

impl MqttUrl {
    /// Parses a URL. Errors: [`OutputError::MqttUrl`] for another scheme (`mqtts://`: TLS is not
    /// supported), a missing host, a bad port, or a path other than `/`.
    pub fn parse(url: &str) -> Result<Self, OutputError> {
        let bad = |reason: &str| OutputError::MqttUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = if let Some(r) = url.strip_prefix("mqtt://") {
            r
        } else if let Some(r) = url.strip_prefix("tcp://") {
            r
        } else if url.starts_with("mqtts://") || url.starts_with("ssl://") {
            return Err(bad("TLS is not supported; use mqtt://HOST[:PORT]"));
        } else {
            return Err(bad("expected mqtt://HOST[:PORT]"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') || rest.contains('#') {
            return Err(bad("no path or query expected after HOST[:PORT]"));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((n, p)) => (Some(n.to_string()), Some(p.to_string())),
                None => (Some(u.to_string()), None),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
                ),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let port = match port {
            None => 1883,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(bad("port must be 1..65535")),
            },
        };
        Ok(Self {
            host: host.to_string(),
            port,
            username,
            password,
        })
    }
}

/// Counters of a publisher (a snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MqttStats {
    /// Messages handed to [`MqttPublisher::publish`] (queued or dropped).
    pub published: u64,
    /// PUBLISH packets written to a broker (first transmissions only).
    pub sent: u64,
    /// PUBACKs received.
    pub acked: u64,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
    /// Messages still queued or unacknowledged when the publisher shut down (lost).
    pub unsent: u64,
    /// Successful connections after the first.
    pub reconnects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
    /// Messages waiting in the queue now.
    pub queued: u64,
    /// Connected to the broker now.
    pub connected: bool,
}

impl std::fmt::Display for MqttStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mqtt: {} published, {} sent, {} acked, {} dropped (queue full), {} unsent, {} reconnects",
            self.published, self.sent, self.acked, self.dropped, self.unsent, self.reconnects
        )
    }
}

struct Message {
    topic: String,
    payload: Vec<u8>,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    dropped: AtomicU64,
    unsent: AtomicU64,
    reconnects: AtomicU64,
    connect_failures: AtomicU64,
    connected: AtomicBool,
}

struct Queue {
    messages: VecDeque<Message>,
    /// Shut down once the queue is empty, or at this instant at the latest.
    shutdown: Option<Instant>,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    counters: Counters,
    bound: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic in the other thread leaves the queue consistent (plain pushes and pops).
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Publishes frames and track updates to an MQTT broker from its own thread.
///
/// Topics (`P` = the topic prefix):
/// * `P/frames`: every frame, as its JSON line (the object `droneid decode` prints);
/// * `P/drones/<serial>/position`: every CRC16-valid telemetry frame with a position: `serial_number`,
///   `time_s`, `sequence_number`, `lat_deg`, `lon_deg`, `height_m`, `altitude_m`, `speed_mps`,
///   `v_up_mps`, `yaw_deg`, `pilot_lat_deg`/`pilot_lon_deg`, `home_lat_deg`/`home_lon_deg`
///   (null when unknown), `snr_db`;
/// * `P/drones/<serial>/summary`: at [`FrameSink::finish`], the drone's counters, home and
///   pilot position.
///
/// All QoS 1, not retained. `+`, `#`, `/` and NUL in serials become `_`.
pub struct MqttPublisher {
    shared: Arc<Shared>,
    prefix: String,
    thread: Option<JoinHandle<()>>,
    drain_timeout: Duration,
}

impl std::fmt::Debug for MqttPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttPublisher")
            .field("prefix", &self.prefix)
            .field("stats", &self.stats())
            .finish()
    }
}

impl MqttPublisher {
    /// Parses `url` (`mqtt://HOST[:PORT]`, see [`MqttUrl::parse`]) and starts the publisher
    /// thread, which connects in the background: a broker that is down is not an error (messages
    /// queue up to `queue_bound`, then are dropped and counted, while the thread retries).
    ///
    /// `topic_prefix`: e.g. `droneid`; must not be empty or contain `+`, `#` or NUL; a trailing
    /// `/` is removed. `queue_bound` ≥ 1 (0 is taken as 1).
    ///
    /// Errors: [`OutputError::MqttUrl`] for a bad URL or prefix; [`OutputError::Mqtt`] when the
    /// thread cannot be spawned.
    pub fn connect(url: &str, topic_prefix: &str, queue_bound: usize) -> Result<Self, OutputError> {
        let parsed = MqttUrl::parse(url)?;
        let prefix = topic_prefix.trim_end_matches('/').to_string();
        if prefix.is_empty() || prefix.contains(['+', '#', '\0']) {
            return Err(OutputError::MqttUrl {
                url: url.to_string(),
                reason: format!(
                    "topic prefix {topic_prefix:?} must be non-empty, without '+', '#' or NUL"
                ),
            });
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                messages: VecDeque::new(),
                shutdown: None,
            }),
            wake: Condvar::new(),
            counters: Counters::default(),
            bound: queue_bound.max(1),
        });
        let client_id = format!(
            "droneid-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let worker = Worker {
            shared: shared.clone(),
            url: parsed,
            client_id,
        };
        let thread = std::thread::Builder::new()
            .name("droneid-mqtt".into())
            .spawn(move || worker.run())
            .map_err(|e| OutputError::Mqtt(format!("cannot start thread: {e}")))?;
        Ok(Self {
            shared,
            prefix,
            thread: Some(thread),
            drain_timeout: Duration::from_secs(3),
        })
    }

    /// How long [`FrameSink::finish`] waits for the queue to drain and the broker to
    /// acknowledge (default 3 s); what is left then is counted in [`MqttStats::unsent`].
    pub fn set_drain_timeout(&mut self, t: Duration) {
        self.drain_timeout = t;
    }

    /// The topic prefix in use (without a trailing `/`).
    pub fn topic_prefix(&self) -> &str {
        &self.prefix
    }

    /// Queues one message (QoS 1). Never blocks; returns false (and counts a drop) when the
    /// queue is full or the publisher has been shut down.
    pub fn publish(&self, topic: &str, payload: &[u8]) -> bool {
        let c = &self.shared.counters;
        c.published.fetch_add(1, Ordering::Relaxed);
        let mut q = self.shared.lock();
        if q.messages.len() >= self.shared.bound || q.shutdown.is_some() {
            drop(q);
            c.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.messages.push_back(Message {
            topic: topic.to_string(),
            payload: payload.to_vec(),
        });
        drop(q);
        self.shared.wake.notify_one();
        true
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> MqttStats {
        let c = &self.shared.counters;
        MqttStats {
            published: c.published.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            acked: c.acked.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            unsent: c.unsent.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            connect_failures: c.connect_failures.load(Ordering::Relaxed),
            queued: self.shared.lock().messages.len() as u64,
            connected: c.connected.load(Ordering::Relaxed),
        }
    }

    /// Stops the thread: waits up to `timeout` for queued messages to be sent and acknowledged,
    /// then disconnects. Returns the final counters. Later calls return at once.
    pub fn shutdown(&mut self, timeout: Duration) -> MqttStats {
        {
            let mut q = self.shared.lock();
            let deadline = Instant::now() + timeout;
            q.shutdown = Some(q.shutdown.map_or(deadline, |d| d.min(deadline)));
        }
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.stats()
    }

    fn topic(&self, rest: &str) -> String {
        format!("{}/{}", self.prefix, rest)
    }
}

/// A serial usable as one topic level.
fn topic_level(serial: &str) -> String {
    let s: String = serial
        .chars()
        .map(|c| {
            if matches!(c, '+' | '#' | '/' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() {
        "unknown".into()
    } else {
        s
    }
}

fn opt(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

impl FrameSink for MqttPublisher {
    /// Queues the frame's JSON line on `P/frames`, and a position update on
    /// `P/drones/<serial>/position` for CRC16-valid telemetry with a position. Never blocks.
    fn frame(&mut self, frame: &Frame) -> Result<(), OutputError> {
        let line = Value::Object(frame.to_json()).to_string();
        self.publish(&self.topic("frames"), line.as_bytes());
        if let Some((serial, r)) = TrackRow::from_frame(frame) {
            let v = json!({
                "serial_number": serial,
                "time_s": r.time_s,
                "start_sample": r.start_sample,
                "sequence_number": r.sequence_number,
                "lat_deg": r.lat_deg,
                "lon_deg": r.lon_deg,
                "height_m": r.height_m,
                "altitude_m": r.altitude_m,
                "speed_mps": r.speed_mps,
                "v_up_mps": r.v_up_mps,
                "yaw_deg": r.yaw_deg,
                "pilot_lat_deg": opt(r.pilot_lat_deg),
                "pilot_lon_deg": opt(r.pilot_lon_deg),
                "home_lat_deg": opt(r.home_lat_deg),
                "home_lon_deg": opt(r.home_lon_deg),
                "gps_time_ms": r.gps_time_ms,
                "snr_db": opt(r.snr_db as f64),
            });
            let topic = self.topic(&format!("drones/{}/position", topic_level(serial)));
            self.publish(&topic, v.to_string().as_bytes());
        }
        Ok(())
    }

    /// Nothing to do: the thread sends as fast as the broker acknowledges.
    fn flush(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    /// Queues one summary per drone, then [`shutdown`](MqttPublisher::shutdown)s with the
    /// drain timeout. Errors only when the thread has died.
    fn finish(&mut self, tracks: &Tracks) -> Result<(), OutputError> {
        for d in &tracks.drones {
            let v = json!({
                "serial_number": d.serial_number,
                "product_type": d.product_type,
                "product_name": d.product_name,
                "first_seen_s": d.first_seen_s,
                "last_seen_s": d.last_seen_s,
                "telemetry_frames": d.telemetry_frames,
                "identity_frames": d.identity_frames,
                "crc16_failures": d.crc16_failures,
                "missing_sequences": d.missing_sequences,
                "track_points": d.points.len(),
                "home": d.home.map(|p| json!({"lat_deg": p.lat_deg, "lon_deg": p.lon_deg})),
                "pilot": d.pilot.map(|p| json!({"lat_deg": p.lat_deg, "lon_deg": p.lon_deg})),
            });
            let topic = self.topic(&format!("drones/{}/summary", topic_level(&d.serial_number)));
            self.publish(&topic, v.to_string().as_bytes());
        }
        let alive = self.thread.as_ref().is_some_and(|t| !t.is_finished());
        let timeout = self.drain_timeout;
        self.shutdown(timeout);
        if alive {
            Ok(())
        } else {
            Err(OutputError::Mqtt("publisher thread stopped early".into()))
        }
    }

    fn summary(&self) -> String {
        self.stats().to_string()
    }
}

impl Drop for MqttPublisher {
    /// Gives the thread a short grace period (0.2 s) to send what is queued.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown(Duration::from_millis(200));
        }
    }
}

/// The publisher thread's state.
struct Worker {
    shared: Arc<Shared>,
    url: MqttUrl,
    client_id: String,
}

/// One outstanding QoS 1 message.
struct InFlight {
    id: u16,
    msg: Message,
}

enum SessionEnd {
    /// Shutdown finished (or its deadline passed).
    Done,
    /// The connection failed; reconnect.
    Lost,
}

impl Worker {
    fn run(self) {
        let c = &self.shared.counters;
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut next_id: u16 = 1;
        let mut backoff = BACKOFF_MIN;
        let mut connects = 0u64;
        loop {
            if self.shutdown_due(&in_flight) {
                break;
            }
            match self.open() {
                Ok(stream) => {
                    connects += 1;
                    if connects > 1 {
                        c.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    c.connected.store(true, Ordering::Relaxed);
                    backoff = BACKOFF_MIN;
                    let end = self.session(stream, &mut in_flight, &mut next_id);
                    c.connected.store(false, Ordering::Relaxed);
                    if let SessionEnd::Done = end {
                        break;
                    }
                }
                Err(_) => {
                    c.connect_failures.fetch_add(1, Ordering::Relaxed);
                    // Sleep, waking early at shutdown.
                    let q = self.shared.lock();
                    let wait = match q.shutdown {
                        Some(d) => backoff.min(d.saturating_duration_since(Instant::now())),
                        None => backoff,
                    };
                    let _ = self.shared.wake.wait_timeout(q, wait);
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        let left = self.shared.lock().messages.len() + in_flight.len();
        c.unsent.fetch_add(left as u64, Ordering::Relaxed);
    }

    /// Shutdown asked and either everything is sent or the deadline has passed.
    fn shutdown_due(&self, in_flight: &VecDeque<InFlight>) -> bool {
        let q = self.shared.lock();
        match q.shutdown {
            None => false,
            Some(d) => (q.messages.is_empty() && in_flight.is_empty()) || Instant::now() >= d,
        }
    }

    /// TCP connect + CONNECT/CONNACK.
    fn open(&self) -> std::io::Result<TcpStream> {
        let addrs = (self.url.host.as_str(), self.url.port).to_socket_addrs()?;
        let mut last = std::io::Error::new(ErrorKind::NotFound, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(mut s) => {
                    s.set_nodelay(true)?;
                    s.set_read_timeout(Some(CONNECT_TIMEOUT))?;
                    s.set_write_timeout(Some(CONNECT_TIMEOUT))?;
                    s.write_all(&connect_packet(
                        &self.client_id,
                        self.url.username.as_deref(),
                        self.url.password.as_deref(),
                    ))?;
                    let mut ack = [0u8; 4];
                    s.read_exact(&mut ack)?;
                    if ack[0] != 0x20 || ack[1] != 2 {
                        return Err(std::io::Error::new(ErrorKind::InvalidData, "no CONNACK"));
                    }
                    if ack[3] != 0 {
                        return Err(std::io::Error::new(
                            ErrorKind::ConnectionRefused,
                            format!("CONNACK return code {}", ack[3]),
                        ));
                    }
                    s.set_read_timeout(Some(POLL))?;
                    return Ok(s);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// One connection: re-send what is in flight, then send, read acks and ping until the
    /// connection fails or shutdown completes.
    fn session(
        &self,
        mut s: TcpStream,
        in_flight: &mut VecDeque<InFlight>,
        next_id: &mut u16,
    ) -> SessionEnd {
        let c = &self.shared.counters;
        let keep_alive = Duration::from_secs(KEEP_ALIVE_S as u64);
        let mut last_write = Instant::now();
        let mut last_read = Instant::now();
        let mut ping_out = false;
        let mut rx: Vec<u8> = Vec::with_capacity(256);
        let mut buf = [0u8; 1024];
        let mut out: Vec<u8> = Vec::with_capacity(1024);
        for f in in_flight.iter() {
            out.clear();
            publish_packet(&mut out, &f.msg, f.id, true);
            if s.write_all(&out).is_err() {
                return SessionEnd::Lost;
            }
        }
        loop {
            // 1. Take new messages while the window allows.
            let mut batch = Vec::new();
            {
                let mut q = self.shared.lock();
                if q.messages.is_empty() && in_flight.is_empty() {
                    if q.shutdown.is_some() {
                        let _ = s.write_all(&[0xE0, 0x00]); // DISCONNECT
                        return SessionEnd::Done;
                    }
                    q = self
                        .shared
                        .wake
                        .wait_timeout(q, Duration::from_millis(100))
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                if q.shutdown.is_some_and(|d| Instant::now() >= d) {
                    return SessionEnd::Done;
                }
                while in_flight.len() + batch.len() < MAX_IN_FLIGHT {
                    match q.messages.pop_front() {
                        Some(m) => batch.push(m),
                        None => break,
                    }
                }
            }
            out.clear();
            for msg in batch {
                let id = *next_id;
                *next_id = next_id.checked_add(1).unwrap_or(1);
                publish_packet(&mut out, &msg, id, false);
                in_flight.push_back(InFlight { id, msg });
            }
            if !out.is_empty() {
                if s.write_all(&out).is_err() {
                    return SessionEnd::Lost;
                }
                // Counted once the bytes are on their way.
                c.sent.fetch_add(count_new(&out), Ordering::Relaxed);
                last_write = Instant::now();
            }
            // 2. Keep-alive.
            if last_write.elapsed() >= keep_alive / 2 && !ping_out {
                if s.write_all(&[0xC0, 0x00]).is_err() {
                    return SessionEnd::Lost;
                }
                ping_out = true;
                last_write = Instant::now();
            }
            if last_read.elapsed() >= keep_alive + keep_alive / 2 {
                return SessionEnd::Lost; // broker silent for too long
            }
            // 3. Read acknowledgements (POLL timeout).
            match s.read(&mut buf) {
                Ok(0) => return SessionEnd::Lost,
                Ok(n) => {
                    rx.extend_from_slice(&buf[..n]);
                    last_read = Instant::now();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return SessionEnd::Lost,
            }
            while let Some((kind, body, used)) = next_packet(&rx) {
                match kind >> 4 {
                    4 if body.len() >= 2 => {
                        let id = u16::from_be_bytes([body[0], body[1]]);
                        if let Some(pos) = in_flight.iter().position(|f| f.id == id) {
                            in_flight.remove(pos);
                            c.acked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    13 => ping_out = false,
                    _ => {}
                }
                rx.drain(..used);
            }
        }
    }
}

/// PUBLISH packets (first transmissions) in a buffer built by [`publish_packet`].
fn count_new(out: &[u8]) -> u64 {
    let mut n = 0;
    let mut rest = out;
    while let Some((kind, _, used)) = next_packet(rest) {
        if kind & 0xF8 == 0x30 {
            n += 1;
        }
        rest = &rest[used..];
    }
    n
}

/// One complete packet at the start of `buf`: (first byte, body, bytes used).
fn next_packet(buf: &[u8]) -> Option<(u8, &[u8], usize)> {
    let first = *buf.first()?;
    let mut len = 0usize;
    let mut mult = 1usize;
    let mut i = 1;
    loop {
        let b = *buf.get(i)?;
        len += (b & 0x7F) as usize * mult;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        mult *= 128;
        if i > 4 {
            return None; // malformed; the connection will time out
        }
    }
    let end = i.checked_add(len)?;
    (buf.len() >= end).then(|| (first, &buf[i..end], end))
}

fn put_len(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len().min(u16::MAX as usize);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&s[..n]);
}

fn connect_packet(client_id: &str, user: Option<&str>, password: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    put_str(&mut body, b"MQTT");
    body.push(4); // protocol level 3.1.1
    let mut flags = 0x02; // clean session
    if user.is_some() {
        flags |= 0x80;
        if password.is_some() {
            flags |= 0x40;
        }
    }
    body.push(flags);
    body.extend_from_slice(&KEEP_ALIVE_S.to_be_bytes());
    put_str(&mut body, client_id.as_bytes());
    if let Some(u) = user {
        put_str(&mut body, u.as_bytes());
        if let Some(p) = password {
            put_str(&mut body, p.as_bytes());
        }
    }
    let mut out = vec![0x10];
    put_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// Appends a QoS 1 PUBLISH.
fn publish_packet(out: &mut Vec<u8>, msg: &Message, id: u16, dup: bool) {
    let topic = msg.topic.as_bytes();
    out.push(if dup { 0x3A } else { 0x32 });
    put_len(out, 2 + topic.len() + 2 + msg.payload.len());
    put_str(out, topic);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&msg.payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = MqttUrl::parse("mqtt://localhost:1884").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("localhost", 1884));
        let u = MqttUrl::parse("mqtt://broker.example/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("broker.example", 1883));
        let u = MqttUrl::parse("tcp://me:secret@[::1]:2000").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.port, 2000);
        assert_eq!(u.username.as_deref(), Some("me"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        for bad in [
            "localhost:1883",
            "http://x",
            "mqtts://x",
            "mqtt://",
            "mqtt://x:0",
            "mqtt://x:99999",
            "mqtt://x:port",
            "mqtt://x/topic",
        ] {
            let e = MqttUrl::parse(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn packets_round_trip() {
        let mut out = Vec::new();
        let msg = Message {
            topic: "a/b".into(),
            payload: vec![7; 300],
        };
        publish_packet(&mut out, &msg, 0x1234, false);
        // Remaining length 2 + 3 + 2 + 300 = 307 = 0xB3 0x02 as a varint.
        assert_eq!(&out[..3], &[0x32, 0xB3, 0x02]);
        let (kind, body, used) = next_packet(&out).unwrap();
        assert_eq!((kind, used), (0x32, out.len()));
        assert_eq!(&body[..5], &[0, 3, b'a', b'/', b'b']);
        assert_eq!(&body[5..7], &[0x12, 0x34]);
        assert_eq!(count_new(&out), 1);
        assert!(next_packet(&out[..out.len() - 1]).is_none());
        let c = connect_packet("id", Some("u"), Some("p"));
        assert_eq!(c[0], 0x10);
        assert_eq!(c[1] as usize, c.len() - 2);
        assert_eq!(&c[2..9], &[0, 4, b'M', b'Q', b'T', b'T', 4]);
        assert_eq!(c[9], 0xC2);
    }
}
