//! Record specs: the JSON that `droneid synth --record FILE.json` reads.
//!
//! A spec is one JSON object, or an array of them (records cycled over the bursts):
//!
//! * `{"block_hex": "…"}` — 176 bytes used verbatim (CRC24 not recomputed, so a bad block can be
//!   sent on purpose). Other keys are ignored, so a `droneid decode` line can be fed back.
//! * `{"message_hex": "…", "filler_hex": "…"?}` — a record of at most 173 bytes used verbatim
//!   (CRC16 not recomputed) plus optional filler (see [`crate::build_transport_block`]); CRC24A
//!   appended. Other keys are ignored.
//! * `{"type": "telemetry", …}` — a type 0x10 record from fields. Every field is optional; the
//!   defaults are the spec §9.7 record ([`FlightInfo::example`]). Keys: `serial_number`,
//!   `sequence_number`, `state_info`, `product_type`, `drone_lat_deg`/`latitude_raw`,
//!   `drone_lon_deg`/`longitude_raw`, `app_lat_deg`/`app_lat_raw`, `app_lon_deg`/`app_lon_raw`,
//!   `home_lat_deg`/`home_lat_raw`, `home_lon_deg`/`home_lon_raw`, `altitude_raw`, `height_raw`,
//!   `v_north_raw`, `v_east_raw`, `v_up_raw`, `yaw_raw`, `gps_time_ms`, `uuid`, `uuid_len`
//!   (default: the length of `uuid`), `filler_hex`. Unknown keys are errors (typos).
//! * `{"type": "identity", "serial_number": …, "identity_unknown_hex": "ccaa0200"?,
//!   "filler_hex": …?}` — a type 0x11 record.
//!
//! * `{"type": "encrypted", "packet_marker": "CRYP"|"INFP", "session_id": "1a2b3c4d",
//!   "length": 173?, "ciphertext": "random"|"zero"?, "seed": 0?, "filler_hex": …?}` — an
//!   encrypted O3/O4 record (§5.8): `AA 13 "CRYP"` (default length 173) or `87 10 "INFP"`
//!   (default 138; `"length": 131` gives the O3-style `80 10`). `session_id` is bytes 6–9 as 8
//!   hex digits (required); the rest is random (seeded, default seed 0) or zero. `"type":
//!   "cryp"` / `"infp"` are shorthands that need no `packet_marker`. See [`EncryptedSpec`].
//!
//! `type` also accepts `"0x10"`/`"0x11"` and the numbers 16/17.

use crate::block::{build_transport_block, FILLER_END, TRANSPORT_BLOCK_BYTES};
use crate::encrypted::{Ciphertext, EncryptedSpec, PacketMarker};
use crate::record::{deg_to_raw_checked, FlightInfo, IdentityInfo};
use crate::{from_hex, PayloadError};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// One record to transmit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSpec {
    /// A whole transport block, verbatim.
    Block(Box<[u8; TRANSPORT_BLOCK_BYTES]>),
    /// Record bytes (≤ 173) and optional filler.
    Message {
        message: Vec<u8>,
        filler: Option<Vec<u8>>,
    },
    /// A type 0x10 record from fields.
    Telemetry {
        info: FlightInfo,
        filler: Option<Vec<u8>>,
    },
    /// A type 0x11 record from fields.
    Identity {
        info: IdentityInfo,
        filler: Option<Vec<u8>>,
    },
    /// An encrypted CRYP/INFP record (§5.8).
    Encrypted {
        spec: EncryptedSpec,
        filler: Option<Vec<u8>>,
    },
}

impl RecordSpec {
    /// The 176-byte transport block for this spec.
    pub fn to_block(&self) -> Result<[u8; TRANSPORT_BLOCK_BYTES], PayloadError> {
        let with_filler = |record: &[u8], filler: &Option<Vec<u8>>| {
            build_transport_block(record, filler.as_deref()).map_err(|e| match e {
                PayloadError::FillerLength { .. } => {
                    PayloadError::field("filler_hex", e.to_string())
                }
                PayloadError::RecordTooLong { .. } => {
                    PayloadError::field("message_hex", e.to_string())
                }
                other => other,
            })
        };
        match self {
            RecordSpec::Block(b) => Ok(**b),
            RecordSpec::Message { message, filler } => with_filler(message, filler),
            RecordSpec::Telemetry { info, filler } => with_filler(&info.to_record(), filler),
            RecordSpec::Identity { info, filler } => with_filler(&info.to_record(), filler),
            RecordSpec::Encrypted { spec, filler } => with_filler(&spec.to_record()?, filler),
        }
    }

