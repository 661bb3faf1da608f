//! Per-drone tracks from decoded DroneID frames.
//!
//! Feed [`droneid_receiver::Frame`]s to a [`TrackBuilder`] (plus the source's sample drops), in
//! any order; [`TrackBuilder::finish`] sorts by `start_sample` and gives [`Tracks`]: one
//! [`DroneTrack`] per serial number, with its path, home point, pilot position, counters and gap
//! explanations.
//! [`Tracks::to_geojson`] renders an RFC 7946 FeatureCollection, [`Tracks::summary_table`] a
//! one-screen table, and [`write_geojson`] writes the GeoJSON atomically.
//!
//! Rules (protocol notes §5):
//! * only CRC24-valid frames are attributed to drones; 0x11 identity and 0x10 telemetry frames
//!   join by serial number;
//! * a CRC24-valid frame whose CRC16 fails is attributed only when its (possibly corrupted)
//!   serial names a drone seen in some CRC16-valid frame of the run, and counted in
//!   [`DroneTrack::crc16_failures`]; it never becomes a track point and never updates the
//!   home/pilot position or the sequence tracking. Otherwise it is counted in
//!   [`Tracks::unattributed_crc16_failures`];
//! * a position of 0/0 means "no fix" (as does one outside ±90°/±180°): such telemetry frames
//!   are counted ([`DroneTrack::no_position_frames`]) but are not track points;
//! * encrypted CRYP/INFP frames (§5.8) are followed by session id: one [`DroneTrack`] per
//!   session, keyed `session:<8 hex digits>` in [`DroneTrack::serial_number`], with
//!   [`DroneTrack::encrypted`] set. Such a track never has points, home or pilot position, so
//!   GeoJSON never gets a feature from it.
#![forbid(unsafe_code)]

mod geojson;
mod table;
#[cfg(test)]
mod tests;

pub use geojson::{validate_geojson, write_geojson};

use droneid_payload::{raw_to_deg, EncryptedInfo, FlightInfo, MessageBody, PacketMarker};
use droneid_receiver::Frame;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A position in degrees (WGS 84 as transmitted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatLon {
    /// Latitude, degrees, in [−90, 90].
    pub lat_deg: f64,
    /// Longitude, degrees, in [−180, 180].
    pub lon_deg: f64,
}

impl LatLon {
    /// The position for raw 10⁻⁷ rad values; `None` for 0/0 ("no fix") and for values outside
    /// the valid latitude/longitude ranges.
    pub fn from_raw(lat_raw: i32, lon_raw: i32) -> Option<Self> {
        if lat_raw == 0 && lon_raw == 0 {
            return None;
        }
        let lat_deg = raw_to_deg(lat_raw);
        let lon_deg = raw_to_deg(lon_raw);
        let ok = lat_deg.is_finite()
            && lon_deg.is_finite()
            && (-90.0..=90.0).contains(&lat_deg)
            && (-180.0..=180.0).contains(&lon_deg);
        ok.then_some(LatLon { lat_deg, lon_deg })
    }
}

/// One track point: a CRC16-valid telemetry frame with a usable drone position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackPoint {
    /// Frame time, seconds since the start of the capture.
    pub time_s: f64,
    /// Frame start sample.
    pub start_sample: i64,
    /// Drone latitude, degrees.
    pub lat_deg: f64,
    /// Drone longitude, degrees.
    pub lon_deg: f64,
    /// Offset 31 raw value (meaning disputed, §5.5).
    pub altitude_raw: i16,
    /// Offset 33 raw value (meaning disputed, §5.5).
    pub height_raw: i16,
    /// Horizontal speed from v_north/v_east (cm/s), m/s.
    pub speed_mps: f64,
    /// Vertical velocity, m/s (sign unverified).
    pub v_up_mps: f64,
    /// Yaw, degrees.
    pub yaw_deg: f64,
    /// Telemetry sequence number.
    pub sequence_number: u16,
}

