//! The frame outputs shared by `decode` and `live`, behind one small interface ([`Sinks`]):
//! HDF5, MQTT, CoT, and the sensor's identity that every output carries. An output is a
//! [`FrameSink`] (in `droneid-outputs`); adding one is a new file there plus its flags here.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use droneid_outputs::{
    CaptureAttributes, CotConfig, CotSender, FrameSink, Hdf5Writer, MqttConfig, MqttPublisher,
    OutputError, Sensor, TlsFiles, PASSWORD_ENV,
};
use droneid_receiver::Frame;
use droneid_tracks::Tracks;
use serde_json::{Map, Value};

use crate::common::CliError;

/// Messages an unreachable MQTT broker may have queued before new ones are dropped (counted).
const MQTT_QUEUE_BOUND: usize = 4096;
/// CoT events that may wait for an unreachable TAK server before new ones are dropped.
const COT_QUEUE_BOUND: usize = 1024;

/// Output flags beyond the JSON lines and GeoJSON, and the sensor's identity.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Name of this sensor, carried by every output (JSON lines `sensor_id`, HDF5 attribute,
    /// MQTT status topic and messages, CoT remarks): letters, digits, '.', '_', '-'.
    #[arg(long, value_name = "NAME")]
    pub sensor_id: Option<String>,
    /// Where the sensor stands (WGS 84 degrees, metres): frames then add the distance and
    /// bearing from the sensor to the drone and to the pilot; CoT places encrypted drones here.
    #[arg(long, value_name = "LAT,LON[,ALT]", allow_hyphen_values = true)]
    pub sensor_position: Option<String>,
    /// Also write every frame (a `frames` table) and each drone's track (`drones/<serial>/track`)
    /// to an HDF5 file, flushed as it goes so that an interrupted run leaves a readable file.
    #[arg(long, value_name = "FILE.h5")]
    pub hdf5: Option<PathBuf>,
    /// Publish frames, per-drone state (retained) and this sensor's status (retained, last
    /// will "offline") to an MQTT broker, QoS 1; mqtts:// for TLS. A broker that refuses the
    /// password or whose certificate fails is an error before decoding starts; one that is down
    /// makes messages queue up to a bound, then they are counted as dropped.
    #[arg(long, value_name = "mqtt[s]://HOST[:PORT]")]
    pub mqtt: Option<String>,
    /// Topic prefix for --mqtt: PREFIX/frames, PREFIX/drones/<id>/state,
    /// PREFIX/sensors/<sensor-id>/status.
    #[arg(long, value_name = "PREFIX", default_value = "droneid")]
    pub mqtt_topic: String,
    /// MQTT user name.
    #[arg(long, value_name = "USER")]
    pub mqtt_user: Option<String>,
    /// MQTT password (visible to other users in the process list: prefer the environment
    /// variable DRONEID_MQTT_PASSWORD). Never printed.
    #[arg(long, value_name = "PASSWORD")]
    pub mqtt_password: Option<String>,
    /// CA certificate (PEM) the broker's certificate must chain to (mqtts://; default: the
    /// system's CAs).
    #[arg(long, value_name = "FILE.pem")]
    pub mqtt_ca: Option<PathBuf>,
    /// Client certificate (PEM) for brokers that ask for one (mqtts://).
    #[arg(long, value_name = "FILE.pem")]
    pub mqtt_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE.pem")]
    pub mqtt_key: Option<PathBuf>,
    /// Send Cursor-on-Target events (drone, pilot, home; alerts for encrypted drones) to TAK:
    /// udp://239.2.3.1:6969 (the SA multicast), udp://HOST:PORT, tcp://HOST:PORT (TAK server
    /// streaming input) or tls://HOST:PORT (with --cot-cert/--cot-key/--cot-ca).
    #[arg(long, value_name = "URL")]
    pub cot: Option<String>,
    /// Client certificate (PEM) for tls:// CoT.
    #[arg(long, value_name = "FILE.pem")]
    pub cot_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE.pem")]
    pub cot_key: Option<PathBuf>,
    /// CA certificate (PEM) of the TAK server (default: the system's CAs).
    #[arg(long, value_name = "FILE.pem")]
    pub cot_ca: Option<PathBuf>,
    /// Seconds a CoT event stays current (its `stale` time).
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub cot_stale: f64,
}

/// The open sinks of one run, the sensor, and the first error any sink gave.
pub struct Sinks {
    sinks: Vec<Box<dyn FrameSink>>,
    sensor: Sensor,
    error: Option<OutputError>,
    last_flush: Instant,
}

fn usage(flag: &str) -> impl Fn(OutputError) -> CliError + '_ {
    move |e| CliError::usage(format!("{flag}: {e}"))
}

