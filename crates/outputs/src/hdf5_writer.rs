//! The HDF5 output: a `frames` table appended row by row, and per-drone track tables.
//!
//! Layout (`h5dump -H FILE` shows it):
//! * file attributes: `source`, `sample_rate_hz`, `center_freq_hz` (NaN when unknown),
//!   `software_version`, `command_line`, `created_unix_s`; at [`FrameSink::finish`] also
//!   `frames_total`, `crc24_failures`, `unknown_frames`, `drones`, `complete` (1);
//! * `frames`: 1-D compound dataset of [`FrameRow`], chunked, unlimited;
//! * `drones/<serial>/track`: 1-D compound dataset of [`TrackRow`] per drone, appended as
//!   telemetry frames arrive; at `finish` the group gets the attributes `serial_number`,
//!   `product_type`, `product_name`, `telemetry_frames`, `identity_frames`,
//!   `crc16_failures`, `no_position_frames`, `missing_sequences`, `first_seen_s`,
//!   `last_seen_s`, `home_lat_deg`/`home_lon_deg`, `pilot_lat_deg`/`pilot_lon_deg` (NaN when
//!   never seen);
//! * `sessions/<session id>` (at `finish`, only when encrypted CRYP/INFP frames were seen, spec
//!   §5.8): one group per encrypted drone, no track (its position is encrypted), with the
//!   attributes `session_id`, `product_name`, `frames`, `cryp_frames`, `infp_frames`,
//!   `first_seen_s`, `last_seen_s`. Their rows in `frames` have `encrypted` = 1,
//!   `packet_marker`, `session_id`, and NaN/0 coordinates. The file also gets
//!   `encrypted_frames`.
//!
//! Durability: the file is flushed (`H5Fflush`) every [`Hdf5Writer::FLUSH_EVERY_FRAMES`]
//! frames, at least every [`Hdf5Writer::FLUSH_INTERVAL`] when frames keep coming, and at every
//! [`FrameSink::flush`], so a process killed mid-run leaves a file that `h5dump` reads, with
//! every row up to the last flush. The file is not locked, so `h5dump` can read it while
//! `droneid` is still writing (it sees the rows up to the last flush).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use droneid_receiver::Frame;
use droneid_tracks::{DroneTrack, EncryptedTrack, Tracks};
use hdf5::types::VarLenUnicode;
use hdf5_metno as hdf5;

use crate::row::{FrameRow, TrackRow};
use crate::{FrameSink, OutputError};

/// Rows per HDF5 chunk of the `frames` dataset (~64 KiB of rows).
const FRAME_CHUNK_ROWS: usize = 128;
/// Rows per chunk of a track dataset.
const TRACK_CHUNK_ROWS: usize = 64;

/// File attributes describing the capture, written once at creation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureAttributes {
    /// Where the samples came from (path, `-`, or a device string).
    pub source: String,
    /// Input sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Capture centre frequency, Hz, when known (stored as NaN otherwise).
    pub center_freq_hz: Option<f64>,
    /// `droneid` version (e.g. `env!("CARGO_PKG_VERSION")`).
    pub software_version: String,
    /// The command line, for provenance.
    pub command_line: String,
}

/// Writes frames and tracks to an HDF5 file. See the module docs for the layout.
pub struct Hdf5Writer {
    path: PathBuf,
    file: hdf5::File,
    frames: hdf5::Dataset,
    rows: usize,
    drones: hdf5::Group,
    tracks: HashMap<String, (hdf5::Dataset, usize)>,
    unflushed: usize,
    last_flush: Instant,
    finished: bool,
}

impl std::fmt::Debug for Hdf5Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hdf5Writer")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish()
    }
}

