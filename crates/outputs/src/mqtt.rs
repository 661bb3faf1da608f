//! MQTT publisher on `rumqttc` (MQTT 3.1.1, QoS 1): TLS (`mqtts://`, rustls), user name and
//! password, a bounded queue with counted drops, reconnection with back-off, retained per-drone
//! state and a per-sensor status with a last will.
//!
//! [`MqttPublisher::publish`] never blocks: it puts the message on rumqttc's request channel of
//! `queue_bound` messages and counts a drop when it is full (broker down or too slow). The
//! publisher's thread drives rumqttc's event loop: it connects, sends, counts acknowledgements,
//! and on any error waits (0.1 s doubling to 5 s) and reconnects; messages sent but not yet
//! acknowledged are re-sent in the resumed session.
//!
//! The first connection is made in [`MqttPublisher::connect`], before any frame is decoded:
//! a broker that refuses the user name or password, or whose certificate does not check out
//! against the CA, is a configuration error ([`OutputError::MqttConnect`], one line, the
//! password never shown). A broker that cannot be reached is not: the thread keeps trying and
//! messages queue up to the bound.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use droneid_receiver::Frame;
use droneid_tracks::Tracks;
use rumqttc::{
    Client, ConnectReturnCode, Connection, ConnectionError, Event, LastWill, MqttOptions, Outgoing,
    Packet, QoS, RecvTimeoutError, TlsConfiguration, Transport,
};
use serde_json::{json, Map, Value};

use crate::sensor::{json_position, Sensor};
use crate::tls::{describe_tls_error, TlsFiles};
use crate::{FrameSink, OutputError};

/// Unacknowledged QoS 1 messages at most.
pub const MAX_IN_FLIGHT: u16 = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// TCP + TLS + CONNECT/CONNACK, seconds.
const CONNECT_TIMEOUT_S: u64 = 5;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How long [`FrameSink::finish`] waits for the queue to drain and the broker to acknowledge;
/// what is left then is counted in [`MqttStats::unsent`].
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Environment variable read for the password when no `--mqtt-password` is given.
pub const PASSWORD_ENV: &str = "DRONEID_MQTT_PASSWORD";

/// A parsed `mqtt[s]://[user[:password]@]host[:port][/]` URL (`tcp://`, `ssl://` too).
#[derive(Clone, PartialEq, Eq)]
pub struct MqttUrl {
    /// Host name or address (IPv6 in brackets in the URL, without them here).
    pub host: String,
    /// TCP port (default 1883, 8883 with TLS).
    pub port: u16,
    /// TLS (`mqtts://`, `ssl://`).
    pub tls: bool,
    /// User name, when given in the URL.
    pub username: Option<String>,
    /// Password, when given in the URL.
    pub password: Option<String>,
}

impl std::fmt::Debug for MqttUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let (auth_host, tail) = rest.split_at(host_end);
    match auth_host.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let pw = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{pw}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

impl MqttUrl {
    /// Parses a URL. Errors: [`OutputError::MqttUrl`] (the password redacted) for another
    /// scheme, a missing host, a bad port, or a path other than `/`.
    pub fn parse(url: &str) -> Result<Self, OutputError> {
        let bad = |reason: &str| OutputError::MqttUrl {
            url: redact_url(url),
            reason: reason.to_string(),
        };
        let (rest, tls) = if let Some(r) = url.strip_prefix("mqtt://") {
            (r, false)
        } else if let Some(r) = url.strip_prefix("tcp://") {
            (r, false)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (r, true)
        } else if let Some(r) = url.strip_prefix("ssl://") {
            (r, true)
        } else {
            return Err(bad("expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"));
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
        let (host, port) = split_host_port(hostport).map_err(bad)?;
        let port = match port {
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(bad("port must be 1..65535")),
            },
        };
        Ok(Self {
            host: host.to_string(),
            port,
            tls,
            username,
            password,
        })
    }
}

/// `host[:port]` or `[v6][:port]` → host and the port's text.
pub(crate) fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), &'static str> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed '['")?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':').ok_or("junk after ']'")?)),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("missing host");
    }
    Ok((host, port))
}