    /// Reads one spec from a JSON value (an object).
    pub fn from_json_value(v: &Value) -> Result<Self, PayloadError> {
        let obj = v.as_object().ok_or_else(|| {
            PayloadError::Spec(format!(
                "expected a JSON object (or an array of objects), found {}",
                kind(v)
            ))
        })?;
        if let Some(b) = obj.get("block_hex") {
            let bytes = hex_field(b, "block_hex")?;
            let block: [u8; TRANSPORT_BLOCK_BYTES] = bytes.as_slice().try_into().map_err(|_| {
                PayloadError::field(
                    "block_hex",
                    format!("{} bytes, need exactly 176", bytes.len()),
                )
            })?;
            return Ok(RecordSpec::Block(Box::new(block)));
        }
        let filler = obj
            .get("filler_hex")
            .map(|f| hex_field(f, "filler_hex"))
            .transpose()?;
        if let Some(m) = obj.get("message_hex") {
            let message = hex_field(m, "message_hex")?;
            if message.len() > FILLER_END {
                return Err(PayloadError::field(
                    "message_hex",
                    format!("{} bytes, at most 173 fit a transport block", message.len()),
                ));
            }
            let spec = RecordSpec::Message { message, filler };
            spec.to_block()?; // checks the filler length now, naming the field
            return Ok(spec);
        }
        let ty = obj.get("type").ok_or_else(|| {
            PayloadError::Spec(
                "needs one of `block_hex`, `message_hex` or `type` (\"telemetry\", \"identity\" or \"encrypted\")"
                    .into(),
            )
        })?;
        let spec = match record_type(ty)? {
            RecordType::Telemetry => RecordSpec::Telemetry {
                info: telemetry_from(obj)?,
                filler,
            },
            RecordType::Identity => RecordSpec::Identity {
                info: identity_from(obj)?,
                filler,
            },
            RecordType::Encrypted(marker) => RecordSpec::Encrypted {
                spec: encrypted_from(obj, marker)?,
                filler,
            },
        };
        spec.to_block()?;
        Ok(spec)
    }
}

impl<'de> Deserialize<'de> for RecordSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        RecordSpec::from_json_value(&v).map_err(D::Error::custom)
    }
}

/// Parses a record-spec file: one object, or a non-empty array of objects (errors then name the
/// element, e.g. `[2].serial_number`).
pub fn parse_record_specs(json: &str) -> Result<Vec<RecordSpec>, PayloadError> {
    let v: Value = serde_json::from_str(json).map_err(|e| PayloadError::Json(e.to_string()))?;
    match &v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(PayloadError::Spec("the array of records is empty".into()));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    RecordSpec::from_json_value(item).map_err(|e| match e {
                        PayloadError::Field { field, reason } => PayloadError::Field {
                            field: format!("[{i}].{field}"),
                            reason,
                        },
                        PayloadError::Spec(msg) => {
                            PayloadError::Spec(format!("record [{i}]: {msg}"))
                        }
                        other => other,
                    })
                })
                .collect()
        }
        _ => Ok(vec![RecordSpec::from_json_value(&v)?]),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn hex_field(v: &Value, field: &str) -> Result<Vec<u8>, PayloadError> {
    let s = v.as_str().ok_or_else(|| {
        PayloadError::field(field, format!("expected a hex string, found {}", kind(v)))
    })?;
    from_hex(s).map_err(|e| PayloadError::field(field, e))
}

/// The `type` of a field-built record spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordType {
    Telemetry,
    Identity,
    /// `"encrypted"` (marker from `packet_marker`), or `"cryp"`/`"infp"`.
    Encrypted(Option<PacketMarker>),
}

fn record_type(v: &Value) -> Result<RecordType, PayloadError> {
    let t = match v {
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "telemetry" | "flight_info" | "0x10" | "16" => Some(RecordType::Telemetry),
            "identity" | "0x11" | "17" => Some(RecordType::Identity),
            "encrypted" => Some(RecordType::Encrypted(None)),
            "cryp" => Some(RecordType::Encrypted(Some(PacketMarker::Cryp))),
            "infp" => Some(RecordType::Encrypted(Some(PacketMarker::Infp))),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(16) => Some(RecordType::Telemetry),
            Some(17) => Some(RecordType::Identity),
            _ => None,
        },
        _ => None,
    };
    t.ok_or_else(|| {
        PayloadError::field(
            "type",
            format!(
                "{v} is not \"telemetry\" (0x10), \"identity\" (0x11) or \"encrypted\" (CRYP/INFP)"
            ),
        )
    })
}

