//! Fixed-layout rows of the HDF5 datasets: one [`FrameRow`] per frame, one [`TrackRow`] per
//! track point.

use droneid_core::TRANSPORT_BLOCK_BYTES;
use droneid_payload::{FlightInfo, MessageBody};
use droneid_receiver::Frame;
use droneid_tracks::LatLon;
use hdf5::types::FixedAscii;
use hdf5_metno as hdf5;

/// Serial numbers are 16 bytes on air; the UUID 20.
pub(crate) type Uuid = FixedAscii<20>;

/// ASCII with anything else (and NULs) replaced by `?`, cut to `N` bytes.
pub(crate) fn fixed<const N: usize>(s: &str) -> FixedAscii<N> {
    let bytes: Vec<u8> = s
        .bytes()
        .take(N)
        .map(|b| if b.is_ascii() && b != 0 { b } else { b'?' })
        .collect();
    FixedAscii::from_ascii(&bytes).unwrap_or_default()
}

/// One row of the `frames` dataset. Integers as transmitted (`*_raw`), plus decoded units.
/// Fields a message type lacks are 0 (integers) or NaN (floats): identity (0x11) frames have
/// only `serial_number`; CRC24-failed frames have no serial either; encrypted CRYP/INFP frames
/// (spec §5.8) have `encrypted`, `packet_marker` and `session_id` and nothing else: no serial,
/// every coordinate NaN (degrees) or 0 (raw).
#[derive(hdf5::H5Type, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct FrameRow {
    /// `start_sample / sample_rate_hz`, s.
    pub time_s: f64,
    /// First sample of the burst's first cyclic prefix, at the input rate.
    pub start_sample: i64,
    /// Burst centre relative to the capture centre (channel offset + CFO), Hz.
    pub freq_offset_hz: f64,
    /// Absolute burst centre, Hz; NaN when the capture centre is unknown.
    pub center_freq_hz: f64,
    /// In-band SNR, dB.
    pub snr_db: f32,
    /// Residual CFO measured by the demodulator, Hz.
    pub cfo_hz: f64,
    /// 9 or 8.
    pub symbols: u8,
    /// Turbo iterations used.
    pub turbo_iterations: u32,
    /// Transport-block CRC24A passed.
    pub crc24_ok: bool,
    /// Message CRC16 passed (false whenever `crc24_ok` is false).
    pub crc16_ok: bool,
    /// Byte 0: record length L.
    pub pkt_len: u8,
    /// Byte 1: 16 (0x10 telemetry), 17 (0x11 identity), other values as seen.
    pub msg_type: u8,
    /// Byte 2 (the version for type 0x10).
    pub version: u8,
    /// Serial number (0x10 and 0x11 with a CRC24-valid block), else empty.
    pub serial_number: FixedAscii<16>,
    /// An encrypted CRYP/INFP record (CRC24 and CRC16 valid).
    pub encrypted: bool,
    /// `CRYP` or `INFP` for an encrypted record, else empty.
    pub packet_marker: FixedAscii<4>,
    /// Encrypted record: session id, 8 lowercase hex digits of bytes 6–9; else empty.
    pub session_id: FixedAscii<8>,
    /// 0x10: telemetry sequence number.
    pub sequence_number: u16,
    /// 0x10: state bit field (protocol notes §5.6).
    pub state_info: u16,
    /// 0x10: product type code (§5.7).
    pub product_type: u8,
    /// 0x10: drone longitude, 10⁻⁷ rad.
    pub longitude_raw: i32,
    /// 0x10: drone latitude, 10⁻⁷ rad.
    pub latitude_raw: i32,
    /// 0x10: altitude, raw (metres likely, reference disputed, §5.5).
    pub altitude_raw: i16,
    /// 0x10: height above take-off, raw (metres likely, §5.5).
    pub height_raw: i16,
    /// 0x10: north velocity, cm/s.
    pub v_north_raw: i16,
    /// 0x10: east velocity, cm/s.
    pub v_east_raw: i16,
    /// 0x10: up velocity, cm/s (sign unverified).
    pub v_up_raw: i16,
    /// 0x10: yaw, centidegrees.
    pub yaw_raw: i16,
    /// 0x10: app time, ms since the Unix epoch.
    pub gps_time_ms: u64,
    /// 0x10: pilot (app) latitude, 10⁻⁷ rad.
    pub app_lat_raw: i32,
    /// 0x10: pilot (app) longitude, 10⁻⁷ rad.
    pub app_lon_raw: i32,
    /// 0x10: home longitude, 10⁻⁷ rad.
    pub home_lon_raw: i32,
    /// 0x10: home latitude, 10⁻⁷ rad.
    pub home_lat_raw: i32,
    /// 0x10: UUID length byte as transmitted.
    pub uuid_len: u8,
    /// 0x10: UUID (ASCII).
    pub uuid: FixedAscii<20>,
    /// 0x10: drone latitude, degrees (NaN for other types).
    pub drone_lat_deg: f64,
    /// 0x10: drone longitude, degrees.
    pub drone_lon_deg: f64,
    /// 0x10: pilot latitude, degrees.
    pub app_lat_deg: f64,
    /// 0x10: pilot longitude, degrees.
    pub app_lon_deg: f64,
    /// 0x10: home latitude, degrees.
    pub home_lat_deg: f64,
    /// 0x10: home longitude, degrees.
    pub home_lon_deg: f64,
    /// 0x10: `altitude_raw` read as metres.
    pub altitude_m: f64,
    /// 0x10: `height_raw` read as metres.
    pub height_m: f64,
    /// 0x10: north velocity, m/s.
    pub v_north_mps: f64,
    /// 0x10: east velocity, m/s.
    pub v_east_mps: f64,
    /// 0x10: up velocity, m/s.
    pub v_up_mps: f64,
    /// 0x10: yaw, degrees.
    pub yaw_deg: f64,
    /// 0x10: `gps_time_ms` / 1000, s since the Unix epoch.
    pub gps_time_s: f64,
    /// All 176 decoded bytes (hard decisions even when the CRC failed).
    pub block: [u8; TRANSPORT_BLOCK_BYTES],
}

