//! Cursor-on-Target (CoT) events for TAK: one drone, one pilot and one home event per decoded
//! telemetry frame, an alert per encrypted frame, sent over UDP (the TAK situational-awareness
//! multicast `239.2.3.1:6969` or any `HOST:PORT`), TCP (a TAK server's streaming input) or
//! TLS with a client certificate (a TAK server's `ssl` input).
//!
//! Events (CoT 2.0 `event` schema):
//! * drone: `uid="droneid-<serial>"`, `type="a-u-A-M-H-Q"` (unknown-affiliation air track,
//!   rotary-wing UAV, as the open DroneID→CoT gateways mark drones), `how="m-g"` (machine,
//!   GPS-derived), `point` at the reported position (`hae` = the reported altitude in metres,
//!   `ce`/`le` [`DRONE_CE_M`]/[`DRONE_LE_M`]), `detail` with `contact callsign`, `track course
//!   speed` (from the north/east velocity) and `remarks` (serial, product, frequency, SNR,
//!   sensor id, distance from the sensor). A drone without a GPS fix (0/0) sends none.
//! * pilot and home: `uid="droneid-<serial>-pilot"` / `"…-home"`, `type="b-m-p-s-m"` (a spot
//!   marker), `hae` unknown (9999999).
//! * encrypted drone: `uid="droneid-session-<hex>"`, `type="b-a-o-opn"` (an open alert) at the
//!   sensor's position with `ce` = [`ENCRYPTED_CE_M`] (the drone is somewhere within radio range),
//!   remarks naming the session id. Needs `--sensor-position`; without one it is counted and
//!   skipped.
//!
//! The uids depend on the serial (or session id) only, so every sensor of a site names the
//! same drone the same way and a TAK server merges their reports.
//!
//! Sending never blocks the decoder: [`CotSender`] puts each event on a bounded queue; its
//! thread sends, and on a stream connects, reconnects with back-off (0.1 s doubling to 5 s),
//! and counts what it could not deliver.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use droneid_receiver::Frame;
use droneid_tracks::Tracks;
use serde_json::{Map, Value};

use crate::mqtt::{course_deg, split_host_port};
use crate::sensor::{json_position, Sensor};
use crate::tls::{describe_tls_error, TlsFiles};
use crate::{FrameSink, OutputError};

/// Circular error of a drone's reported position, metres (GNSS).
pub const DRONE_CE_M: f64 = 10.0;
/// Linear (vertical) error of a drone's reported altitude, metres.
pub const DRONE_LE_M: f64 = 20.0;
/// Circular error of a pilot or home position, metres (the phone's GNSS).
pub const POINT_CE_M: f64 = 15.0;
/// Circular error of an encrypted drone's alert at the sensor, metres (DroneID range).
pub const ENCRYPTED_CE_M: f64 = 5000.0;
/// CoT's "unknown" for `hae`, `ce` and `le`.
pub const COT_UNKNOWN: f64 = 9_999_999.0;
/// Default UDP port (TAK SA multicast), TCP port and TLS port of a TAK server.
pub const UDP_PORT: u16 = 6969;
/// TAK server streaming TCP input.
pub const TCP_PORT: u16 = 8087;
/// TAK server TLS input.
pub const TLS_PORT: u16 = 8089;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`FrameSink::finish`] waits for queued events to go out.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// How events travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CotTransport {
    /// One datagram per event (unicast or multicast).
    Udp,
    /// A TCP stream of events (TAK server streaming input).
    Tcp,
    /// TCP with TLS (TAK server `ssl` input, usually with a client certificate).
    Tls,
}

/// A parsed `udp://`, `tcp://` or `tls://` (`ssl://`) CoT destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CotUrl {
    /// Transport.
    pub transport: CotTransport,
    /// Host or address.
    pub host: String,
    /// Port (defaults: UDP 6969, TCP 8087, TLS 8089).
    pub port: u16,
}