fn int_field<T: TryFrom<i128>>(v: &Value, field: &str) -> Result<T, PayloadError> {
    let range = || format!("{v} is not an integer in {}", std::any::type_name::<T>());
    let n: i128 = if let Some(i) = v.as_i64() {
        i as i128
    } else if let Some(u) = v.as_u64() {
        u as i128
    } else if let Some(s) = v.as_str() {
        // Accept "0x1F37" for flags and the like.
        let s = s.trim();
        let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => i128::from_str_radix(h, 16),
            None => s.parse::<i128>(),
        };
        parsed.map_err(|_| PayloadError::field(field, range()))?
    } else {
        return Err(PayloadError::field(field, range()));
    };
    T::try_from(n).map_err(|_| PayloadError::field(field, range()))
}

fn deg_field(v: &Value, field: &str) -> Result<i32, PayloadError> {
    let d = v.as_f64().ok_or_else(|| {
        PayloadError::field(
            field,
            format!("expected degrees as a number, found {}", kind(v)),
        )
    })?;
    deg_to_raw_checked(d).map_err(|e| PayloadError::field(field, e))
}

fn ascii_string(v: &Value, field: &str, max: usize) -> Result<String, PayloadError> {
    let s = v.as_str().ok_or_else(|| {
        PayloadError::field(field, format!("expected a string, found {}", kind(v)))
    })?;
    if !s.is_ascii() {
        return Err(PayloadError::field(field, "must be ASCII"));
    }
    if s.len() > max {
        return Err(PayloadError::field(
            field,
            format!("{} characters, at most {max} fit", s.len()),
        ));
    }
    Ok(s.to_string())
}