impl FrameRow {
    /// The row for one frame.
    pub fn from_frame(f: &Frame) -> Self {
        let m = &f.message;
        let mut row = FrameRow {
            time_s: f.time_s(),
            start_sample: f.start_sample,
            freq_offset_hz: f.freq_offset_hz,
            center_freq_hz: f
                .capture_center_freq_hz
                .map_or(f64::NAN, |c| c + f.freq_offset_hz),
            snr_db: f.snr_db,
            cfo_hz: f.cfo_hz,
            symbols: f.symbols,
            turbo_iterations: f.turbo_iterations,
            crc24_ok: f.crc24_ok,
            crc16_ok: f.crc16_ok(),
            pkt_len: m.pkt_len,
            msg_type: m.msg_type,
            version: m.version,
            serial_number: fixed(f.serial_number().unwrap_or("")),
            encrypted: false,
            packet_marker: FixedAscii::default(),
            session_id: FixedAscii::default(),
            sequence_number: 0,
            state_info: 0,
            product_type: 0,
            longitude_raw: 0,
            latitude_raw: 0,
            altitude_raw: 0,
            height_raw: 0,
            v_north_raw: 0,
            v_east_raw: 0,
            v_up_raw: 0,
            yaw_raw: 0,
            gps_time_ms: 0,
            app_lat_raw: 0,
            app_lon_raw: 0,
            home_lon_raw: 0,
            home_lat_raw: 0,
            uuid_len: 0,
            uuid: Uuid::default(),
            drone_lat_deg: f64::NAN,
            drone_lon_deg: f64::NAN,
            app_lat_deg: f64::NAN,
            app_lon_deg: f64::NAN,
            home_lat_deg: f64::NAN,
            home_lon_deg: f64::NAN,
            altitude_m: f64::NAN,
            height_m: f64::NAN,
            v_north_mps: f64::NAN,
            v_east_mps: f64::NAN,
            v_up_mps: f64::NAN,
            yaw_deg: f64::NAN,
            gps_time_s: f64::NAN,
            block: f.block,
        };
        if let (true, MessageBody::Telemetry(t)) = (f.crc24_ok, &m.body) {
            row.set_telemetry(t);
        }
        if let Some(e) = f.encrypted() {
            row.encrypted = true;
            row.packet_marker = fixed(e.marker.as_str());
            row.session_id = fixed(&e.session_hex());
        }
        row
    }