/// Everything [`MqttPublisher::connect`] needs.
#[derive(Clone)]
pub struct MqttConfig {
    /// `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]` (user and password may be in it).
    pub url: String,
    /// Topic prefix, e.g. `droneid` (no `+`, `#`, NUL; a trailing `/` is removed).
    pub topic_prefix: String,
    /// Messages that may wait for the broker before new ones are dropped (counted); ≥ 1.
    pub queue_bound: usize,
    /// User name (overrides the URL's).
    pub username: Option<String>,
    /// Password (overrides the URL's); never printed.
    pub password: Option<String>,
    /// CA, client certificate and key for `mqtts://`.
    pub tls: TlsFiles,
    /// The sensor: its id names the status topic and is added to the state messages.
    pub sensor: Sensor,
    /// How long [`MqttPublisher::connect`] waits for the first CONNACK before going on
    /// in the background.
    pub first_connect_timeout: Duration,
}

impl std::fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttConfig")
            .field("url", &redact_url(&self.url))
            .field("topic_prefix", &self.topic_prefix)
            .field("queue_bound", &self.queue_bound)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field("sensor", &self.sensor)
            .finish()
    }
}

impl MqttConfig {
    /// Defaults: queue of 4096 messages, no credentials, no TLS files, no sensor id, 5 s for
    /// the first connection.
    pub fn new(url: &str, topic_prefix: &str) -> Self {
        Self {
            url: url.to_string(),
            topic_prefix: topic_prefix.to_string(),
            queue_bound: 4096,
            username: None,
            password: None,
            tls: TlsFiles::default(),
            sensor: Sensor::default(),
            first_connect_timeout: Duration::from_secs(CONNECT_TIMEOUT_S + 1),
        }
    }
}

/// Counters of a publisher (a snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MqttStats {
    /// Messages handed to [`MqttPublisher::publish`] (queued or dropped), status messages
    /// included.
    pub published: u64,
    /// PUBLISH packets written to a broker (re-sends after a reconnect included).
    pub sent: u64,
    /// PUBACKs received.
    pub acked: u64,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
    /// Messages queued or unacknowledged when the publisher shut down (lost).
    pub unsent: u64,
    /// Successful connections after the first.
    pub reconnects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
    /// Messages accepted but not yet acknowledged now.
    pub queued: u64,
    /// Connected to the broker now.
    pub connected: bool,
}

impl std::fmt::Display for MqttStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mqtt: {} published, {} sent, {} acked, {} dropped (queue full), {} unsent, {} reconnects, {} failed connection attempts",
            self.published,
            self.sent,
            self.acked,
            self.dropped,
            self.unsent,
            self.reconnects,
            self.connect_failures
        )
    }
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    dropped: AtomicU64,
    unsent: AtomicU64,
    connects: AtomicU64,
    connect_failures: AtomicU64,
    connected: AtomicBool,
    stop: AtomicBool,
}

impl Counters {
    fn accepted(&self) -> u64 {
        self.published.load(Ordering::Relaxed) - self.dropped.load(Ordering::Relaxed)
    }
}

struct Shared {
    counters: Counters,
    /// Wakes the thread out of its back-off sleep at shutdown.
    wake: (Mutex<()>, Condvar),
    last_error: Mutex<Option<String>>,
}