impl CotUrl {
    /// Parses a URL; errors ([`OutputError::CotUrl`]) name the URL and what is wrong.
    pub fn parse(url: &str) -> Result<Self, OutputError> {
        let bad = |reason: &str| OutputError::CotUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad(
                "expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT",
            ));
        };
        let (transport, default_port) = match scheme {
            "udp" => (CotTransport::Udp, UDP_PORT),
            "tcp" => (CotTransport::Tcp, TCP_PORT),
            "tls" | "ssl" => (CotTransport::Tls, TLS_PORT),
            other => {
                return Err(bad(&format!(
                    "unknown scheme {other:?}: use udp://, tcp:// or tls:// (ssl://)"
                )))
            }
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad("expected only HOST[:PORT] after the scheme"));
        }
        let (host, port) = split_host_port(rest).map_err(bad)?;
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(bad("port must be 1..65535")),
            },
        };
        Ok(Self {
            transport,
            host: host.to_string(),
            port,
        })
    }
}

/// Everything [`CotSender::open`] needs.
#[derive(Debug, Clone)]
pub struct CotConfig {
    /// Destination URL.
    pub url: String,
    /// CA, client certificate and key for `tls://`.
    pub tls: TlsFiles,
    /// The sensor (id in remarks, position for encrypted drones' alerts).
    pub sensor: Sensor,
    /// Seconds after which TAK clients grey an event out (`stale` − `time`).
    pub stale_s: f64,
    /// Events that may wait for the destination before new ones are dropped (counted).
    pub queue_bound: usize,
    /// Multicast TTL for `udp://` to a multicast group (1: this network only).
    pub multicast_ttl: u32,
}

impl CotConfig {
    /// Defaults: stale after 60 s, 1024 queued events, multicast TTL 1.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            tls: TlsFiles::default(),
            sensor: Sensor::default(),
            stale_s: 60.0,
            queue_bound: 1024,
            multicast_ttl: 1,
        }
    }
}

/// Counters of a sender (a snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CotStats {
    /// Events made from frames (queued or dropped).
    pub events: u64,
    /// Events written to the socket.
    pub sent: u64,
    /// Events dropped because the queue was full (destination down or slow).
    pub dropped: u64,
    /// Writes that failed (the event is re-sent after reconnecting on a stream).
    pub send_failures: u64,
    /// Failed connection attempts (TCP/TLS).
    pub connect_failures: u64,
    /// Successful connections after the first.
    pub reconnects: u64,
    /// Encrypted drones' alerts not sent because the sensor position is unknown.
    pub no_sensor_position: u64,
    /// Events still queued when the sender shut down (lost).
    pub unsent: u64,
}

