//! Encrypted O3/O4 records (spec §5.8): `AA 13 "CRYP"` (173 bytes), `87 10 "INFP"` (138 bytes)
//! and the O3-style `80 10 "INFP"` (131 bytes).
//!
//! Classification only: the session id (bytes 6–9) is the one stable handle on such a drone;
//! nothing else is plaintext, and nothing here ever reads coordinates from these records.
//! Decryption is out of scope (§7).

use crate::record::MSG_TYPE_TELEMETRY;
use droneid_fec::crc::crc16_dji;

/// Message type of the CRYP (session key) record.
pub const MSG_TYPE_CRYP: u8 = 0x13;
/// Length of a CRYP record (L = 0xAA), CRC16 included.
pub const CRYP_LEN: usize = 173;
/// Length of an O4 INFP record (L = 0x87), CRC16 included.
pub const INFP_LEN: usize = 138;
/// Length of an O3-style INFP record (L = 0x80), CRC16 included.
pub const INFP_O3_LEN: usize = 131;
/// Shortest encrypted record this crate classifies or builds: header, tag, session id, INFP
/// nonce and ciphertext length (bytes 0..20), CRC16.
pub const ENCRYPTED_MIN_LEN: usize = 22;

/// The ASCII tag at bytes 2–5 of an encrypted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketMarker {
    /// `"CRYP"`, type 0x13: the SM2-wrapped AES-128 session key.
    Cryp,
    /// `"INFP"`, type 0x10: AES-128-CTR encrypted telemetry.
    Infp,
}

impl PacketMarker {
    /// The tag as written in JSON (`"CRYP"` / `"INFP"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PacketMarker::Cryp => "CRYP",
            PacketMarker::Infp => "INFP",
        }
    }

    /// The four tag bytes at offsets 2–5.
    pub fn tag(self) -> &'static [u8; 4] {
        match self {
            PacketMarker::Cryp => b"CRYP",
            PacketMarker::Infp => b"INFP",
        }
    }

    /// The message type (byte 1) that goes with the tag: 0x13 for CRYP, 0x10 for INFP.
    pub fn msg_type(self) -> u8 {
        match self {
            PacketMarker::Cryp => MSG_TYPE_CRYP,
            PacketMarker::Infp => MSG_TYPE_TELEMETRY,
        }
    }

    /// The usual record length (CRC16 included): 173 for CRYP, 138 for INFP.
    pub fn default_len(self) -> usize {
        match self {
            PacketMarker::Cryp => CRYP_LEN,
            PacketMarker::Infp => INFP_LEN,
        }
    }

    /// Parses `"CRYP"` / `"INFP"` (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "CRYP" => Some(PacketMarker::Cryp),
            "INFP" => Some(PacketMarker::Infp),
            _ => None,
        }
    }
}

impl std::fmt::Display for PacketMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an encrypted record reveals: its tag and session id. The raw record stays in
/// [`crate::ParsedMessage::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptedInfo {
    /// CRYP or INFP.
    pub marker: PacketMarker,
    /// Bytes 6–9 as transmitted (the same in a drone's CRYP and INFP records of one session).
    pub session_id: [u8; 4],
}

impl EncryptedInfo {
    /// The session id as 8 lowercase hex digits (bytes 6, 7, 8, 9 in order), as in JSON.
    pub fn session_hex(&self) -> String {
        crate::to_hex(&self.session_id)
    }

    /// Classifies a record that starts at `rec[0]` (length byte) and whose CRC16 the caller has
    /// already checked: `Some` when byte 1 and the tag at bytes 2–5 are `0x13 "CRYP"` or
    /// `0x10 "INFP"` and the record (L + 3 bytes) is at least [`ENCRYPTED_MIN_LEN`] long and
    /// present in `rec`. The lengths seen on air are 173 (CRYP), 138 and 131 (INFP); other
    /// lengths with a valid tag and CRC16 are classified too (encrypted is the safe reading).
    pub fn classify(rec: &[u8]) -> Option<Self> {
        let len = *rec.first()? as usize + 3;
        if len < ENCRYPTED_MIN_LEN || rec.len() < 10 {
            return None;
        }
        let marker = match (rec[1], &rec[2..6]) {
            (MSG_TYPE_CRYP, b"CRYP") => PacketMarker::Cryp,
            (MSG_TYPE_TELEMETRY, b"INFP") => PacketMarker::Infp,
            _ => return None,
        };
        let mut session_id = [0u8; 4];
        session_id.copy_from_slice(&rec[6..10]);
        Some(EncryptedInfo { marker, session_id })
    }
}

/// What fills the encrypted part of a built record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ciphertext {
    /// All zero bytes (nonce included).
    Zero,
    /// Pseudo-random bytes from a seeded generator (SplitMix64; the same seed gives the same
    /// bytes). Mixed with the session id, so two sessions with one seed still differ.
    Random {
        /// Generator seed.
        seed: u64,
    },
}

/// An encrypted record to build (for the synthesiser and tests): tag, session id, length and
/// ciphertext. [`EncryptedSpec::to_record`] gives the bytes, CRC16 included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedSpec {
    /// CRYP or INFP.
    pub marker: PacketMarker,
    /// Bytes 6–9.
    pub session_id: [u8; 4],
    /// Record length L + 3, CRC16 included, in `ENCRYPTED_MIN_LEN..=173`. Defaults:
    /// [`PacketMarker::default_len`].
    pub record_len: usize,
    /// Content of bytes 10..=L.
    pub ciphertext: Ciphertext,
}

