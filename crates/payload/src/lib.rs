//! DroneID records: bytes <-> type 0x10 telemetry and 0x11 identity messages, and the
//! classification of encrypted CRYP/INFP records (§5.8). No DSP.
//!
//! Layout references are to `docs/droneid-protocol.md` §5 (the "spec").
//!
//! * A **transport block** is 176 bytes: a logical record (`L`, `L` more bytes, CRC16 — `L + 3`
//!   bytes), filler up to byte 172, and CRC24A over bytes 0..173 stored big-endian at 173..176
//!   (§4.1, §5.1). See [`build_transport_block`], [`block_crc24_ok`].
//! * [`parse_block`] turns any 176 bytes into a [`ParsedMessage`] value — it never fails and never
//!   panics. CRC16 failure is reported (`crc16_ok: false`), not treated as an error: type 0x10
//!   fields are decoded regardless (a known public encoder puts the CRC16 one byte late).
//! * [`FlightInfo`] (type 0x10 version 2, §5.3) and [`IdentityInfo`] (type 0x11, §5.9) keep the
//!   raw integers as transmitted and offer decoded units (exact coordinate factor
//!   `deg = raw · 180 / (π · 10⁷)`, §5.4).
//! * [`EncryptedInfo`] (tag and session id) classifies CRC16-valid `AA 13 "CRYP"` and
//!   `87 10`/`80 10 "INFP"` records before any telemetry parsing ([`MessageBody::Encrypted`]);
//!   [`EncryptedSpec`] builds such records for the synthesiser.
//! * [`RecordSpec`] is the JSON form used by `droneid synth --record FILE.json`.
//!
//! ```
//! use droneid_payload::{build_transport_block, parse_block, FlightInfo, MessageBody};
//!
//! let mut info = FlightInfo::example();
//! info.serial_number = "ABC123".into();
//! info.set_drone_lat_deg(52.52).unwrap();
//! let block = build_transport_block(&info.to_record(), None).unwrap();
//! let parsed = parse_block(&block);
//! assert!(parsed.crc24_ok && parsed.crc16_ok);
//! match parsed.body {
//!     MessageBody::Telemetry(f) => {
//!         assert_eq!(f.serial_number, "ABC123");
//!         assert!((f.drone_lat_deg() - 52.52).abs() < 1e-5);
//!     }
//!     _ => unreachable!(),
//! }
//! ```
#![forbid(unsafe_code)]

mod block;
mod encrypted;
mod parse;
mod record;
mod spec;

pub use block::{
    block_crc24_ok, build_transport_block, BLOCK_CRC_OFFSET, FILLER_END, TRANSPORT_BLOCK_BYTES,
};
pub use encrypted::{
    Ciphertext, EncryptedInfo, EncryptedSpec, PacketMarker, CRYP_LEN, ENCRYPTED_MIN_LEN, INFP_LEN,
    INFP_O3_LEN, MSG_TYPE_CRYP,
};
pub use parse::{parse_block, parse_bytes, MessageBody, ParsedMessage};
pub use record::{
    deg_to_raw, product_name, raw_to_deg, state_flag_names, FlightInfo, IdentityInfo,
    FLIGHT_INFO_LEN, IDENTITY_LEN, MSG_TYPE_IDENTITY, MSG_TYPE_TELEMETRY, STATE_FLAGS,
};
pub use spec::{parse_record_specs, RecordSpec};

/// Errors from building records and blocks, and from reading record specs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A record longer than the 173 bytes a transport block can hold.
    #[error("record is {len} bytes; a transport block holds at most 173 bytes before its CRC24")]
    RecordTooLong { len: usize },
    /// A filler of the wrong length.
    #[error(
        "filler is {got} bytes; expected {expected} (bytes {record_len}..173) or 173 (a whole block pre-image)"
    )]
    FillerLength {
        got: usize,
        expected: usize,
        record_len: usize,
    },
    /// The record-spec text is not JSON.
    #[error("record spec is not valid JSON: {0}")]
    Json(String),
    /// A record-spec field is missing, of the wrong type or out of range.
    #[error("record spec field `{field}`: {reason}")]
    Field { field: String, reason: String },
    /// A record spec of an unrecognised shape.
    #[error("record spec: {0}")]
    Spec(String),
}

impl PayloadError {
    pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        PayloadError::Field {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Lower-case hex of `bytes`, no separators (the form used in JSON output).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses hex text (either case; ASCII whitespace, `:` and `_` separators and a leading `0x` are
/// ignored). The error text says what is wrong, for use in a field error.
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let mut out = Vec::with_capacity(t.len() / 2);
    let mut high: Option<u8> = None;
    for (i, c) in t.char_indices() {
        if c.is_ascii_whitespace() || c == ':' || c == '_' {
            continue;
        }
        let v = match c.to_digit(16) {
            Some(v) => v as u8,
            None => return Err(format!("invalid hex character {c:?} at position {i}")),
        };
        match high.take() {
            None => high = Some(v),
            Some(h) => out.push((h << 4) | v),
        }
    }
    if high.is_some() {
        return Err("odd number of hex digits".into());
    }
    Ok(out)
}

#[cfg(test)]
mod hex_tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(to_hex(&[0x00, 0xAB, 0x5f]), "00ab5f");
        assert_eq!(from_hex("00AB5f").unwrap(), vec![0x00, 0xAB, 0x5F]);
        assert_eq!(from_hex(" 0x00 ab:5f ").unwrap(), vec![0x00, 0xAB, 0x5F]);
        assert!(from_hex("abc").unwrap_err().contains("odd"));
        assert!(from_hex("zz").unwrap_err().contains("invalid hex"));
    }
}