/// A coordinate given as degrees or raw, not both.
fn coord(
    obj: &Map<String, Value>,
    deg_key: &str,
    raw_key: &str,
    slot: &mut i32,
) -> Result<(), PayloadError> {
    match (obj.get(deg_key), obj.get(raw_key)) {
        (Some(_), Some(_)) => Err(PayloadError::field(
            deg_key,
            format!("give either `{deg_key}` or `{raw_key}`, not both"),
        )),
        (Some(d), None) => {
            *slot = deg_field(d, deg_key)?;
            Ok(())
        }
        (None, Some(r)) => {
            *slot = int_field(r, raw_key)?;
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

const TELEMETRY_KEYS: &[&str] = &[
    "type",
    "filler_hex",
    "serial_number",
    "sequence_number",
    "state_info",
    "product_type",
    "drone_lat_deg",
    "latitude_raw",
    "drone_lon_deg",
    "longitude_raw",
    "app_lat_deg",
    "app_lat_raw",
    "app_lon_deg",
    "app_lon_raw",
    "home_lat_deg",
    "home_lat_raw",
    "home_lon_deg",
    "home_lon_raw",
    "altitude_raw",
    "height_raw",
    "v_north_raw",
    "v_east_raw",
    "v_up_raw",
    "yaw_raw",
    "gps_time_ms",
    "uuid",
    "uuid_len",
];

const IDENTITY_KEYS: &[&str] = &[
    "type",
    "filler_hex",
    "serial_number",
    "identity_unknown_hex",
];

const ENCRYPTED_KEYS: &[&str] = &[
    "type",
    "filler_hex",
    "packet_marker",
    "session_id",
    "length",
    "ciphertext",
    "seed",
];

fn check_keys(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), PayloadError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(PayloadError::field(
                k.clone(),
                format!("unknown key; expected one of {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

fn telemetry_from(obj: &Map<String, Value>) -> Result<FlightInfo, PayloadError> {
    check_keys(obj, TELEMETRY_KEYS)?;
    let mut f = FlightInfo::example();
    macro_rules! int {
        ($key:literal, $slot:expr) => {
            if let Some(v) = obj.get($key) {
                $slot = int_field(v, $key)?;
            }
        };
    }
    if let Some(v) = obj.get("serial_number") {
        f.serial_number = ascii_string(v, "serial_number", 16)?;
    }
    int!("sequence_number", f.sequence_number);
    int!("state_info", f.state_info);
    int!("product_type", f.product_type);
    coord(obj, "drone_lat_deg", "latitude_raw", &mut f.latitude_raw)?;
    coord(obj, "drone_lon_deg", "longitude_raw", &mut f.longitude_raw)?;
    coord(obj, "app_lat_deg", "app_lat_raw", &mut f.app_lat_raw)?;
    coord(obj, "app_lon_deg", "app_lon_raw", &mut f.app_lon_raw)?;
    coord(obj, "home_lat_deg", "home_lat_raw", &mut f.home_lat_raw)?;
    coord(obj, "home_lon_deg", "home_lon_raw", &mut f.home_lon_raw)?;
    int!("altitude_raw", f.altitude_raw);
    int!("height_raw", f.height_raw);
    int!("v_north_raw", f.v_north_raw);
    int!("v_east_raw", f.v_east_raw);
    int!("v_up_raw", f.v_up_raw);
    int!("yaw_raw", f.yaw_raw);
    int!("gps_time_ms", f.gps_time_ms);
    if let Some(v) = obj.get("uuid") {
        f.uuid = ascii_string(v, "uuid", 20)?;
        f.uuid_len = f.uuid.len() as u8;
    }
    int!("uuid_len", f.uuid_len);
    Ok(f)
}

fn identity_from(obj: &Map<String, Value>) -> Result<IdentityInfo, PayloadError> {
    check_keys(obj, IDENTITY_KEYS)?;
    let mut i = IdentityInfo::default();
    if let Some(v) = obj.get("serial_number") {
        i.serial_number = ascii_string(v, "serial_number", 16)?;
    }
    if let Some(v) = obj.get("identity_unknown_hex") {
        let b = hex_field(v, "identity_unknown_hex")?;
        i.unknown = b.as_slice().try_into().map_err(|_| {
            PayloadError::field(
                "identity_unknown_hex",
                format!("{} bytes, need exactly 4", b.len()),
            )
        })?;
    }
    Ok(i)
}

fn encrypted_from(
    obj: &Map<String, Value>,
    from_type: Option<PacketMarker>,
) -> Result<EncryptedSpec, PayloadError> {
    check_keys(obj, ENCRYPTED_KEYS)?;
    let named = obj
        .get("packet_marker")
        .map(|v| {
            v.as_str().and_then(PacketMarker::from_name).ok_or_else(|| {
                PayloadError::field("packet_marker", format!("{v} is not \"CRYP\" or \"INFP\""))
            })
        })
        .transpose()?;
    let marker = match (from_type, named) {
        (Some(t), Some(n)) if t != n => {
            return Err(PayloadError::field(
                "packet_marker",
                format!(
                    "\"{n}\" contradicts `type` \"{}\"",
                    t.as_str().to_ascii_lowercase()
                ),
            ))
        }
        (Some(m), _) | (None, Some(m)) => m,
        (None, None) => {
            return Err(PayloadError::field(
                "packet_marker",
                "missing; \"CRYP\" or \"INFP\" (or use `type` \"cryp\"/\"infp\")",
            ))
        }
    };
    let sid = obj
        .get("session_id")
        .ok_or_else(|| PayloadError::field("session_id", "missing; 8 hex digits (bytes 6-9)"))?;
    let sid = hex_field(sid, "session_id")?;
    let session_id: [u8; 4] = sid.as_slice().try_into().map_err(|_| {
        PayloadError::field(
            "session_id",
            format!("{} bytes, need exactly 4 (8 hex digits)", sid.len()),
        )
    })?;
    let mut spec = EncryptedSpec::new(marker, session_id);
    if let Some(v) = obj.get("length") {
        spec.record_len = int_field(v, "length")?;
    }
    let seed = match obj.get("seed") {
        Some(v) => int_field(v, "seed")?,
        None => 0,
    };
    spec.ciphertext = match obj.get("ciphertext").map(|v| (v, v.as_str())) {
        None => Ciphertext::Random { seed },
        Some((_, Some(s))) if s.eq_ignore_ascii_case("random") => Ciphertext::Random { seed },
        Some((_, Some(s))) if s.eq_ignore_ascii_case("zero") => Ciphertext::Zero,
        Some((v, _)) => {
            return Err(PayloadError::field(
                "ciphertext",
                format!("{v} is not \"random\" or \"zero\""),
            ))
        }
    };
    Ok(spec)
}