impl Hdf5Writer {
    /// Frames between two flushes at most.
    pub const FLUSH_EVERY_FRAMES: usize = 8;
    /// Longest time an appended frame stays unflushed while frames keep coming.
    pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);

    /// Creates (truncates) `path`, writes the capture attributes and the empty datasets, and
    /// flushes, so a valid file exists from the start.
    ///
    /// Errors: [`OutputError::Hdf5Create`] when the directory is missing or not writable, the
    /// path is a directory, or the HDF5 library refuses; the message says which.
    pub fn create(path: impl AsRef<Path>, attrs: &CaptureAttributes) -> Result<Self, OutputError> {
        let path = path.as_ref().to_path_buf();
        let err = |reason: String| OutputError::Hdf5Create {
            path: path.clone(),
            reason,
        };
        // Probe with std first: its errors ("No such file or directory", "Permission denied")
        // are clearer than the HDF5 error stack.
        if path.is_dir() {
            return Err(err("it is a directory".into()));
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| err(e.to_string()))?;
        let h5 = |e: hdf5::Error| err(e.to_string());
        // No file lock, so that h5dump and other readers can open the file during the run.
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .create(&path)
            .map_err(h5)?;
        let frames = file
            .new_dataset::<FrameRow>()
            .chunk(FRAME_CHUNK_ROWS)
            .shape(0..)
            .create("frames")
            .map_err(h5)?;
        let drones = file.create_group("drones").map_err(h5)?;
        let mut me = Self {
            path: path.clone(),
            file,
            frames,
            rows: 0,
            drones,
            tracks: HashMap::new(),
            unflushed: 0,
            last_flush: Instant::now(),
            finished: false,
        };
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let loc: &hdf5::Location = &me.file;
        (|| -> hdf5::Result<()> {
            write_str(loc, "source", &attrs.source)?;
            write_f64(loc, "sample_rate_hz", attrs.sample_rate_hz)?;
            write_f64(
                loc,
                "center_freq_hz",
                attrs.center_freq_hz.unwrap_or(f64::NAN),
            )?;
            write_str(loc, "software_version", &attrs.software_version)?;
            write_str(loc, "command_line", &attrs.command_line)?;
            write_f64(loc, "created_unix_s", created)?;
            write_str(
                loc,
                "description",
                "DJI DroneID frames decoded by droneid: one row of `frames` per burst; \
                 drones/<serial>/track per drone",
            )
        })()
        .map_err(h5)?;
        me.flush_now().map_err(|e| err(e.to_string()))?;
        Ok(me)
    }

    /// Records the sensor as root attributes: `sensor_id` (when set) and `sensor_lat_deg`,
    /// `sensor_lon_deg`, `sensor_alt_m` (NaN when not given), when the position is known.
    pub fn set_sensor(&mut self, sensor: &crate::Sensor) -> Result<(), OutputError> {
        let loc: &hdf5::Location = &self.file;
        (|| -> hdf5::Result<()> {
            if let Some(id) = &sensor.id {
                write_str(loc, "sensor_id", id)?;
            }
            if let Some(p) = sensor.position {
                write_f64(loc, "sensor_lat_deg", p.lat_deg)?;
                write_f64(loc, "sensor_lon_deg", p.lon_deg)?;
                write_f64(loc, "sensor_alt_m", p.alt_m.unwrap_or(f64::NAN))?;
            }
            Ok(())
        })()
        .map_err(|e| self.write_err(e))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written to `frames` so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn write_err(&self, e: hdf5::Error) -> OutputError {
        OutputError::Hdf5Write {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    fn flush_now(&mut self) -> hdf5::Result<()> {
        self.file.flush()?;
        self.unflushed = 0;
        self.last_flush = Instant::now();
        Ok(())
    }

    fn append_frame(&mut self, frame: &Frame) -> hdf5::Result<()> {
        let row = FrameRow::from_frame(frame);
        let n = self.rows;
        self.frames.resize(n + 1)?;
        self.frames.write_slice(&[row], n..n + 1)?;
        self.rows = n + 1;
        if let Some((serial, track_row)) = TrackRow::from_frame(frame) {
            let key = group_name(serial);
            if !self.tracks.contains_key(&key) {
                let ds = self.drone_group(&key)?.1;
                self.tracks.insert(key.clone(), (ds, 0));
            }
            let (ds, len) = self.tracks.get_mut(&key).expect("inserted above");
            ds.resize(*len + 1)?;
            ds.write_slice(&[track_row], *len..*len + 1)?;
            *len += 1;
        }
        self.unflushed += 1;
        if self.unflushed >= Self::FLUSH_EVERY_FRAMES
            || self.last_flush.elapsed() >= Self::FLUSH_INTERVAL
        {
            self.flush_now()?;
        }
        Ok(())
    }

    /// The group `drones/<key>` and its `track` dataset, created when missing.
    fn drone_group(&self, key: &str) -> hdf5::Result<(hdf5::Group, hdf5::Dataset)> {
        if self.drones.link_exists(key) {
            let g = self.drones.group(key)?;
            let ds = g.dataset("track")?;
            return Ok((g, ds));
        }
        let g = self.drones.create_group(key)?;
        let ds = g
            .new_dataset::<TrackRow>()
            .chunk(TRACK_CHUNK_ROWS)
            .shape(0..)
            .create("track")?;
        Ok((g, ds))
    }

    fn write_tracks(&mut self, tracks: &Tracks) -> hdf5::Result<()> {
        for d in &tracks.drones {
            if let Some(e) = &d.encrypted {
                self.write_session(d, e)?;
                continue;
            }
            let key = group_name(&d.serial_number);
            let (g, _) = self.drone_group(&key)?;
            let loc: &hdf5::Location = &g;
            write_str(loc, "serial_number", &d.serial_number)?;
            write_f64(
                loc,
                "product_type",
                d.product_type.map_or(f64::NAN, f64::from),
            )?;
            write_str(loc, "product_name", d.product_name.as_deref().unwrap_or(""))?;
            write_u64(loc, "telemetry_frames", d.telemetry_frames)?;
            write_u64(loc, "identity_frames", d.identity_frames)?;
            write_u64(loc, "crc16_failures", d.crc16_failures)?;
            write_u64(loc, "no_position_frames", d.no_position_frames)?;
            write_u64(loc, "missing_sequences", d.missing_sequences)?;
            write_u64(loc, "track_points", d.points.len() as u64)?;
            write_f64(loc, "first_seen_s", d.first_seen_s)?;
            write_f64(loc, "last_seen_s", d.last_seen_s)?;
            write_f64(loc, "home_lat_deg", d.home.map_or(f64::NAN, |p| p.lat_deg))?;
            write_f64(loc, "home_lon_deg", d.home.map_or(f64::NAN, |p| p.lon_deg))?;
            write_f64(
                loc,
                "pilot_lat_deg",
                d.pilot.map_or(f64::NAN, |p| p.lat_deg),
            )?;
            write_f64(
                loc,
                "pilot_lon_deg",
                d.pilot.map_or(f64::NAN, |p| p.lon_deg),
            )?;
        }
        let loc: &hdf5::Location = &self.file;
        write_u64(loc, "frames_total", tracks.frames_total)?;
        write_u64(loc, "crc24_failures", tracks.crc24_failures)?;
        write_u64(loc, "unknown_frames", tracks.unknown_frames)?;
        write_u64(loc, "encrypted_frames", tracks.encrypted_frames)?;
        write_u64(loc, "drones", tracks.drones.len() as u64)?;
        write_u64(loc, "dropped_samples", tracks.dropped_samples)?;
        write_u64(loc, "complete", 1)?;
        Ok(())
    }
}

impl Hdf5Writer {
    /// The group `sessions/<session id>` of an encrypted drone and its attributes.
    fn write_session(&mut self, d: &DroneTrack, e: &EncryptedTrack) -> hdf5::Result<()> {
        let sessions = if self.file.link_exists("sessions") {
            self.file.group("sessions")?
        } else {
            self.file.create_group("sessions")?
        };
        let key = group_name(&e.session_id);
        let g = if sessions.link_exists(&key) {
            sessions.group(&key)?
        } else {
            sessions.create_group(&key)?
        };
        let loc: &hdf5::Location = &g;
        write_str(loc, "session_id", &e.session_id)?;
        write_str(loc, "product_name", d.product_name.as_deref().unwrap_or(""))?;
        write_u64(loc, "frames", d.frames())?;
        write_u64(loc, "cryp_frames", e.cryp_frames)?;
        write_u64(loc, "infp_frames", e.infp_frames)?;
        write_f64(loc, "first_seen_s", d.first_seen_s)?;
        write_f64(loc, "last_seen_s", d.last_seen_s)
    }
}

impl FrameSink for Hdf5Writer {
    /// Appends one row to `frames` (and to the drone's track for positioned telemetry).
    fn frame(&mut self, frame: &Frame) -> Result<(), OutputError> {
        self.append_frame(frame).map_err(|e| self.write_err(e))
    }

    fn flush(&mut self) -> Result<(), OutputError> {
        self.flush_now().map_err(|e| self.write_err(e))
    }

    /// Writes the per-drone and run attributes, then flushes. A second call does nothing.
    fn finish(&mut self, tracks: &Tracks) -> Result<(), OutputError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.write_tracks(tracks)
            .and_then(|()| self.flush_now())
            .map_err(|e| self.write_err(e))
    }

    fn summary(&self) -> String {
        format!(
            "hdf5: {} frames, {} drones with track points in {}",
            self.rows,
            self.tracks.len(),
            self.path.display()
        )
    }
}

/// A serial as an HDF5 link name: `/` and `.` (and non-printable bytes) become `_`; empty
/// becomes `unknown`.
pub(crate) fn group_name(serial: &str) -> String {
    let s: String = serial
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '/' && c != '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "unknown".into()
    } else {
        s
    }
}

/// Writes (or overwrites) a scalar attribute.
fn write_attr<T: hdf5::H5Type>(loc: &hdf5::Location, name: &str, v: &T) -> hdf5::Result<()> {
    if loc.attr_names()?.iter().any(|n| n == name) {
        loc.attr(name)?.write_scalar(v)
    } else {
        loc.new_attr::<T>().shape(()).create(name)?.write_scalar(v)
    }
}

fn write_str(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
    let clean: String = v.chars().filter(|&c| c != '\0').collect();
    let s: VarLenUnicode = clean
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e}")))?;
    write_attr(loc, name, &s)
}

fn write_f64(loc: &hdf5::Location, name: &str, v: f64) -> hdf5::Result<()> {
    write_attr(loc, name, &v)
}

fn write_u64(loc: &hdf5::Location, name: &str, v: u64) -> hdf5::Result<()> {
    write_attr(loc, name, &v)
}