    fn set_telemetry(&mut self, t: &FlightInfo) {
        self.sequence_number = t.sequence_number;
        self.state_info = t.state_info;
        self.product_type = t.product_type;
        self.longitude_raw = t.longitude_raw;
        self.latitude_raw = t.latitude_raw;
        self.altitude_raw = t.altitude_raw;
        self.height_raw = t.height_raw;
        self.v_north_raw = t.v_north_raw;
        self.v_east_raw = t.v_east_raw;
        self.v_up_raw = t.v_up_raw;
        self.yaw_raw = t.yaw_raw;
        self.gps_time_ms = t.gps_time_ms;
        self.app_lat_raw = t.app_lat_raw;
        self.app_lon_raw = t.app_lon_raw;
        self.home_lon_raw = t.home_lon_raw;
        self.home_lat_raw = t.home_lat_raw;
        self.uuid_len = t.uuid_len;
        self.uuid = fixed(&t.uuid);
        self.drone_lat_deg = t.drone_lat_deg();
        self.drone_lon_deg = t.drone_lon_deg();
        self.app_lat_deg = t.app_lat_deg();
        self.app_lon_deg = t.app_lon_deg();
        self.home_lat_deg = t.home_lat_deg();
        self.home_lon_deg = t.home_lon_deg();
        self.altitude_m = t.altitude_raw as f64;
        self.height_m = t.height_raw as f64;
        self.v_north_mps = t.v_north_mps();
        self.v_east_mps = t.v_east_mps();
        self.v_up_mps = t.v_up_mps();
        self.yaw_deg = t.yaw_deg();
        self.gps_time_s = t.gps_time_ms as f64 / 1000.0;
    }
}

/// One row of a drone's `drones/<serial>/track` dataset: a CRC16-valid telemetry frame with a
/// usable position (the same rule as `droneid_tracks`). Pilot and home positions are NaN when
/// the frame carries 0/0 ("no fix").
#[derive(hdf5::H5Type, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct TrackRow {
    /// Frame time, s since the start of the capture.
    pub time_s: f64,
    /// Frame start sample.
    pub start_sample: i64,
    /// Telemetry sequence number.
    pub sequence_number: u16,
    /// Drone latitude, degrees.
    pub lat_deg: f64,
    /// Drone longitude, degrees.
    pub lon_deg: f64,
    /// `height_raw` as metres (height above take-off, likely).
    pub height_m: f64,
    /// `altitude_raw` as metres (reference disputed).
    pub altitude_m: f64,
    /// North velocity, m/s.
    pub v_north_mps: f64,
    /// East velocity, m/s.
    pub v_east_mps: f64,
    /// Up velocity, m/s (sign unverified).
    pub v_up_mps: f64,
    /// Horizontal speed, m/s.
    pub speed_mps: f64,
    /// Yaw, degrees.
    pub yaw_deg: f64,
    /// Pilot latitude, degrees (NaN: no fix).
    pub pilot_lat_deg: f64,
    /// Pilot longitude, degrees (NaN: no fix).
    pub pilot_lon_deg: f64,
    /// Home latitude, degrees (NaN: no fix).
    pub home_lat_deg: f64,
    /// Home longitude, degrees (NaN: no fix).
    pub home_lon_deg: f64,
    /// App time, ms since the Unix epoch.
    pub gps_time_ms: u64,
    /// In-band SNR of the burst, dB.
    pub snr_db: f32,
    /// Burst centre relative to the capture centre, Hz.
    pub freq_offset_hz: f64,
}

impl TrackRow {
    /// The track row of a frame: `Some((serial, row))` for a CRC24- and CRC16-valid telemetry
    /// frame with a usable drone position, else `None`.
    pub fn from_frame(f: &Frame) -> Option<(&str, Self)> {
        if !f.crc16_ok() {
            return None;
        }
        let MessageBody::Telemetry(t) = &f.message.body else {
            return None;
        };
        let pos = LatLon::from_raw(t.latitude_raw, t.longitude_raw)?;
        let pilot = LatLon::from_raw(t.app_lat_raw, t.app_lon_raw);
        let home = LatLon::from_raw(t.home_lat_raw, t.home_lon_raw);
        let (vn, ve) = (t.v_north_mps(), t.v_east_mps());
        Some((
            t.serial_number.as_str(),
            TrackRow {
                time_s: f.time_s(),
                start_sample: f.start_sample,
                sequence_number: t.sequence_number,
                lat_deg: pos.lat_deg,
                lon_deg: pos.lon_deg,
                height_m: t.height_raw as f64,
                altitude_m: t.altitude_raw as f64,
                v_north_mps: vn,
                v_east_mps: ve,
                v_up_mps: t.v_up_mps(),
                speed_mps: vn.hypot(ve),
                yaw_deg: t.yaw_deg(),
                pilot_lat_deg: pilot.map_or(f64::NAN, |p| p.lat_deg),
                pilot_lon_deg: pilot.map_or(f64::NAN, |p| p.lon_deg),
                home_lat_deg: home.map_or(f64::NAN, |p| p.lat_deg),
                home_lon_deg: home.map_or(f64::NAN, |p| p.lon_deg),
                gps_time_ms: t.gps_time_ms,
                snr_db: f.snr_db,
                freq_offset_hz: f.freq_offset_hz,
            },
        ))
    }
}
