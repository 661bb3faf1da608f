//! `--hdf5`, `--mqtt` and `--mqtt-topic`: the extra frame sinks shared by `decode` and `live`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use droneid_outputs::{CaptureAttributes, FrameSink, Hdf5Writer, MqttPublisher, OutputError};
use droneid_receiver::Frame;
use droneid_tracks::Tracks;

use crate::common::CliError;

/// Messages an unreachable MQTT broker may have queued before new ones are dropped (counted).
const MQTT_QUEUE_BOUND: usize = 4096;

/// Output flags beyond the JSON lines and GeoJSON.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Also write every frame (a `frames` table) and each drone's track (`drones/<serial>/track`)
    /// to an HDF5 file, flushed as it goes so that an interrupted run leaves a readable file.
    #[arg(long, value_name = "FILE.h5")]
    pub hdf5: Option<PathBuf>,
    /// Publish each frame and track update to an MQTT broker (QoS 1, reconnecting; a broker
    /// that is down makes messages queue up to a bound, then they are counted as dropped).
    #[arg(long, value_name = "mqtt://HOST[:PORT]")]
    pub mqtt: Option<String>,
    /// Topic prefix for --mqtt: PREFIX/frames, PREFIX/drones/<serial>/position, …/summary.
    #[arg(long, value_name = "PREFIX", default_value = "droneid")]
    pub mqtt_topic: String,
}

/// The open sinks of one run and the first error any of them gave.
pub struct Sinks {
    sinks: Vec<Box<dyn FrameSink>>,
    error: Option<OutputError>,
    last_flush: Instant,
}

impl Sinks {
    /// Opens every requested sink (before any sample is read): an HDF5 file that cannot be
    /// created or an unusable MQTT URL is a usage error (exit 2).
    pub fn open(args: &OutputArgs, attrs: &CaptureAttributes) -> Result<Self, CliError> {
        let mut sinks: Vec<Box<dyn FrameSink>> = Vec::new();
        if let Some(p) = &args.hdf5 {
            sinks.push(Box::new(
                Hdf5Writer::create(p, attrs)
                    .map_err(|e| CliError::usage(format!("--hdf5: {e}")))?,
            ));
        }
        if let Some(url) = &args.mqtt {
            sinks.push(Box::new(
                MqttPublisher::connect(url, &args.mqtt_topic, MQTT_QUEUE_BOUND)
                    .map_err(|e| CliError::usage(format!("--mqtt: {e}")))?,
            ));
        }
        Ok(Self {
            sinks,
            error: None,
            last_flush: Instant::now(),
        })
    }

    /// Hands a frame to every sink.
    pub fn frame(&mut self, frame: &Frame) {
        for s in &mut self.sinks {
            if let Err(e) = s.frame(frame) {
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
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    }
}