impl Sinks {
    /// Checks the sensor flags and opens every requested sink (before any sample is read): a
    /// bad sensor id or position, an unusable URL, an unreadable certificate, a broker that
    /// refuses the password or fails the CA check, an HDF5 file that cannot be created are
    /// usage errors (exit 2).
    pub fn open(args: &OutputArgs, attrs: &CaptureAttributes) -> Result<Self, CliError> {
        let sensor = Sensor::from_flags(args.sensor_id.as_deref(), args.sensor_position.as_deref())
            .map_err(CliError::usage)?;
        let mut sinks: Vec<Box<dyn FrameSink>> = Vec::new();
        let cot_files = TlsFiles {
            ca: args.cot_ca.clone(),
            cert: args.cot_cert.clone(),
            key: args.cot_key.clone(),
        };
        match &args.cot {
            Some(url) => {
                let mut cfg = CotConfig::new(url);
                cfg.tls = cot_files;
                cfg.sensor = sensor.clone();
                cfg.stale_s = args.cot_stale;
                cfg.queue_bound = COT_QUEUE_BOUND;
                sinks.push(Box::new(CotSender::open(&cfg).map_err(usage("--cot"))?));
            }
            None if cot_files.any() => {
                return Err(CliError::usage("--cot-ca/--cot-cert/--cot-key need --cot"))
            }
            None => {}
        }
        let mqtt_files = TlsFiles {
            ca: args.mqtt_ca.clone(),
            cert: args.mqtt_cert.clone(),
            key: args.mqtt_key.clone(),
        };
        match &args.mqtt {
            Some(url) => {
                let mut cfg = MqttConfig::new(url, &args.mqtt_topic);
                cfg.queue_bound = MQTT_QUEUE_BOUND;
                cfg.username = args.mqtt_user.clone();
                cfg.password = args
                    .mqtt_password
                    .clone()
                    .or_else(|| std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()));
                cfg.tls = mqtt_files;
                cfg.sensor = sensor.clone();
                sinks.push(Box::new(
                    MqttPublisher::connect(&cfg).map_err(usage("--mqtt"))?,
                ));
            }
            None if mqtt_files.any()
                || args.mqtt_user.is_some()
                || args.mqtt_password.is_some() =>
            {
                return Err(CliError::usage(
                    "--mqtt-user/--mqtt-password/--mqtt-ca/--mqtt-cert/--mqtt-key need --mqtt",
                ))
            }
            None => {}
        }
        if let Some(p) = &args.hdf5 {
            let mut h5 = Hdf5Writer::create(p, attrs).map_err(usage("--hdf5"))?;
            h5.set_sensor(&sensor).map_err(usage("--hdf5"))?;
            sinks.push(Box::new(h5));
        }
        Ok(Self {
            sinks,
            sensor,
            error: None,
            last_flush: Instant::now(),
        })
    }

    /// The JSON object of a frame as every output shows it: the frame's keys plus the
    /// sensor's (`sensor_id`, distances and bearings).
    pub fn json(&self, frame: &Frame) -> Map<String, Value> {
        let mut m = frame.to_json();
        self.sensor.annotate(&mut m);
        m
    }

    /// Hands a frame and its JSON object ([`Sinks::json`]) to every sink.
    pub fn frame(&mut self, frame: &Frame, json: &Map<String, Value>) {
        for s in &mut self.sinks {
            if let Err(e) = s.frame_json(frame, json) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Flushes every sink about once a second (called from the pipeline's ticks).
    pub fn tick(&mut self) {
        if self.last_flush.elapsed().as_secs_f64() >= 1.0 {
            self.last_flush = Instant::now();
            for s in &mut self.sinks {
                if let Err(e) = s.flush() {
                    self.error.get_or_insert(e);
                }
            }
        }
    }

    /// Ends every sink with the finished tracks; returns one summary line per sink and the
    /// first error seen during the run.
    pub fn finish(mut self, tracks: &Tracks) -> (Vec<String>, Option<OutputError>) {
        let mut lines = Vec::new();
        for s in &mut self.sinks {
            if let Err(e) = s.finish(tracks) {
                self.error.get_or_insert(e);
            }
            lines.push(s.summary());
        }
        (lines, self.error)
    }
}

/// The command line with the value of `--mqtt-password` (and any password in an MQTT URL)
/// replaced by `***`, for files that record how they were made.
pub fn redacted_command_line() -> String {
    let mut out = Vec::new();
    let mut hide_next = false;
    for a in std::env::args() {
        if hide_next {
            out.push("***".to_string());
            hide_next = false;
        } else if a == "--mqtt-password" {
            out.push(a);
            hide_next = true;
        } else if a.starts_with("--mqtt-password=") {
            out.push("--mqtt-password=***".into());
        } else if a.contains("://") {
            out.push(droneid_outputs::redact_url(&a));
        } else if let Some(v) = a.strip_prefix("--mqtt=") {
            out.push(format!("--mqtt={}", droneid_outputs::redact_url(v)));
        } else {
            out.push(a);
        }
    }
    out.join(" ")
}

/// Attributes recorded in the HDF5 file.
pub fn capture_attributes(
    source: &str,
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
) -> CaptureAttributes {
    CaptureAttributes {
        source: source.to_string(),
        sample_rate_hz,
        center_freq_hz,
        software_version: env!("CARGO_PKG_VERSION").into(),
        command_line: redacted_command_line(),
    }
}