impl EncryptedSpec {
    /// A record of the usual length with random ciphertext (seed 0).
    pub fn new(marker: PacketMarker, session_id: [u8; 4]) -> Self {
        EncryptedSpec {
            marker,
            session_id,
            record_len: marker.default_len(),
            ciphertext: Ciphertext::Random { seed: 0 },
        }
    }

    /// The record bytes: `L`, type, tag, session id, then for CRYP bytes 10..=L of ciphertext
    /// (SM2 C1 ‖ C3 ‖ C2 and the rest), for INFP an 8-byte nonce, the ciphertext length
    /// (little-endian, bytes 18–19) and the ciphertext up to byte L; CRC16 (§5.2) at L+1..L+3.
    ///
    /// Errors: a `record_len` outside `ENCRYPTED_MIN_LEN..=173`.
    pub fn to_record(&self) -> Result<Vec<u8>, crate::PayloadError> {
        let n = self.record_len;
        if !(ENCRYPTED_MIN_LEN..=crate::block::FILLER_END).contains(&n) {
            return Err(crate::PayloadError::field(
                "length",
                format!(
                    "{n} bytes; an encrypted record is {ENCRYPTED_MIN_LEN}..=173 bytes (CRC16 included)"
                ),
            ));
        }
        let l = n - 3;
        let mut r = vec![0u8; n];
        r[0] = l as u8;
        r[1] = self.marker.msg_type();
        r[2..6].copy_from_slice(self.marker.tag());
        r[6..10].copy_from_slice(&self.session_id);
        if let Ciphertext::Random { seed } = self.ciphertext {
            let mut state = seed ^ u64::from(u32::from_be_bytes(self.session_id)) << 16;
            for chunk in r[10..=l].chunks_mut(8) {
                let v = splitmix64(&mut state).to_le_bytes();
                chunk.copy_from_slice(&v[..chunk.len()]);
            }
        }
        if self.marker == PacketMarker::Infp {
            // Bytes 18–19: ciphertext length (bytes 20..=L).
            let ct_len = (l + 1 - 20) as u16;
            r[18..20].copy_from_slice(&ct_len.to_le_bytes());
        }
        let crc = crc16_dji(&r[..=l]);
        r[l + 1..].copy_from_slice(&crc.to_le_bytes());
        Ok(r)
    }
}

/// SplitMix64 step (Steele, Lea, Flood 2014): a tiny seeded generator, good enough for filler.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_records_have_the_spec_layout() {
        let sid = [0x1a, 0x2b, 0x3c, 0x4d];
        let cryp = EncryptedSpec::new(PacketMarker::Cryp, sid)
            .to_record()
            .unwrap();
        assert_eq!(cryp.len(), 173);
        assert_eq!(&cryp[..6], b"\xaa\x13CRYP");
        assert_eq!(&cryp[6..10], &sid);
        let infp = EncryptedSpec::new(PacketMarker::Infp, sid)
            .to_record()
            .unwrap();
        assert_eq!(infp.len(), 138);
        assert_eq!(&infp[..6], b"\x87\x10INFP");
        assert_eq!(u16::from_le_bytes([infp[18], infp[19]]), 116);
        let mut o3 = EncryptedSpec::new(PacketMarker::Infp, sid);
        o3.record_len = INFP_O3_LEN;
        o3.ciphertext = Ciphertext::Zero;
        let o3 = o3.to_record().unwrap();
        assert_eq!(&o3[..2], &[0x80, 0x10]);
        assert!(o3[10..18].iter().all(|&b| b == 0));
        for r in [&cryp, &infp, &o3] {
            let l = r[0] as usize;
            assert_eq!(
                u16::from_le_bytes([r[l + 1], r[l + 2]]),
                crc16_dji(&r[..=l])
            );
            let info = EncryptedInfo::classify(r).unwrap();
            assert_eq!(info.session_hex(), "1a2b3c4d");
        }
        // Same seed, other session: other bytes.
        let other = EncryptedSpec::new(PacketMarker::Infp, [0, 0, 0, 1])
            .to_record()
            .unwrap();
        assert_ne!(&other[20..40], &infp[20..40]);
        let mut bad = EncryptedSpec::new(PacketMarker::Cryp, sid);
        bad.record_len = 174;
        assert!(bad.to_record().is_err());
        bad.record_len = 21;
        assert!(bad.to_record().is_err());
    }

    #[test]
    fn classify_needs_type_and_tag() {
        let mut r = EncryptedSpec::new(PacketMarker::Infp, [1, 2, 3, 4])
            .to_record()
            .unwrap();
        assert!(EncryptedInfo::classify(&r).is_some());
        r[1] = 0x13; // INFP tag with the CRYP type
        assert!(EncryptedInfo::classify(&r).is_none());
        r[1] = 0x10;
        r[5] = b'Q';
        assert!(EncryptedInfo::classify(&r).is_none());
        assert!(EncryptedInfo::classify(&[]).is_none());
        assert!(EncryptedInfo::classify(&[0x87, 0x10, b'I', b'N']).is_none());
        assert_eq!(PacketMarker::from_name("cryp"), Some(PacketMarker::Cryp));
        assert_eq!(PacketMarker::Infp.to_string(), "INFP");
    }
}