impl std::fmt::Display for CotStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cot: {} events, {} sent, {} dropped (queue full), {} unsent, {} send failures, {} failed connection attempts, {} reconnects",
            self.events,
            self.sent,
            self.dropped,
            self.unsent,
            self.send_failures,
            self.connect_failures,
            self.reconnects
        )?;
        if self.no_sensor_position > 0 {
            write!(
                f,
                ", {} encrypted-drone alerts skipped (no --sensor-position)",
                self.no_sensor_position
            )?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Counters {
    events: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    send_failures: AtomicU64,
    connect_failures: AtomicU64,
    connects: AtomicU64,
    no_sensor_position: AtomicU64,
    unsent: AtomicU64,
    queued: AtomicU64,
    stop: AtomicBool,
}

/// Sends CoT events for every frame from its own thread.
pub struct CotSender {
    tx: Option<SyncSender<Vec<u8>>>,
    counters: Arc<Counters>,
    last_error: Arc<Mutex<Option<String>>>,
    sensor: Sensor,
    stale_s: f64,
    url: String,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CotSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CotSender")
            .field("url", &self.url)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Where the thread writes.
enum Dest {
    Udp(UdpSocket, SocketAddr),
    Stream {
        host: String,
        port: u16,
        tls: Option<Arc<rustls::ClientConfig>>,
    },
}

impl CotSender {
    /// Checks the URL, reads the TLS files and starts the sending thread.
    ///
    /// Errors (configuration, before any frame): [`OutputError::CotUrl`] for an unknown scheme,
    /// a bad port, TLS files with a non-TLS URL, a UDP host that does not resolve, a bad stale
    /// time; [`OutputError::Tls`] for unreadable certificate, key or CA files. A TAK server
    /// that cannot be reached is not an error here: the thread retries with back-off, counting
    /// failures, and [`FrameSink::finish`] reports what was lost.
    pub fn open(cfg: &CotConfig) -> Result<Self, OutputError> {
        let url = CotUrl::parse(&cfg.url)?;
        let bad = |reason: String| OutputError::CotUrl {
            url: cfg.url.clone(),
            reason,
        };
        if !(cfg.stale_s.is_finite() && cfg.stale_s > 0.0) {
            return Err(bad(format!(
                "stale time {} s must be positive",
                cfg.stale_s
            )));
        }
        if cfg.tls.any() && url.transport != CotTransport::Tls {
            return Err(bad("--cot-ca/--cot-cert/--cot-key need a tls:// URL".into()));
        }
        let dest = match url.transport {
            CotTransport::Udp => {
                let addr = (url.host.as_str(), url.port)
                    .to_socket_addrs()
                    .map_err(|e| bad(format!("cannot resolve {}: {e}", url.host)))?
                    .next()
                    .ok_or_else(|| bad(format!("no address for {}", url.host)))?;
                let bind: SocketAddr = if addr.is_ipv4() {
                    "0.0.0.0:0".parse().expect("literal")
                } else {
                    "[::]:0".parse().expect("literal")
                };
                let sock = UdpSocket::bind(bind).map_err(|e| bad(format!("UDP socket: {e}")))?;
                if addr.ip().is_multicast() {
                    match addr {
                        SocketAddr::V4(_) => sock.set_multicast_ttl_v4(cfg.multicast_ttl),
                        SocketAddr::V6(_) => Ok(()),
                    }
                    .map_err(|e| bad(format!("multicast TTL: {e}")))?;
                }
                if addr.ip().is_unspecified() {
                    return Err(bad("the destination address is unspecified".into()));
                }
                let _ = sock.set_broadcast(true);
                Dest::Udp(sock, addr)
            }
            CotTransport::Tcp => Dest::Stream {
                host: url.host.clone(),
                port: url.port,
                tls: None,
            },
            CotTransport::Tls => Dest::Stream {
                host: url.host.clone(),
                port: url.port,
                tls: Some(cfg.tls.client_config("cot")?),
            },
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(cfg.queue_bound.max(1));
        let counters = Arc::new(Counters::default());
        let last_error = Arc::new(Mutex::new(None));
        let worker = Worker {
            rx,
            dest,
            counters: counters.clone(),
            last_error: last_error.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("droneid-cot".into())
            .spawn(move || worker.run())
            .map_err(|e| OutputError::Cot {
                url: cfg.url.clone(),
                reason: format!("cannot start thread: {e}"),
            })?;
        Ok(Self {
            tx: Some(tx),
            counters,
            last_error,
            sensor: cfg.sensor.clone(),
            stale_s: cfg.stale_s,
            url: cfg.url.clone(),
            thread: Some(thread),
        })
    }

    /// Queues one event (any bytes). Never blocks; false (and a counted drop) when full.
    pub fn send(&self, event: Vec<u8>) -> bool {
        let c = &self.counters;
        c.events.fetch_add(1, Ordering::Relaxed);
        let ok = match &self.tx {
            Some(tx) => match tx.try_send(event) {
                Ok(()) => {
                    c.queued.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !ok {
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CotStats {
        let c = &self.counters;
        CotStats {
            events: c.events.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            send_failures: c.send_failures.load(Ordering::Relaxed),
            connect_failures: c.connect_failures.load(Ordering::Relaxed),
            reconnects: c.connects.load(Ordering::Relaxed).saturating_sub(1),
            no_sensor_position: c.no_sensor_position.load(Ordering::Relaxed),
            unsent: c.unsent.load(Ordering::Relaxed),
        }
    }

    /// Waits up to `timeout` for the queue to empty, then stops the thread. Later calls
    /// return at once.
    pub fn shutdown(&mut self, timeout: Duration) -> CotStats {
        let c = &self.counters;
        let deadline = Instant::now() + timeout;
        while c.queued.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        c.stop.store(true, Ordering::Relaxed);
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        c.unsent
            .store(c.queued.load(Ordering::Relaxed), Ordering::Relaxed);
        self.stats()
    }
}

impl FrameSink for CotSender {
    fn frame(&mut self, frame: &Frame) -> Result<(), OutputError> {
        let mut json = frame.to_json();
        self.sensor.annotate(&mut json);
        self.frame_json(frame, &json)
    }

    /// Queues the frame's events (see the module documentation). Never blocks.
    fn frame_json(&mut self, _frame: &Frame, json: &Map<String, Value>) -> Result<(), OutputError> {
        let encrypted = json.get("encrypted") == Some(&Value::Bool(true));
        if encrypted
            && json.get("crc24_ok") == Some(&Value::Bool(true))
            && self.sensor.position.is_none()
        {
            self.counters
                .no_sensor_position
                .fetch_add(1, Ordering::Relaxed);
        }
        for e in cot_events(json, &self.sensor, SystemTime::now(), self.stale_s) {
            self.send(e.into_bytes());
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    /// Drains the queue (up to the drain timeout) and stops. An error when events were lost
    /// because the destination could not be reached or written.
    fn finish(&mut self, _tracks: &Tracks) -> Result<(), OutputError> {
        let s = self.shutdown(DRAIN_TIMEOUT);
        let lost = s.dropped + s.unsent;
        if lost > 0 && (s.connect_failures > 0 || s.send_failures > 0) {
            let last = self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return Err(OutputError::Cot {
                url: self.url.clone(),
                reason: format!(
                    "{lost} of {} events not delivered ({} failed connection attempts, {} failed sends; last: {last})",
                    s.events, s.connect_failures, s.send_failures
                ),
            });
        }
        Ok(())
    }

    fn summary(&self) -> String {
        self.stats().to_string()
    }
}

impl Drop for CotSender {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown(Duration::from_millis(200));
        }
    }
}

/// An open stream to a TAK server.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(b),
            Stream::Tls(s) => s.write_all(b).and_then(|_| s.flush()),
        }
    }
}

struct Worker {
    rx: Receiver<Vec<u8>>,
    dest: Dest,
    counters: Arc<Counters>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl Worker {
    fn note(&self, e: String) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    fn run(self) {
        let c = &self.counters;
        let mut stream: Option<Stream> = None;
        let mut pending: Option<Vec<u8>> = None;
        let mut backoff = BACKOFF_MIN;
        let mut next_try = Instant::now();
        loop {
            let msg = match pending.take() {
                Some(m) => m,
                None => match self.rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        if c.stop.load(Ordering::Relaxed) {
                            break;
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            match &self.dest {
                Dest::Udp(sock, addr) => {
                    match sock.send_to(&msg, addr) {
                        Ok(_) => {
                            c.sent.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            c.send_failures.fetch_add(1, Ordering::Relaxed);
                            self.note(e.to_string());
                        }
                    }
                    c.queued.fetch_sub(1, Ordering::Relaxed);
                }
                Dest::Stream { host, port, tls } => {
                    if stream.is_none() {
                        // Back off between attempts; give up waiting at shutdown.
                        while Instant::now() < next_try {
                            if c.stop.load(Ordering::Relaxed) {
                                pending = Some(msg);
                                return self.finish_unsent(pending);
                            }
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        match connect(host, *port, tls.as_ref()) {
                            Ok(s) => {
                                c.connects.fetch_add(1, Ordering::Relaxed);
                                backoff = BACKOFF_MIN;
                                stream = Some(s);
                            }
                            Err(e) => {
                                c.connect_failures.fetch_add(1, Ordering::Relaxed);
                                self.note(e);
                                next_try = Instant::now() + backoff;
                                backoff = (backoff * 2).min(BACKOFF_MAX);
                                pending = Some(msg);
                                if c.stop.load(Ordering::Relaxed) {
                                    return self.finish_unsent(pending);
                                }
                                continue;
                            }
                        }
                    }
                    let s = stream.as_mut().expect("connected above");
                    match s.write_all(&msg) {
                        Ok(()) => {
                            c.sent.fetch_add(1, Ordering::Relaxed);
                            c.queued.fetch_sub(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            c.send_failures.fetch_add(1, Ordering::Relaxed);
                            self.note(format!("write: {e}"));
                            stream = None;
                            next_try = Instant::now() + backoff;
                            pending = Some(msg);
                        }
                    }
                }
            }
        }
        self.finish_unsent(pending);
    }

    fn finish_unsent(&self, _pending: Option<Vec<u8>>) {
        // `queued` still counts the pending event and everything left in the channel.
    }
}

/// TCP connect (with a timeout) and, for TLS, the handshake.
fn connect(
    host: &str,
    port: u16,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Stream, String> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("no address for {host}");
    for a in addrs {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
                let _ = tcp.set_read_timeout(Some(WRITE_TIMEOUT));
                let Some(cfg) = tls else {
                    return Ok(Stream::Tcp(tcp));
                };
                let name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| format!("TLS server name {host:?}: {e}"))?;
                let mut conn = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(|e| format!("TLS: {e}"))?;
                let mut tcp = tcp;
                while conn.is_handshaking() {
                    conn.complete_io(&mut tcp).map_err(|e| {
                        format!(
                            "TLS handshake with {host}:{port}: {}",
                            describe_tls_error(&e)
                        )
                    })?;
                }
                return Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))));
            }
            Err(e) => last = format!("connect {a}: {e}"),
        }
    }
    Err(last)
}

/// `2026-12-03T08:30:00.123Z` (CoT's xs:dateTime in UTC).
pub fn cot_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let ms = d.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Escapes text for an XML attribute or element.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

/// A uid-safe form of a serial or session id.
fn uid_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

struct Point {
    lat: f64,
    lon: f64,
    hae: f64,
    ce: f64,
    le: f64,
}

fn event(uid: &str, kind: &str, now: SystemTime, stale_s: f64, p: &Point, detail: &str) -> String {
    let t = cot_time(now);
    let stale = cot_time(now + Duration::from_secs_f64(stale_s));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<event version=\"2.0\" uid=\"{}\" type=\"{kind}\" how=\"m-g\" time=\"{t}\" start=\"{t}\" stale=\"{stale}\">\
<point lat=\"{:.7}\" lon=\"{:.7}\" hae=\"{:.1}\" ce=\"{:.1}\" le=\"{:.1}\"/>\
<detail>{detail}</detail></event>\n",
        xml_escape(uid),
        p.lat,
        p.lon,
        p.hae,
        p.ce,
        p.le
    )
}

fn num(json: &Map<String, Value>, k: &str) -> Option<f64> {
    json.get(k)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
}

/// The CoT events of one frame's JSON object (the line `droneid decode` prints, with the
/// sensor's keys): drone, pilot and home events for CRC16-valid telemetry (each only with a
/// position), an alert for an encrypted drone (only with a sensor position), nothing else.
/// `now` is the event time; `stale_s` how long it stays current. Each event is a complete XML
/// document ending in a newline.
pub fn cot_events(
    json: &Map<String, Value>,
    sensor: &Sensor,
    now: SystemTime,
    stale_s: f64,
) -> Vec<String> {
    let mut out = Vec::new();
    if json.get("crc24_ok") != Some(&Value::Bool(true)) {
        return out;
    }
    let sensor_id = sensor.id_or_dash();
    let freq = match num(json, "center_freq_hz") {
        Some(f) => format!("{:.3} MHz", f / 1e6),
        None => format!(
            "{:+.3} MHz offset",
            num(json, "freq_offset_hz").unwrap_or(0.0) / 1e6
        ),
    };
    let snr = num(json, "snr_db").unwrap_or(f64::NAN);
    if json.get("encrypted") == Some(&Value::Bool(true)) {
        let (Some(session), Some(pos)) = (
            json.get("session_id").and_then(Value::as_str),
            sensor.position,
        ) else {
            return out;
        };
        let marker = json
            .get("packet_marker")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let uid = format!("droneid-session-{}", uid_part(session));
        let callsign = format!("Encrypted DJI drone {session}");
        let remarks = format!(
            "Encrypted DroneID ({marker}), session id {session}: position not broadcast; heard by sensor {sensor_id} within radio range. frequency {freq}, SNR {snr:.1} dB"
        );
        let detail = format!(
            "<contact callsign=\"{}\"/><remarks>{}</remarks>",
            xml_escape(&callsign),
            xml_escape(&remarks)
        );
        let p = Point {
            lat: pos.lat_deg,
            lon: pos.lon_deg,
            hae: pos.alt_m.unwrap_or(COT_UNKNOWN),
            ce: ENCRYPTED_CE_M,
            le: COT_UNKNOWN,
        };
        out.push(event(&uid, "b-a-o-opn", now, stale_s, &p, &detail));
        return out;
    }
    if json.get("crc16_ok") != Some(&Value::Bool(true))
        || json.get("msg_type") != Some(&Value::from(0x10))
    {
        return out;
    }
    let Some(serial) = json
        .get("serial_number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return out;
    };
    let product = json
        .get("product_name")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let base = format!("droneid-{}", uid_part(serial));
    if let Some((lat, lon)) = json_position(json, "drone_lat_deg", "drone_lon_deg") {
        let vn = num(json, "v_north_mps").unwrap_or(0.0);
        let ve = num(json, "v_east_mps").unwrap_or(0.0);
        let alt = num(json, "altitude_raw").unwrap_or(COT_UNKNOWN);
        let height = num(json, "height_raw");
        let mut remarks = format!(
            "DJI DroneID serial {serial}, product {product}, frequency {freq}, SNR {snr:.1} dB, sensor {sensor_id}"
        );
        if let Some(h) = height {
            remarks.push_str(&format!(", height {h:.0} m"));
        }
        if let (Some(d), Some(b)) = (
            num(json, "drone_distance_m"),
            num(json, "drone_bearing_deg"),
        ) {
            remarks.push_str(&format!(", {d:.0} m at {b:.1}° from the sensor"));
        }
        let detail = format!(
            "<contact callsign=\"{}\"/><track course=\"{:.1}\" speed=\"{:.2}\"/><remarks>{}</remarks>",
            xml_escape(&format!("{product} {serial}")),
            course_deg(vn, ve),
            vn.hypot(ve),
            xml_escape(&remarks)
        );
        let p = Point {
            lat,
            lon,
            hae: alt,
            ce: DRONE_CE_M,
            le: DRONE_LE_M,
        };
        out.push(event(&base, "a-u-A-M-H-Q", now, stale_s, &p, &detail));
    }
    for (what, lat_k, lon_k) in [
        ("pilot", "app_lat_deg", "app_lon_deg"),
        ("home", "home_lat_deg", "home_lon_deg"),
    ] {
        let Some((lat, lon)) = json_position(json, lat_k, lon_k) else {
            continue;
        };
        let mut remarks = format!(
            "{} of DJI drone {serial} ({product}), sensor {sensor_id}",
            if what == "pilot" {
                "Pilot"
            } else {
                "Home point"
            }
        );
        if what == "pilot" {
            if let (Some(d), Some(b)) = (
                num(json, "pilot_distance_m"),
                num(json, "pilot_bearing_deg"),
            ) {
                remarks.push_str(&format!(", {d:.0} m at {b:.1}° from the sensor"));
            }
        }
        let detail = format!(
            "<contact callsign=\"{}\"/><link uid=\"{}\" relation=\"p-p\" type=\"a-u-A-M-H-Q\"/><remarks>{}</remarks>",
            xml_escape(&format!("{} {serial}", if what == "pilot" { "Pilot" } else { "Home" })),
            xml_escape(&base),
            xml_escape(&remarks)
        );
        let p = Point {
            lat,
            lon,
            hae: COT_UNKNOWN,
            ce: POINT_CE_M,
            le: COT_UNKNOWN,
        };
        out.push(event(
            &format!("{base}-{what}"),
            "b-m-p-s-m",
            now,
            stale_s,
            &p,
            &detail,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso8601_utc() {
        assert_eq!(cot_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_764_750_600_123);
        assert_eq!(cot_time(t), "2025-12-03T08:30:00.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(cot_time(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn urls_parse() {
        let u = CotUrl::parse("udp://239.2.3.1:6969").unwrap();
        assert_eq!(
            (u.transport, u.host.as_str(), u.port),
            (CotTransport::Udp, "239.2.3.1", 6969)
        );
        assert_eq!(CotUrl::parse("tcp://tak.example").unwrap().port, 8087);
        assert_eq!(
            CotUrl::parse("ssl://tak.example").unwrap().transport,
            CotTransport::Tls
        );
        assert_eq!(CotUrl::parse("tls://[::1]:1").unwrap().host, "::1");
        for bad in [
            "http://h:1",
            "h:1",
            "udp://",
            "udp://h:0",
            "tcp://h:x",
            "tcp://h:1/x",
        ] {
            let e = CotUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;?");
    }
}
