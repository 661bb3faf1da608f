//! Outputs of decoded DroneID frames besides the JSON lines: an HDF5 file ([`Hdf5Writer`]), an
//! MQTT publisher ([`MqttPublisher`], on `rumqttc`, TLS and passwords), Cursor-on-Target events
//! for TAK ([`CotSender`]: UDP/multicast, TCP, TLS), the sensor's identity and position
//! ([`Sensor`]: distance and bearing to drone and pilot) and PNG plots ([`plot`]).
//!
//! [`Hdf5Writer`], [`MqttPublisher`] and [`CotSender`] implement [`FrameSink`]: the decoder's
//! sink thread calls [`FrameSink::frame_json`] for every frame it prints (with the JSON object
//! it prints), [`FrameSink::flush`] now and then (and at Ctrl-C), and [`FrameSink::finish`]
//! once with the finished tracks. None blocks for long: the HDF5 writer appends one row (and
//! flushes every few rows), the MQTT and CoT senders only put the message on a bounded queue
//! that their own thread drains (full queue: counted drops).
//!
//! ```no_run
//! use droneid_outputs::{CaptureAttributes, FrameSink, Hdf5Writer, MqttConfig, MqttPublisher};
//! # fn frames() -> Vec<droneid_receiver::Frame> { Vec::new() }
//! let attrs = CaptureAttributes {
//!     source: "capture.sigmf-meta".into(),
//!     sample_rate_hz: 61.44e6,
//!     center_freq_hz: Some(2.4445e9),
//!     software_version: env!("CARGO_PKG_VERSION").into(),
//!     command_line: "droneid decode capture.sigmf-meta --hdf5 out.h5".into(),
//! };
//! let mut sinks: Vec<Box<dyn FrameSink>> = vec![
//!     Box::new(Hdf5Writer::create("out.h5", &attrs)?),
//!     Box::new(MqttPublisher::connect(&MqttConfig::new("mqtt://127.0.0.1:1883", "droneid"))?),
//! ];
//! let mut builder = droneid_tracks::TrackBuilder::new();
//! for f in frames() {
//!     builder.push(&f);
//!     for s in &mut sinks {
//!         s.frame(&f)?;
//!     }
//! }
//! let tracks = builder.finish();
//! for s in &mut sinks {
//!     s.finish(&tracks)?;
//! }
//! # Ok::<(), droneid_outputs::OutputError>(())
//! ```
#![forbid(unsafe_code)]

mod cot;
mod hdf5_writer;
mod mqtt;
pub mod plot;
mod row;
mod sensor;
mod tls;

use std::path::PathBuf;

pub use cot::{
    cot_events, cot_time, xml_escape, CotConfig, CotSender, CotStats, CotTransport, CotUrl,
    COT_UNKNOWN, DRONE_CE_M, DRONE_LE_M, ENCRYPTED_CE_M, POINT_CE_M,
};
pub use hdf5_writer::{CaptureAttributes, Hdf5Writer};
pub use mqtt::{
    course_deg, drone_key, redact_url, state_json, MqttConfig, MqttPublisher, MqttStats, MqttUrl,
    PASSWORD_ENV,
};
pub use row::{FrameRow, TrackRow};
pub use sensor::{distance_bearing, json_position, Sensor, SensorPosition, EARTH_RADIUS_M};
pub use tls::TlsFiles;

use droneid_receiver::Frame;
use droneid_tracks::Tracks;
use serde_json::{Map, Value};

/// What went wrong in an output. Each message names the file or URL concerned.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The HDF5 file could not be created (missing or read-only directory, bad path).
    #[error("cannot create HDF5 file {path}: {reason}")]
    Hdf5Create {
        /// The path asked for.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// Writing to an open HDF5 file failed (disk full, file removed, ...).
    #[error("writing HDF5 file {path} failed: {reason}")]
    Hdf5Write {
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The MQTT URL could not be understood (`mqtt://HOST[:PORT]` is expected).
    #[error("bad MQTT URL {url:?}: {reason}")]
    MqttUrl {
        /// The URL given.
        url: String,
        /// Why, in words.
        reason: String,
    },
    /// The MQTT publisher thread could not be started or has gone.
    #[error("MQTT publisher: {0}")]
    Mqtt(String),
    /// The broker refused the first connection (credentials) or its TLS certificate was not
    /// trusted: a configuration error.
    #[error("MQTT broker {url}: {reason}")]
    MqttConnect {
        /// The URL, password redacted.
        url: String,
        /// Why, in words.
        reason: String,
    },
    /// A TLS file (CA, certificate, key) could not be used.
    #[error("{0}")]
    Tls(String),
    /// A bad `--sensor-id` or `--sensor-position`.
    #[error("{0}")]
    Sensor(String),
    /// A bad CoT URL or option.
    #[error("bad CoT URL {url:?}: {reason}")]
    CotUrl {
        /// The URL given.
        url: String,
        /// Why, in words.
        reason: String,
    },
    /// Events could not be delivered to the CoT destination.
    #[error("CoT {url}: {reason}")]
    Cot {
        /// The destination.
        url: String,
        /// Why, in words.
        reason: String,
    },
    /// A plot could not be drawn or written.
    #[error("plot {path}: {reason}")]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
}

/// A consumer of decoded frames, called from the decoder's sink thread (never from the DSP
/// threads): it may do I/O, but should return quickly.
pub trait FrameSink: Send {
    /// Takes one frame (CRC24-failed frames too when the decoder reports them).
    fn frame(&mut self, frame: &Frame) -> Result<(), OutputError>;
    /// Takes one frame together with its JSON object as the run prints it (with the sensor's
    /// keys added). Sinks that publish the JSON override this; the default ignores `json`.
    fn frame_json(&mut self, frame: &Frame, json: &Map<String, Value>) -> Result<(), OutputError> {
        let _ = json;
        self.frame(frame)
    }
    /// Makes what was written so far durable/visible (called periodically and at Ctrl-C).
    fn flush(&mut self) -> Result<(), OutputError>;
    /// End of the run: writes per-drone summaries from `tracks` and flushes. Call once.
    fn finish(&mut self, tracks: &Tracks) -> Result<(), OutputError>;
    /// One line for the run summary on stderr (e.g. `hdf5: 120 frames in out.h5`,
    /// `mqtt: 240 published, 240 sent, 240 acked, 0 dropped ...`).
    fn summary(&self) -> String;
}