/// Why two consecutive track points of a drone are not adjacent telemetry frames.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackGap {
    /// Sequence number of the earlier point.
    pub from_sequence: u16,
    /// Sequence number of the later point.
    pub to_sequence: u16,
    /// Time of the earlier point, s.
    pub from_time_s: f64,
    /// Time of the later point, s.
    pub to_time_s: f64,
    /// Sequence numbers strictly between the two points, modulo 2¹⁶ (wraps 65535 → 0 count as
    /// one step). 0 when `sequence_reset`.
    pub sequence_gap: u32,
    /// The sequence number did not move forward (went back by 2¹⁵ or more modulo 2¹⁶, or
    /// repeated): a transmitter restart, or a duplicate.
    pub sequence_reset: bool,
    /// CRC16-valid telemetry frames between the two points without a usable position.
    pub no_position_frames: u32,
    /// CRC16-failed frames of this drone between the two points.
    pub crc16_failures: u32,
    /// Samples the source dropped between the two points' start samples.
    pub dropped_samples: u64,
}

impl TrackGap {
    /// Skipped sequence numbers not explained by no-fix frames or CRC16 failures (lost to
    /// detection, CRC24 failures or dropped samples).
    pub fn unexplained(&self) -> u32 {
        self.sequence_gap
            .saturating_sub(self.no_position_frames + self.crc16_failures)
    }
}

/// Product name given to encrypted drones (their product type is encrypted too).
pub const ENCRYPTED_PRODUCT_NAME: &str = "encrypted (CRYP/INFP)";

/// What is known about an encrypted drone (spec §5.8): its session and the records seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncryptedTrack {
    /// Session id, 8 lowercase hex digits of bytes 6–9 (as the frame lines' `session_id`).
    pub session_id: String,
    /// CRYP (session key) frames.
    pub cryp_frames: u64,
    /// INFP (encrypted telemetry) frames.
    pub infp_frames: u64,
}

/// Everything known about one drone (one serial number, or one encrypted session).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroneTrack {
    /// The grouping key: the serial number, or `session:<8 hex digits>` for an encrypted
    /// drone ([`DroneTrack::encrypted`] is then set and says which session).
    pub serial_number: String,
    /// `Some` for an encrypted drone, followed by session id: it has no telemetry, identity,
    /// points, home or pilot position, and `product_name` is [`ENCRYPTED_PRODUCT_NAME`].
    pub encrypted: Option<EncryptedTrack>,
    /// Product type of the latest CRC16-valid telemetry frame; `None` when only identity
    /// frames were seen.
    pub product_type: Option<u8>,
    /// Product name for `product_type` (§5.7).
    pub product_name: Option<String>,
    /// Time of the first attributed frame, s.
    pub first_seen_s: f64,
    /// Time of the last attributed frame, s.
    pub last_seen_s: f64,
    /// CRC16-valid 0x10 telemetry frames (with or without a position).
    pub telemetry_frames: u64,
    /// CRC16-valid 0x11 identity frames.
    pub identity_frames: u64,
    /// CRC24-valid, CRC16-failed frames attributed to this drone.
    pub crc16_failures: u64,
    /// CRC16-valid telemetry frames without a usable drone position (0/0 = no fix).
    pub no_position_frames: u64,
    /// Forward jumps of more than one in the telemetry sequence number (u16 wrap aware).
    pub sequence_gaps: u64,
    /// Sequence numbers skipped in those jumps, in total.
    pub missing_sequences: u64,
    /// Times the sequence number repeated or went backwards.
    pub sequence_resets: u64,
    /// Track points in time order.
    pub points: Vec<TrackPoint>,
    /// Latest non-0/0 home point.
    pub home: Option<LatLon>,
    /// Latest non-0/0 pilot (app) position.
    pub pilot: Option<LatLon>,
    /// Explanations between consecutive points, only where they are not adjacent frames
    /// (sequence gap, reset, no-fix frames, CRC16 failures or dropped samples in between).
    pub gaps: Vec<TrackGap>,
}