/// Publishes frames, per-drone state and the sensor's status to an MQTT broker.
///
/// Topics (`P` = the topic prefix, all QoS 1):
/// * `P/frames`: every frame, as its JSON line (the object `droneid decode` prints, with
///   `sensor_id` and distances when given); not retained;
/// * `P/drones/<id>/state`: retained, the drone's newest state (see [`state_json`]); `<id>` is
///   the serial number, or `session:<hex>` for an encrypted drone;
/// * `P/drones/<id>/summary`: at [`FrameSink::finish`], the drone's counters; not retained;
/// * `P/sensors/<sensor-id>/status`: retained `{"sensor_id", "status": "online", ...}` on each
///   connection; the last will (sent by the broker when the connection is lost) and a clean
///   shutdown set it to `"offline"`. Without `--sensor-id` the level is `unnamed`.
///
/// `+`, `#`, `/` and NUL in ids become `_`.
pub struct MqttPublisher {
    client: Client,
    shared: Arc<Shared>,
    prefix: String,
    status_topic: String,
    sensor: Sensor,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MqttPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttPublisher")
            .field("prefix", &self.prefix)
            .field("stats", &self.stats())
            .finish()
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn status_payload(sensor: &Sensor, status: &str) -> Vec<u8> {
    let mut v = Map::new();
    v.insert(
        "sensor_id".into(),
        sensor.id.clone().map_or(Value::Null, Value::String),
    );
    v.insert("status".into(), status.into());
    if let Some(p) = sensor.position {
        v.insert(
            "position".into(),
            json!({"lat_deg": p.lat_deg, "lon_deg": p.lon_deg, "alt_m": p.alt_m}),
        );
    }
    v.insert("software_version".into(), env!("CARGO_PKG_VERSION").into());
    v.insert("time_unix_ms".into(), unix_ms().into());
    Value::Object(v).to_string().into_bytes()
}

/// Why the first connection failed, and whether that is the user's configuration (fatal)
/// rather than a broker that is not (yet) reachable.
fn classify(e: &ConnectionError) -> (bool, String) {
    match e {
        ConnectionError::ConnectionRefused(code) => (
            true,
            match code {
                ConnectReturnCode::BadUserNamePassword => {
                    "the broker refused the user name or password".to_string()
                }
                ConnectReturnCode::NotAuthorized => {
                    "the broker refused the connection: not authorised (user name or password wrong or missing)".to_string()
                }
                ConnectReturnCode::BadClientId => "the broker refused the client id".to_string(),
                ConnectReturnCode::RefusedProtocolVersion => {
                    "the broker does not speak MQTT 3.1.1".to_string()
                }
                ConnectReturnCode::ServiceUnavailable => {
                    "the broker says it is unavailable".to_string()
                }
                ConnectReturnCode::Success => "unexpected CONNACK".to_string(),
            },
        ),
        ConnectionError::Tls(t) => {
            let mut src: Option<&(dyn std::error::Error + 'static)> = Some(t);
            let mut tls_level = !matches!(t, rumqttc::TlsError::Io(_));
            while let Some(s) = src {
                if s.downcast_ref::<rustls::Error>().is_some() {
                    tls_level = true;
                }
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    if io.get_ref().is_some_and(|i| i.downcast_ref::<rustls::Error>().is_some()) {
                        tls_level = true;
                    }
                }
                src = s.source();
            }
            (tls_level, format!("TLS: {}", describe_tls_error(t)))
        }
        ConnectionError::Io(io) => {
            let tls_level = io
                .get_ref()
                .is_some_and(|i| i.downcast_ref::<rustls::Error>().is_some());
            (tls_level, describe_tls_error(io))
        }
        other => (false, other.to_string()),
    }
}

impl MqttPublisher {
    /// Checks the configuration, makes the first connection (waiting up to
    /// `first_connect_timeout` for it) and starts the publisher's thread.
    ///
    /// Errors: [`OutputError::MqttUrl`] for a bad URL or prefix, a password without a user
    /// name, TLS files with `mqtt://`; [`OutputError::Tls`] for unreadable certificate or key
    /// files; [`OutputError::MqttConnect`] when the broker refuses the credentials or its TLS
    /// certificate is not trusted. A broker that cannot be reached is not an error: messages
    /// queue (up to `queue_bound`, then are dropped and counted) while the thread retries.
    pub fn connect(cfg: &MqttConfig) -> Result<Self, OutputError> {
        let url = MqttUrl::parse(&cfg.url)?;
        let shown = redact_url(&cfg.url);
        let bad = |reason: String| OutputError::MqttUrl {
            url: shown.clone(),
            reason,
        };
        let prefix = cfg.topic_prefix.trim_end_matches('/').to_string();
        if prefix.is_empty() || prefix.contains(['+', '#', '\0']) {
            return Err(bad(format!(
                "topic prefix {:?} must be non-empty, without '+', '#' or NUL",
                cfg.topic_prefix
            )));
        }
        let username = cfg.username.clone().or(url.username.clone());
        let password = cfg.password.clone().or(url.password.clone());
        if password.is_some() && username.is_none() {
            return Err(bad("a password needs a user name (--mqtt-user)".into()));
        }
        if cfg.tls.any() && !url.tls {
            return Err(bad(
                "--mqtt-ca/--mqtt-cert/--mqtt-key need an mqtts:// URL".into()
            ));
        }
        let client_id = format!(
            "droneid-{}-{}-{}",
            cfg.sensor.id.as_deref().unwrap_or("sensor"),
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let sensor_level = cfg
            .sensor
            .id
            .as_deref()
            .map_or("unnamed".into(), topic_level);
        let status_topic = format!("{prefix}/sensors/{sensor_level}/status");
        let mut opts = MqttOptions::new(client_id, url.host.clone(), url.port);
        opts.set_keep_alive(KEEP_ALIVE);
        // A persistent session: messages sent but not acknowledged when the connection drops
        // are re-sent after the reconnect.
        opts.set_clean_session(false);
        opts.set_inflight(MAX_IN_FLIGHT);
        opts.set_max_packet_size(1 << 20, 1 << 20);
        opts.set_last_will(LastWill::new(
            status_topic.clone(),
            status_payload(&cfg.sensor, "offline"),
            QoS::AtLeastOnce,
            true,
        ));
        if let Some(u) = &username {
            opts.set_credentials(u.clone(), password.clone().unwrap_or_default());
        }
        if url.tls {
            let tls = cfg.tls.client_config("mqtt")?;
            opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
        }
        let bound = cfg.queue_bound.max(1);
        let (client, mut connection) = Client::new(opts, bound);
        connection
            .eventloop
            .network_options
            .set_connection_timeout(CONNECT_TIMEOUT_S);
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            wake: (Mutex::new(()), Condvar::new()),
            last_error: Mutex::new(None),
        });
        let online = status_payload(&cfg.sensor, "online");
        // The first connection, before any frame: wrong credentials or CA stop the run here.
        let deadline = Instant::now() + cfg.first_connect_timeout;
        let c = &shared.counters;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match connection.recv_timeout(left) {
                Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                    c.connects.fetch_add(1, Ordering::Relaxed);
                    c.connected.store(true, Ordering::Relaxed);
                    break;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    let (fatal, why) = classify(&e);
                    if fatal {
                        return Err(OutputError::MqttConnect {
                            url: shown,
                            reason: why,
                        });
                    }
                    c.connect_failures.fetch_add(1, Ordering::Relaxed);
                    *shared.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                    break;
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let publisher_client = client.clone();
        let worker = Worker {
            client: client.clone(),
            shared: shared.clone(),
            status_topic: status_topic.clone(),
            online: online.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("droneid-mqtt".into())
            .spawn(move || worker.run(connection))
            .map_err(|e| OutputError::Mqtt(format!("cannot start thread: {e}")))?;
        let p = Self {
            client: publisher_client,
            shared,
            prefix,
            status_topic,
            sensor: cfg.sensor.clone(),
            thread: Some(thread),
        };
        if p.shared.counters.connected.load(Ordering::Relaxed) {
            p.publish_retained(&p.status_topic.clone(), &online);
        }
        Ok(p)
    }

    /// The reason of the last failed connection attempt, when there was one.
    pub fn last_error(&self) -> Option<String> {
        self.shared
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Queues one message (QoS 1, not retained). Never blocks; returns false (and counts a
    /// drop) when the queue is full or the publisher has been shut down.
    pub fn publish(&self, topic: &str, payload: &[u8]) -> bool {
        self.enqueue(topic, payload, false)
    }

    /// Queues one retained message (QoS 1); as [`publish`](Self::publish) otherwise.
    pub fn publish_retained(&self, topic: &str, payload: &[u8]) -> bool {
        self.enqueue(topic, payload, true)
    }

    fn enqueue(&self, topic: &str, payload: &[u8], retain: bool) -> bool {
        let c = &self.shared.counters;
        c.published.fetch_add(1, Ordering::Relaxed);
        let ok = !c.stop.load(Ordering::Relaxed)
            && self
                .client
                .try_publish(topic, QoS::AtLeastOnce, retain, payload.to_vec())
                .is_ok();
        if !ok {
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> MqttStats {
        let c = &self.shared.counters;
        let acked = c.acked.load(Ordering::Relaxed);
        MqttStats {
            published: c.published.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            acked,
            dropped: c.dropped.load(Ordering::Relaxed),
            unsent: c.unsent.load(Ordering::Relaxed),
            reconnects: c.connects.load(Ordering::Relaxed).saturating_sub(1),
            connect_failures: c.connect_failures.load(Ordering::Relaxed),
            queued: c.accepted().saturating_sub(acked),
            connected: c.connected.load(Ordering::Relaxed),
        }
    }

    /// Stops: publishes the sensor's `offline` status, waits up to `timeout` for everything
    /// queued to be acknowledged, then disconnects. Returns the final counters. Later calls
    /// return at once.
    pub fn shutdown(&mut self, timeout: Duration) -> MqttStats {
        let Some(thread) = self.thread.take() else {
            return self.stats();
        };
        let c = &self.shared.counters;
        let offline = status_payload(&self.sensor, "offline");
        self.publish_retained(&self.status_topic.clone(), &offline);
        let deadline = Instant::now() + timeout;
        while c.acked.load(Ordering::Relaxed) < c.accepted() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        c.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
        self.shared.wake.1.notify_all();
        // The thread ends after the DISCONNECT, or after its current connection attempt.
        let _ = thread.join();
        let left = c.accepted().saturating_sub(c.acked.load(Ordering::Relaxed));
        c.unsent.store(left, Ordering::Relaxed);
        c.connected.store(false, Ordering::Relaxed);
        self.stats()
    }

    fn topic(&self, rest: &str) -> String {
        format!("{}/{}", self.prefix, rest)
    }
}

/// An id usable as one topic level.
pub(crate) fn topic_level(id: &str) -> String {
    let s: String = id
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

/// The drone a frame is about, as a topic level / uid part: the serial number of a CRC-valid
/// frame, or `session:<hex>` for an encrypted record (a frame JSON with `"encrypted": true`
/// and `session_id`). `None` for frames that name no drone.
pub fn drone_key(json: &Map<String, Value>) -> Option<String> {
    if json.get("crc24_ok") != Some(&Value::Bool(true)) {
        return None;
    }
    if json.get("encrypted") == Some(&Value::Bool(true)) {
        return json
            .get("session_id")
            .and_then(Value::as_str)
            .map(|s| format!("session:{s}"));
    }
    json.get("serial_number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The retained per-drone state of a frame (`None` for frames that carry no state: identity
/// records, CRC16 failures, frames without a drone).
///
/// Keys: `drone` (the serial or `session:<hex>`), `sensor_id`, `received_unix_ms` (wall
/// clock of the sensor), `time_s`, `snr_db`, `center_freq_hz`, and, as the frame has them,
/// `serial_number`, `product_name`, `sequence_number`, `gps_time_ms`, `drone_lat_deg`,
/// `drone_lon_deg`, `altitude_m`, `height_m`, `speed_mps`, `course_deg`, `v_up_mps`,
/// `yaw_deg`, `pilot_lat_deg`, `pilot_lon_deg`, `home_lat_deg`, `home_lon_deg`,
/// `drone_distance_m`, `drone_bearing_deg`, `pilot_distance_m`, `pilot_bearing_deg`,
/// `encrypted`, `packet_marker`, `session_id`. Positions without a fix (0/0) are left out.
pub fn state_json(json: &Map<String, Value>) -> Option<Map<String, Value>> {
    let key = drone_key(json)?;
    let encrypted = json.get("encrypted") == Some(&Value::Bool(true));
    if !encrypted
        && (json.get("crc16_ok") != Some(&Value::Bool(true))
            || json.get("msg_type") != Some(&json!(0x10)))
    {
        return None;
    }
    let mut s = Map::new();
    s.insert("drone".into(), key.into());
    for k in [
        "sensor_id",
        "serial_number",
        "product_name",
        "sequence_number",
        "gps_time_ms",
        "time_s",
        "snr_db",
        "center_freq_hz",
        "yaw_deg",
        "v_up_mps",
        "drone_distance_m",
        "drone_bearing_deg",
        "pilot_distance_m",
        "pilot_bearing_deg",
        "encrypted",
        "packet_marker",
        "session_id",
    ] {
        if let Some(v) = json.get(k) {
            s.insert(k.into(), v.clone());
        }
    }
    s.insert("received_unix_ms".into(), unix_ms().into());
    if let Some((lat, lon)) = json_position(json, "drone_lat_deg", "drone_lon_deg") {
        s.insert("drone_lat_deg".into(), lat.into());
        s.insert("drone_lon_deg".into(), lon.into());
    }
    for (from, to) in [("altitude_raw", "altitude_m"), ("height_raw", "height_m")] {
        if let Some(v) = json.get(from).and_then(Value::as_f64) {
            s.insert(to.into(), v.into());
        }
    }
    if let (Some(vn), Some(ve)) = (
        json.get("v_north_mps").and_then(Value::as_f64),
        json.get("v_east_mps").and_then(Value::as_f64),
    ) {
        s.insert("speed_mps".into(), round2(vn.hypot(ve)).into());
        s.insert("course_deg".into(), round2(course_deg(vn, ve)).into());
    }
    for (name, lat, lon) in [
        ("pilot", "app_lat_deg", "app_lon_deg"),
        ("home", "home_lat_deg", "home_lon_deg"),
    ] {
        if let Some((la, lo)) = json_position(json, lat, lon) {
            s.insert(format!("{name}_lat_deg"), la.into());
            s.insert(format!("{name}_lon_deg"), lo.into());
        }
    }
    Some(s)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Course over ground from velocity components, degrees clockwise from true north, 0..360.
pub fn course_deg(v_north_mps: f64, v_east_mps: f64) -> f64 {
    if v_north_mps == 0.0 && v_east_mps == 0.0 {
        return 0.0;
    }
    let c = v_east_mps.atan2(v_north_mps).to_degrees().rem_euclid(360.0);
    if c >= 360.0 {
        0.0
    } else {
        c
    }
}

impl FrameSink for MqttPublisher {
    fn frame(&mut self, frame: &Frame) -> Result<(), OutputError> {
        let mut json = frame.to_json();
        self.sensor.annotate(&mut json);
        self.frame_json(frame, &json)
    }

    /// Queues the frame's JSON on `P/frames` and, for a frame with drone state, the retained
    /// `P/drones/<id>/state`. Never blocks.
    fn frame_json(&mut self, _frame: &Frame, json: &Map<String, Value>) -> Result<(), OutputError> {
        let line = Value::Object(json.clone()).to_string();
        self.publish(&self.topic("frames"), line.as_bytes());
        if let Some(state) = state_json(json) {
            let key = drone_key(json).unwrap_or_default();
            let topic = self.topic(&format!("drones/{}/state", topic_level(&key)));
            self.publish_retained(&topic, Value::Object(state).to_string().as_bytes());
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
                "sensor_id": self.sensor.id,
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
        self.shutdown(DRAIN_TIMEOUT);
        if alive {
            Ok(())
        } else {
            Err(OutputError::Mqtt("publisher thread stopped early".into()))
        }
    }

    fn summary(&self) -> String {
        let s = self.stats();
        match self.last_error() {
            Some(e) if s.connect_failures > 0 => format!("{s} (last: {e})"),
            _ => s.to_string(),
        }
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

/// The thread that drives rumqttc's event loop.
struct Worker {
    client: Client,
    shared: Arc<Shared>,
    status_topic: String,
    online: Vec<u8>,
}

impl Worker {
    fn run(self, mut connection: Connection) {
        let c = &self.shared.counters;
        let mut backoff = BACKOFF_MIN;
        loop {
            match connection.recv() {
                Err(_) => break, // every client handle is gone
                Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                    c.connected.store(true, Ordering::Relaxed);
                    backoff = BACKOFF_MIN;
                    if c.connects.fetch_add(1, Ordering::Relaxed) > 0
                        && !c.stop.load(Ordering::Relaxed)
                    {
                        // A new connection: say again that the sensor is online.
                        c.published.fetch_add(1, Ordering::Relaxed);
                        if self
                            .client
                            .try_publish(
                                self.status_topic.clone(),
                                QoS::AtLeastOnce,
                                true,
                                self.online.clone(),
                            )
                            .is_err()
                        {
                            c.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => {
                    c.acked.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Ok(Event::Outgoing(Outgoing::Publish(_)))) => {
                    c.sent.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    let was = c.connected.swap(false, Ordering::Relaxed);
                    if c.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if !was {
                        c.connect_failures.fetch_add(1, Ordering::Relaxed);
                    }
                    *self
                        .shared
                        .last_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(classify(&e).1);
                    // Back off, waking early at shutdown.
                    let (m, cv) = &self.shared.wake;
                    let g = m.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = cv.wait_timeout_while(g, backoff, |_| !c.stop.load(Ordering::Relaxed));
                    if c.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        c.connected.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_passwords_are_redacted() {
        let u = MqttUrl::parse("mqtts://bob:s3cret@broker.example:18883").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("broker.example", 18883, true)
        );
        assert_eq!(u.password.as_deref(), Some("s3cret"));
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(MqttUrl::parse("mqtt://h").unwrap().port, 1883);
        assert_eq!(MqttUrl::parse("mqtts://h").unwrap().port, 8883);
        assert_eq!(MqttUrl::parse("mqtt://[::1]:99").unwrap().host, "::1");
        for bad in [
            "h",
            "http://h",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:x",
            "mqtt://h/a",
        ] {
            assert!(MqttUrl::parse(bad).is_err(), "{bad}");
        }
        let e = MqttUrl::parse("mqtt://bob:s3cret@h:x")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret") && e.contains("bob:***@h:x"), "{e}");
        assert_eq!(redact_url("mqtt://h:1"), "mqtt://h:1");
        assert_eq!(redact_url("mqtt://u@h"), "mqtt://u@h");
    }

    #[test]
    fn courses_point_where_the_velocity_does() {
        assert_eq!(course_deg(1.0, 0.0), 0.0);
        assert!((course_deg(0.0, 1.0) - 90.0).abs() < 1e-12);
        assert!((course_deg(-1.0, 0.0) - 180.0).abs() < 1e-12);
        assert!((course_deg(0.0, -1.0) - 270.0).abs() < 1e-12);
        assert!((course_deg(1.0, -1.0) - 315.0).abs() < 1e-12);
        assert_eq!(course_deg(0.0, 0.0), 0.0);
    }

    #[test]
    fn encrypted_frames_are_keyed_by_session_and_carry_no_position() {
        let mut m = Map::new();
        m.insert("crc24_ok".into(), true.into());
        m.insert("encrypted".into(), true.into());
        m.insert("session_id".into(), "0a1b2c3d".into());
        m.insert("packet_marker".into(), "CRYP".into());
        assert_eq!(drone_key(&m).as_deref(), Some("session:0a1b2c3d"));
        let s = state_json(&m).unwrap();
        assert_eq!(s["drone"], "session:0a1b2c3d");
        assert!(!s.keys().any(|k| k.contains("lat") || k.contains("lon")));
        m.insert("crc24_ok".into(), false.into());
        assert!(drone_key(&m).is_none());
    }
}
