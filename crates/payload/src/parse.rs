//! Transport block -> message, as a value (never an error, never a panic).

use crate::block::{block_crc24_ok, FILLER_END, TRANSPORT_BLOCK_BYTES};
use crate::encrypted::EncryptedInfo;
use crate::record::{FlightInfo, IdentityInfo, MSG_TYPE_IDENTITY, MSG_TYPE_TELEMETRY};
use crate::to_hex;
use droneid_fec::crc::crc16_dji;
use serde::Serialize;
use serde_json::{Map, Value};

/// What the message body decoded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    /// Type 0x10 version 2 with L ≥ 88 (decoded even when the CRC16 fails).
    Telemetry(FlightInfo),
    /// Type 0x11 with L ≥ 21.
    Identity(IdentityInfo),
    /// An encrypted O3/O4 record with a valid CRC16 (§5.8): `AA 13 "CRYP"`, `87 10 "INFP"`,
    /// `80 10 "INFP"`. Only the tag and the session id are plaintext; the record's bytes are in
    /// [`ParsedMessage::message`].
    Encrypted(EncryptedInfo),
    /// Anything else (other types/versions, L + 3 > 173, a CRYP/INFP tag whose CRC16 fails).
    Unknown,
}

/// A transport block read as a DroneID message (§5.1, §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMessage {
    /// Byte 0, L: record bytes after the length byte, excluding the CRC16.
    pub pkt_len: u8,
    /// Byte 1.
    pub msg_type: u8,
    /// Byte 2 as transmitted (the version for type 0x10; the first serial byte for type 0x11).
    pub version: u8,
    /// CRC24A over the block (bytes 173..176 big-endian) is valid.
    pub crc24_ok: bool,
    /// CRC16 over bytes 0..=L equals the little-endian value at L+1..L+3. False when L + 3 > 173.
    pub crc16_ok: bool,
    /// Stored CRC16 (`None` when L + 3 > 173).
    pub crc16_stored: Option<u16>,
    /// Computed CRC16 over bytes 0..=L (`None` when L + 3 > 173).
    pub crc16_computed: Option<u16>,
    /// Bytes 0..L+3, clamped to 173 (`message_hex`).
    pub message: Vec<u8>,
    /// Bytes `message.len()..173`: the filler (§5.1). `build_transport_block(&message,
    /// Some(&filler))` gives back a block with the same bytes 0..173.
    pub filler: Vec<u8>,
    /// The decoded body.
    pub body: MessageBody,
}

/// Reads a 176-byte transport block. Never fails: CRC outcomes are fields of the result.
///
/// CRC16 rule (any type): it covers bytes 0..=L and is stored little-endian at L+1..L+3. When
/// L + 3 > 173 the record cannot fit: `crc16_ok` is false and the body is `Unknown`.
/// Dispatch (§5.8): a record whose CRC16 is valid and whose (type, tag) is `0x13 "CRYP"` or
/// `0x10 "INFP"` is [`MessageBody::Encrypted`], checked first, so an INFP record is never read
/// as telemetry. Otherwise type 0x10 version 2 (L ≥ 88) and type 0x11 (L ≥ 21) bodies are
/// decoded whatever the CRC16 says (a known public encoder puts the CRC16 one byte late).
pub fn parse_block(block: &[u8; TRANSPORT_BLOCK_BYTES]) -> ParsedMessage {
    let pkt_len = block[0];
    let msg_type = block[1];
    let version = block[2];
    let l = pkt_len as usize;
    let fits = l + 3 <= FILLER_END;
    let msg_end = (l + 3).min(FILLER_END);
    let (crc16_stored, crc16_computed) = if fits {
        (
            Some(u16::from_le_bytes([block[l + 1], block[l + 2]])),
            Some(crc16_dji(&block[..=l])),
        )
    } else {
        (None, None)
    };
    let crc16_ok = fits && crc16_stored == crc16_computed;
    let message = block[..msg_end].to_vec();
    let encrypted = if crc16_ok {
        EncryptedInfo::classify(&message)
    } else {
        None
    };
    let body = if !fits {
        MessageBody::Unknown
    } else if let Some(e) = encrypted {
        MessageBody::Encrypted(e)
    } else if msg_type == MSG_TYPE_TELEMETRY && version == 2 && l >= 88 {
        FlightInfo::from_record(&message).map_or(MessageBody::Unknown, MessageBody::Telemetry)
    } else if msg_type == MSG_TYPE_IDENTITY && l >= 21 {
        // Only bytes 0..=L belong to the record; the CRC16 is not part of `reserved`.
        IdentityInfo::from_record(&block[..=l]).map_or(MessageBody::Unknown, MessageBody::Identity)
    } else {
        MessageBody::Unknown
    };
    ParsedMessage {
        pkt_len,
        msg_type,
        version,
        crc24_ok: block_crc24_ok(block),
        crc16_ok,
        crc16_stored,
        crc16_computed,
        message,
        filler: block[msg_end..FILLER_END].to_vec(),
        body,
    }
}