impl DroneTrack {
    fn new(serial_number: &str, t: f64) -> Self {
        DroneTrack {
            serial_number: serial_number.to_string(),
            encrypted: None,
            product_type: None,
            product_name: None,
            first_seen_s: t,
            last_seen_s: t,
            telemetry_frames: 0,
            identity_frames: 0,
            crc16_failures: 0,
            no_position_frames: 0,
            sequence_gaps: 0,
            missing_sequences: 0,
            sequence_resets: 0,
            points: Vec::new(),
            home: None,
            pilot: None,
            gaps: Vec::new(),
        }
    }

    /// All frames attributed to this drone: telemetry + identity + CRC16 failures, plus CRYP
    /// and INFP frames for an encrypted drone.
    pub fn frames(&self) -> u64 {
        let enc = self
            .encrypted
            .as_ref()
            .map_or(0, |e| e.cryp_frames + e.infp_frames);
        self.telemetry_frames + self.identity_frames + self.crc16_failures + enc
    }

    /// The session id (8 hex digits) of an encrypted drone, else `None`.
    pub fn session_id(&self) -> Option<&str> {
        self.encrypted.as_ref().map(|e| e.session_id.as_str())
    }

    /// The latest track point's position.
    pub fn last_position(&self) -> Option<LatLon> {
        self.points.last().map(|p| LatLon {
            lat_deg: p.lat_deg,
            lon_deg: p.lon_deg,
        })
    }
}

/// The finished result: all drones, first seen first, plus frames not attributed to any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracks {
    /// One entry per serial number, ordered by first appearance.
    pub drones: Vec<DroneTrack>,
    /// Frames pushed in total.
    pub frames_total: u64,
    /// Frames whose CRC24 failed (never attributed).
    pub crc24_failures: u64,
    /// CRC24-valid frames that are neither 0x10 v2 telemetry, 0x11 identity nor an encrypted
    /// CRYP/INFP record.
    pub unknown_frames: u64,
    /// Encrypted CRYP/INFP frames (all attributed to a session's track).
    pub encrypted_frames: u64,
    /// CRC24-valid, CRC16-failed frames whose serial matched no known drone.
    pub unattributed_crc16_failures: u64,
    /// Samples the source dropped, in total.
    pub dropped_samples: u64,
}

/// Counters between two consecutive points of one drone.
#[derive(Debug, Clone, Copy, Default)]
struct Between {
    no_position: u32,
    crc16_failures: u32,
}

#[derive(Debug, Clone)]
struct DroneState {
    track: DroneTrack,
    last_seq: Option<u16>,
    since_last_point: Between,
    /// `between[i]` holds the counters between `points[i]` and `points[i + 1]`.
    between: Vec<Between>,
}

/// What a CRC24-valid 0x10/0x11 or encrypted frame contributes.
#[derive(Debug, Clone)]
enum EventKind {
    Telemetry(Box<FlightInfo>),
    Identity,
    Crc16Failed,
    Encrypted(EncryptedInfo),
}

#[derive(Debug, Clone)]
struct Event {
    start_sample: i64,
    time_s: f64,
    /// The serial, or `session:<hex>` for an encrypted frame.
    serial: String,
    kind: EventKind,
}

impl Event {
    /// The drone this event belongs to: encrypted sessions and serials never share a key,
    /// even if a serial reads `session:…`.
    fn key(&self) -> (bool, &str) {
        (
            matches!(self.kind, EventKind::Encrypted(_)),
            self.serial.as_str(),
        )
    }
}

/// Accumulates frames into per-drone tracks.
///
/// [`push`](Self::push) only records what each frame contributes; [`finish`](Self::finish)
/// orders everything by `start_sample` (stable), so frames and drops may arrive in any order.
#[derive(Debug, Clone, Default)]
pub struct TrackBuilder {
    events: Vec<Event>,
    /// `(at_sample, count)` in the order noted.
    drops: Vec<(i64, u64)>,
    frames_total: u64,
    crc24_failures: u64,
    unknown_frames: u64,
    encrypted_frames: u64,
}

impl TrackBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the source lost `count` samples immediately before sample `at_sample`
    /// (e.g. a pipeline block's `start_sample` and `lost_before`). Matched to the gap between
    /// two track points when `previous.start_sample < at_sample <= next.start_sample`.
    pub fn note_dropped_samples(&mut self, at_sample: i64, count: u64) {
        if count > 0 {
            self.drops.push((at_sample, count));
        }
    }

    /// Adds one decoded frame (CRC24 failures included: they are only counted).
    pub fn push(&mut self, frame: &Frame) {
        self.frames_total += 1;
        if !frame.crc24_ok {
            self.crc24_failures += 1;
            return;
        }
        let (serial, kind) = match &frame.message.body {
            MessageBody::Unknown => {
                self.unknown_frames += 1;
                return;
            }
            // Classified only with a valid CRC16 (§5.8).
            MessageBody::Encrypted(e) => {
                self.encrypted_frames += 1;
                self.events.push(Event {
                    start_sample: frame.start_sample,
                    time_s: frame.time_s(),
                    serial: format!("session:{}", e.session_hex()),
                    kind: EventKind::Encrypted(*e),
                });
                return;
            }
            _ if !frame.crc16_ok() => (frame.message.serial_number(), EventKind::Crc16Failed),
            MessageBody::Telemetry(f) => (
                Some(f.serial_number.as_str()),
                EventKind::Telemetry(Box::new(f.clone())),
            ),
            MessageBody::Identity(i) => (Some(i.serial_number.as_str()), EventKind::Identity),
        };
        self.events.push(Event {
            start_sample: frame.start_sample,
            time_s: frame.time_s(),
            serial: serial.unwrap_or_default().to_string(),
            kind,
        });
    }

    /// The tracks so far (the builder keeps going).
    pub fn snapshot(&self) -> Tracks {
        self.clone().finish()
    }

    /// The finished tracks: events in `start_sample` order, per-drone counters, points, and
    /// gap explanations with the dropped samples matched to point pairs.
    pub fn finish(self) -> Tracks {
        let mut events = self.events;
        events.sort_by_key(|e| e.start_sample);
        // Serials confirmed by a CRC16-valid frame: only those take CRC16 failures.
        let confirmed: HashSet<(bool, &str)> = events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Crc16Failed))
            .map(Event::key)
            .collect();
        let mut drones: Vec<DroneState> = Vec::new();
        let mut index: HashMap<(bool, &str), usize> = HashMap::new();
        let mut unattributed_crc16_failures = 0;
        for e in &events {
            if !confirmed.contains(&e.key()) {
                unattributed_crc16_failures += 1;
                continue;
            }
            let i = *index.entry(e.key()).or_insert_with(|| {
                drones.push(DroneState {
                    track: DroneTrack::new(&e.serial, e.time_s),
                    last_seq: None,
                    since_last_point: Between::default(),
                    between: Vec::new(),
                });
                drones.len() - 1
            });
            let d = &mut drones[i];
            d.track.last_seen_s = e.time_s;
            match &e.kind {
                EventKind::Telemetry(f) => d.telemetry(e, f),
                EventKind::Identity => d.track.identity_frames += 1,
                EventKind::Crc16Failed => {
                    d.track.crc16_failures += 1;
                    d.since_last_point.crc16_failures += 1;
                }
                EventKind::Encrypted(info) => {
                    let t = &mut d.track;
                    t.product_name = Some(ENCRYPTED_PRODUCT_NAME.to_string());
                    let enc = t.encrypted.get_or_insert_with(|| EncryptedTrack {
                        session_id: info.session_hex(),
                        cryp_frames: 0,
                        infp_frames: 0,
                    });
                    match info.marker {
                        PacketMarker::Cryp => enc.cryp_frames += 1,
                        PacketMarker::Infp => enc.infp_frames += 1,
                    }
                }
            }
        }

        let mut drops = self.drops;
        drops.sort_unstable();
        // prefix[i] = total count of drops[..i].
        let mut prefix = Vec::with_capacity(drops.len() + 1);
        prefix.push(0u64);
        for &(_, c) in &drops {
            prefix.push(prefix.last().copied().unwrap_or(0).saturating_add(c));
        }
        // Dropped samples with prev < at_sample <= cur.
        let dropped_between = |prev: i64, cur: i64| -> u64 {
            let lo = drops.partition_point(|&(s, _)| s <= prev);
            let hi = drops.partition_point(|&(s, _)| s <= cur);
            if hi > lo {
                prefix[hi] - prefix[lo]
            } else {
                0
            }
        };
        // Drones are created in first-seen order (events are sorted).
        let drones = drones
            .into_iter()
            .map(|d| {
                let mut track = d.track;
                for (pair, b) in track.points.windows(2).zip(&d.between) {
                    let (a, c) = (&pair[0], &pair[1]);
                    let delta = c.sequence_number.wrapping_sub(a.sequence_number);
                    let sequence_reset = delta == 0 || delta >= 0x8000;
                    let sequence_gap = if sequence_reset { 0 } else { delta as u32 - 1 };
                    let gap = TrackGap {
                        from_sequence: a.sequence_number,
                        to_sequence: c.sequence_number,
                        from_time_s: a.time_s,
                        to_time_s: c.time_s,
                        sequence_gap,
                        sequence_reset,
                        no_position_frames: b.no_position,
                        crc16_failures: b.crc16_failures,
                        dropped_samples: dropped_between(a.start_sample, c.start_sample),
                    };
                    if gap.sequence_gap > 0
                        || gap.sequence_reset
                        || gap.no_position_frames > 0
                        || gap.crc16_failures > 0
                        || gap.dropped_samples > 0
                    {
                        track.gaps.push(gap);
                    }
                }
                track
            })
            .collect();
        Tracks {
            drones,
            frames_total: self.frames_total,
            crc24_failures: self.crc24_failures,
            unknown_frames: self.unknown_frames,
            encrypted_frames: self.encrypted_frames,
            unattributed_crc16_failures,
            dropped_samples: prefix.last().copied().unwrap_or(0),
        }
    }
}