/// Reads a message or block of any length.
///
/// * exactly 176 bytes: a transport block, as [`parse_block`];
/// * otherwise a bare record starting with its length byte L: `None` when the slice is empty,
///   L + 3 > 173, or the slice is shorter than L + 3 bytes. Extra bytes after the record are
///   ignored; the record is placed in a zero-filled block (so `crc24_ok` describes that block).
pub fn parse_bytes(data: &[u8]) -> Option<ParsedMessage> {
    if let Ok(block) = <&[u8; TRANSPORT_BLOCK_BYTES]>::try_from(data) {
        return Some(parse_block(block));
    }
    let need = *data.first()? as usize + 3;
    if need > FILLER_END || data.len() < need {
        return None;
    }
    let mut block = [0u8; TRANSPORT_BLOCK_BYTES];
    block[..need].copy_from_slice(&data[..need]);
    let crc = droneid_fec::crc::crc24a(&block[..FILLER_END]);
    block[FILLER_END..].copy_from_slice(&crc.to_be_bytes()[1..]);
    Some(parse_block(&block))
}

/// JSON view of a type 0x10 record (keys from `docs/interface.md`, plus raw ints and units).
#[derive(Serialize)]
struct TelemetryJson<'a> {
    serial_number: &'a str,
    sequence_number: u16,
    state_info: u16,
    state_flags: Vec<String>,
    product_type: u8,
    product_name: String,
    drone_lat_deg: f64,
    drone_lon_deg: f64,
    app_lat_deg: f64,
    app_lon_deg: f64,
    home_lat_deg: f64,
    home_lon_deg: f64,
    latitude_raw: i32,
    longitude_raw: i32,
    app_lat_raw: i32,
    app_lon_raw: i32,
    home_lat_raw: i32,
    home_lon_raw: i32,
    altitude_raw: i16,
    height_raw: i16,
    v_north_raw: i16,
    v_east_raw: i16,
    v_up_raw: i16,
    v_north_mps: f64,
    v_east_mps: f64,
    v_up_mps: f64,
    yaw_raw: i16,
    yaw_deg: f64,
    gps_time_ms: u64,
    uuid_len: u8,
    uuid: &'a str,
}

impl<'a> From<&'a FlightInfo> for TelemetryJson<'a> {
    fn from(f: &'a FlightInfo) -> Self {
        TelemetryJson {
            serial_number: &f.serial_number,
            sequence_number: f.sequence_number,
            state_info: f.state_info,
            state_flags: f.state_flags(),
            product_type: f.product_type,
            product_name: f.product_name(),
            drone_lat_deg: f.drone_lat_deg(),
            drone_lon_deg: f.drone_lon_deg(),
            app_lat_deg: f.app_lat_deg(),
            app_lon_deg: f.app_lon_deg(),
            home_lat_deg: f.home_lat_deg(),
            home_lon_deg: f.home_lon_deg(),
            latitude_raw: f.latitude_raw,
            longitude_raw: f.longitude_raw,
            app_lat_raw: f.app_lat_raw,
            app_lon_raw: f.app_lon_raw,
            home_lat_raw: f.home_lat_raw,
            home_lon_raw: f.home_lon_raw,
            altitude_raw: f.altitude_raw,
            height_raw: f.height_raw,
            v_north_raw: f.v_north_raw,
            v_east_raw: f.v_east_raw,
            v_up_raw: f.v_up_raw,
            v_north_mps: f.v_north_mps(),
            v_east_mps: f.v_east_mps(),
            v_up_mps: f.v_up_mps(),
            yaw_raw: f.yaw_raw,
            yaw_deg: f.yaw_deg(),
            gps_time_ms: f.gps_time_ms,
            uuid_len: f.uuid_len,
            uuid: &f.uuid,
        }
    }
}