impl DroneState {
    /// A CRC16-valid telemetry frame.
    fn telemetry(&mut self, e: &Event, f: &FlightInfo) {
        let tr = &mut self.track;
        tr.telemetry_frames += 1;
        tr.product_type = Some(f.product_type);
        tr.product_name = Some(f.product_name());
        if let Some(prev) = self.last_seq {
            let delta = f.sequence_number.wrapping_sub(prev);
            if delta == 0 || delta >= 0x8000 {
                tr.sequence_resets += 1;
            } else if delta > 1 {
                tr.sequence_gaps += 1;
                tr.missing_sequences += u64::from(delta - 1);
            }
        }
        self.last_seq = Some(f.sequence_number);
        if let Some(h) = LatLon::from_raw(f.home_lat_raw, f.home_lon_raw) {
            tr.home = Some(h);
        }
        if let Some(p) = LatLon::from_raw(f.app_lat_raw, f.app_lon_raw) {
            tr.pilot = Some(p);
        }
        let Some(pos) = LatLon::from_raw(f.latitude_raw, f.longitude_raw) else {
            tr.no_position_frames += 1;
            self.since_last_point.no_position += 1;
            return;
        };
        if !tr.points.is_empty() {
            self.between
                .push(std::mem::take(&mut self.since_last_point));
        } else {
            // Nothing before the first point is a gap between points.
            self.since_last_point = Between::default();
        }
        tr.points.push(TrackPoint {
            time_s: e.time_s,
            start_sample: e.start_sample,
            lat_deg: pos.lat_deg,
            lon_deg: pos.lon_deg,
            altitude_raw: f.altitude_raw,
            height_raw: f.height_raw,
            speed_mps: f.v_north_mps().hypot(f.v_east_mps()),
            v_up_mps: f.v_up_mps(),
            yaw_deg: f.yaw_deg(),
            sequence_number: f.sequence_number,
        });
    }
}