/// JSON view of a type 0x11 record.
#[derive(Serialize)]
struct IdentityJson<'a> {
    serial_number: &'a str,
    identity_unknown_hex: String,
}

/// JSON view of an encrypted record: the tag and the session id, nothing else.
#[derive(Serialize)]
struct EncryptedJson {
    encrypted: bool,
    packet_marker: &'static str,
    session_id: String,
}

/// JSON view of the message header and CRC16.
#[derive(Serialize)]
struct HeaderJson {
    msg_type: u8,
    pkt_len: u8,
    version: u8,
    crc16_ok: bool,
    crc16_stored: Option<u16>,
    crc16_computed: Option<u16>,
    message_hex: String,
}

fn to_map<T: Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        // Unreachable for the structs above (plain fields, finite or null numbers).
        _ => Map::new(),
    }
}

impl ParsedMessage {
    /// The keys this message contributes to a `droneid decode` frame line: `msg_type`,
    /// `pkt_len`, `version`, `crc16_ok`, `crc16_stored`, `crc16_computed`, `message_hex`, and the
    /// body keys (type 0x10: `serial_number`, `sequence_number`, `state_info`, `state_flags`,
    /// `product_type`, `product_name`, `drone_lat_deg`/`drone_lon_deg`, `app_*_deg`,
    /// `home_*_deg`, the `*_raw` integers, `v_*_mps`, `yaw_deg`, `gps_time_ms`, `uuid_len`,
    /// `uuid`; type 0x11: `serial_number`, `identity_unknown_hex`), and `encrypted`: `true`
    /// with `packet_marker` (`"CRYP"`/`"INFP"`) and `session_id` (8 lowercase hex digits of
    /// bytes 6–9) for an encrypted record, which has no other body key (no serial, no
    /// coordinates), `false` otherwise. `crc24_ok` and `block_hex` are left to the caller, which
    /// owns the block.
    pub fn json_fields(&self) -> Map<String, Value> {
        let mut m = to_map(&HeaderJson {
            msg_type: self.msg_type,
            pkt_len: self.pkt_len,
            version: self.version,
            crc16_ok: self.crc16_ok,
            crc16_stored: self.crc16_stored,
            crc16_computed: self.crc16_computed,
            message_hex: to_hex(&self.message),
        });
        let body = match &self.body {
            MessageBody::Telemetry(f) => to_map(&TelemetryJson::from(f)),
            MessageBody::Identity(i) => to_map(&IdentityJson {
                serial_number: &i.serial_number,
                identity_unknown_hex: to_hex(&i.unknown),
            }),
            MessageBody::Encrypted(e) => to_map(&EncryptedJson {
                encrypted: true,
                packet_marker: e.marker.as_str(),
                session_id: e.session_hex(),
            }),
            MessageBody::Unknown => Map::new(),
        };
        m.insert("encrypted".into(), false.into());
        m.extend(body);
        m
    }

    /// The tag and session id of an encrypted record (CRC16-valid CRYP/INFP), else `None`.
    pub fn encrypted(&self) -> Option<EncryptedInfo> {
        match self.body {
            MessageBody::Encrypted(e) => Some(e),
            _ => None,
        }
    }

    /// The serial number of a plaintext 0x10 or 0x11 message (never of an encrypted one).
    pub fn serial_number(&self) -> Option<&str> {
        match &self.body {
            MessageBody::Telemetry(f) => Some(&f.serial_number),
            MessageBody::Identity(i) => Some(&i.serial_number),
            MessageBody::Encrypted(_) | MessageBody::Unknown => None,
        }
    }
}
