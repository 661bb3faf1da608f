//! Type 0x10 flight information (spec §5.3) and type 0x11 identity (§5.9) records.

use droneid_fec::crc::crc16_dji;
use std::f64::consts::PI;

/// Message type of the flight-information (telemetry) record.
pub const MSG_TYPE_TELEMETRY: u8 = 0x10;
/// Message type of the identity record.
pub const MSG_TYPE_IDENTITY: u8 = 0x11;
/// Length of a type 0x10 version 2 record (L = 88), CRC16 included.
pub const FLIGHT_INFO_LEN: usize = 91;
/// Length of a type 0x11 record (L = 141), CRC16 included.
pub const IDENTITY_LEN: usize = 144;

/// Degrees from the transmitted unit, 10⁻⁷ radian, with the exact factor 180/(π·10⁷) (§5.4).
/// 0 means "unknown" on air; it is returned as 0.0.
pub fn raw_to_deg(raw: i32) -> f64 {
    raw as f64 * 180.0 / (PI * 1e7)
}

/// The transmitted unit (10⁻⁷ radian, rounded) for an angle in degrees (§5.4). `None` when
/// `deg` is not finite or does not fit an `i32` (|deg| ≳ 12 304°).
pub fn deg_to_raw(deg: f64) -> Option<i32> {
    let raw = (deg * PI / 180.0 * 1e7).round();
    if raw.is_finite() && raw >= i32::MIN as f64 && raw <= i32::MAX as f64 {
        Some(raw as i32)
    } else {
        None
    }
}

/// Product name for the product-type byte at offset 67 (§5.7); `unknown(<n>)` otherwise.
pub fn product_name(code: u8) -> String {
    let name = match code {
        1 => "Inspire 1",
        2 | 3 => "Phantom 3 Series",
        4 => "Phantom 3 Std",
        5 => "M100",
        6 => "ACEONE",
        7 => "WKM",
        8 => "NAZA",
        9 => "A2",
        10 => "A3",
        11 => "Phantom 4",
        12 => "MG-1",
        14 => "M600",
        15 => "Phantom 3 4K",
        16 => "Mavic Pro",
        17 => "Inspire 2",
        18 => "Phantom 4 Pro",
        20 => "N2",
        21 => "Spark",
        23 => "M600 Pro",
        24 => "Mavic Air",
        25 => "M200",
        26 => "Phantom 4 Series",
        27 => "Phantom 4 Advanced",
        28 => "M210",
        30 => "M210 RTK",
        31 => "A3 AG",
        32 => "MG-2",
        34 => "MG-1A",
        35 => "Phantom 4 RTK",
        36 => "Phantom 4 Pro V2.0",
        38 => "MG-1P",
        40 => "MG-1P RTK",
        41 => "Mavic 2",
        44 => "M200 V2 Series",
        51 => "Mavic 2 Enterprise",
        53 => "Mavic Mini",
        58 => "Mavic Air 2",
        59 => "P4M (Phantom 4 Multispectral)",
        60 => "M300 RTK",
        61 => "DJI FPV",
        63 => "Mini 2",
        64 => "Agras T10",
        65 => "Agras T30",
        66 => "Air 2S",
        67 => "M30",
        68 => "Mavic 3",
        69 => "Mavic 2 Enterprise Advanced",
        70 => "Mini SE",
        _ => return format!("unknown({code})"),
    };
    name.to_string()
}

/// State-flag bits (offset 5, §5.6, KIS reading; confidence [S]: speculative) as
/// `(mask, name)`. Bits 12–15 are unknown. Bit 3 ("uuid_set") is contradicted by real frames.
pub const STATE_FLAGS: [(u16, &str); 12] = [
    (0x0001, "serial_valid"),
    (0x0002, "privacy_disabled"),
    (0x0004, "home_set"),
    (0x0008, "uuid_set"),
    (0x0010, "motors_on"),
    (0x0020, "in_air"),
    (0x0040, "gnss_valid"),
    (0x0080, "altitude_valid"),
    (0x0100, "height_valid"),
    (0x0200, "horizontal_velocity_valid"),
    (0x0400, "vertical_velocity_valid"),
    (0x0800, "pitch_roll_valid"),
];

/// Names of the set state-flag bits (§5.6), in bit order; unknown bits 12–15 as `bit12`…
pub fn state_flag_names(state: u16) -> Vec<String> {
    let mut names: Vec<String> = STATE_FLAGS
        .iter()
        .filter(|(mask, _)| state & mask != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    for bit in 12..16 {
        if state & (1 << bit) != 0 {
            names.push(format!("bit{bit}"));
        }
    }
    names
}

/// NUL-terminated, lossy ASCII: stops at the first NUL; bytes outside printable ASCII
/// (0x20..=0x7E) become U+FFFD.
pub(crate) fn ascii_field(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| {
            if (0x20..=0x7E).contains(&b) {
                b as char
            } else {
                '\u{FFFD}'
            }
        })
        .collect()
}

/// Writes `s` NUL-padded into `dst`, truncated to `dst.len()` bytes.
fn put_ascii(dst: &mut [u8], s: &str) {
    dst.fill(0);
    let n = s.len().min(dst.len());
    dst[..n].copy_from_slice(&s.as_bytes()[..n]);
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}
fn i16_at(b: &[u8], off: usize) -> i16 {
    i16::from_le_bytes([b[off], b[off + 1]])
}
fn i32_at(b: &[u8], off: usize) -> i32 {
    i32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// Type 0x10 version 2 flight information (§5.3): every field as transmitted.
///
/// Offsets 31/33 are disputed (§5.5): this crate calls offset 31 `altitude_raw` and offset 33
/// `height_raw` (RUB/KIS v1 naming, favoured by real data) and keeps both raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlightInfo {
    /// Offset 3.
    pub sequence_number: u16,
    /// Offset 5, bit field (§5.6).
    pub state_info: u16,
    /// Offset 7, 16 bytes ASCII, NUL-padded.
    pub serial_number: String,
    /// Offset 23, 10⁻⁷ rad.
    pub longitude_raw: i32,
    /// Offset 27, 10⁻⁷ rad.
    pub latitude_raw: i32,
    /// Offset 31 (altitude, reference uncertain; metres likely).
    pub altitude_raw: i16,
    /// Offset 33 (height above take-off; metres likely).
    pub height_raw: i16,
    /// Offset 35, cm/s (likely).
    pub v_north_raw: i16,
    /// Offset 37, cm/s (likely).
    pub v_east_raw: i16,
    /// Offset 39, cm/s (likely; sign unverified).
    pub v_up_raw: i16,
    /// Offset 41, centidegrees.
    pub yaw_raw: i16,
    /// Offset 43, app time, ms since the Unix epoch.
    pub gps_time_ms: u64,
    /// Offset 51, 10⁻⁷ rad.
    pub app_lat_raw: i32,
    /// Offset 55, 10⁻⁷ rad.
    pub app_lon_raw: i32,
    /// Offset 59, 10⁻⁷ rad.
    pub home_lon_raw: i32,
    /// Offset 63, 10⁻⁷ rad.
    pub home_lat_raw: i32,
    /// Offset 67 (§5.7).
    pub product_type: u8,
    /// Offset 68, as transmitted (not checked against `uuid`).
    pub uuid_len: u8,
    /// Offset 69, 20 bytes ASCII, NUL-padded.
    pub uuid: String,
}

impl Default for FlightInfo {
    fn default() -> Self {
        Self::example()
    }
}

impl FlightInfo {
    /// The spec §9.7 test record (fictitious values; serial `TESTSN0000000001`, Berlin).
    pub fn example() -> Self {
        FlightInfo {
            sequence_number: 4660,
            state_info: 0x1F37,
            serial_number: "TESTSN0000000001".into(),
            longitude_raw: 2_339_606,
            latitude_raw: 9_166_471,
            altitude_raw: 100,
            height_raw: 25,
            v_north_raw: 150,
            v_east_raw: -75,
            v_up_raw: 20,
            yaw_raw: 4500,
            gps_time_ms: 1_700_000_000_000,
            app_lat_raw: 9_166_382,
            app_lon_raw: 2_339_439,
            home_lon_raw: 2_339_457,
            home_lat_raw: 9_166_399,
            product_type: 63,
            uuid_len: 0,
            uuid: String::new(),
        }
    }

    /// Reads the fields from a record that starts at `rec[0]` (length byte). Needs at least
    /// 89 bytes (everything before the CRC16); returns `None` otherwise. Does not check the
    /// header or any CRC.
    pub fn from_record(rec: &[u8]) -> Option<Self> {
        if rec.len() < FLIGHT_INFO_LEN - 2 {
            return None;
        }
        Some(FlightInfo {
            sequence_number: u16_at(rec, 3),
            state_info: u16_at(rec, 5),
            serial_number: ascii_field(&rec[7..23]),
            longitude_raw: i32_at(rec, 23),
            latitude_raw: i32_at(rec, 27),
            altitude_raw: i16_at(rec, 31),
            height_raw: i16_at(rec, 33),
            v_north_raw: i16_at(rec, 35),
            v_east_raw: i16_at(rec, 37),
            v_up_raw: i16_at(rec, 39),
            yaw_raw: i16_at(rec, 41),
            gps_time_ms: u64_at(rec, 43),
            app_lat_raw: i32_at(rec, 51),
            app_lon_raw: i32_at(rec, 55),
            home_lon_raw: i32_at(rec, 59),
            home_lat_raw: i32_at(rec, 63),
            product_type: rec[67],
            uuid_len: rec[68],
            uuid: ascii_field(&rec[69..89]),
        })
    }

    /// The 91-byte record: header `58 10 02`, fields, CRC16 (little-endian) at 89..91.
    /// Serial and UUID are written NUL-padded and truncated to 16 / 20 bytes.
    pub fn to_record(&self) -> [u8; FLIGHT_INFO_LEN] {
        let mut r = [0u8; FLIGHT_INFO_LEN];
        r[0] = (FLIGHT_INFO_LEN - 3) as u8;
        r[1] = MSG_TYPE_TELEMETRY;
        r[2] = 2;
        r[3..5].copy_from_slice(&self.sequence_number.to_le_bytes());
        r[5..7].copy_from_slice(&self.state_info.to_le_bytes());
        put_ascii(&mut r[7..23], &self.serial_number);
        r[23..27].copy_from_slice(&self.longitude_raw.to_le_bytes());
        r[27..31].copy_from_slice(&self.latitude_raw.to_le_bytes());
        r[31..33].copy_from_slice(&self.altitude_raw.to_le_bytes());
        r[33..35].copy_from_slice(&self.height_raw.to_le_bytes());
        r[35..37].copy_from_slice(&self.v_north_raw.to_le_bytes());
        r[37..39].copy_from_slice(&self.v_east_raw.to_le_bytes());
        r[39..41].copy_from_slice(&self.v_up_raw.to_le_bytes());
        r[41..43].copy_from_slice(&self.yaw_raw.to_le_bytes());
        r[43..51].copy_from_slice(&self.gps_time_ms.to_le_bytes());
        r[51..55].copy_from_slice(&self.app_lat_raw.to_le_bytes());
        r[55..59].copy_from_slice(&self.app_lon_raw.to_le_bytes());
        r[59..63].copy_from_slice(&self.home_lon_raw.to_le_bytes());
        r[63..67].copy_from_slice(&self.home_lat_raw.to_le_bytes());
        r[67] = self.product_type;
        r[68] = self.uuid_len;
        put_ascii(&mut r[69..89], &self.uuid);
        let crc = crc16_dji(&r[..89]);
        r[89..91].copy_from_slice(&crc.to_le_bytes());
        r
    }

    /// Drone latitude, degrees (exact factor).
    pub fn drone_lat_deg(&self) -> f64 {
        raw_to_deg(self.latitude_raw)
    }
    /// Drone longitude, degrees.
    pub fn drone_lon_deg(&self) -> f64 {
        raw_to_deg(self.longitude_raw)
    }
    /// Pilot (app) latitude, degrees.
    pub fn app_lat_deg(&self) -> f64 {
        raw_to_deg(self.app_lat_raw)
    }
    /// Pilot (app) longitude, degrees.
    pub fn app_lon_deg(&self) -> f64 {
        raw_to_deg(self.app_lon_raw)
    }
    /// Home-point latitude, degrees.
    pub fn home_lat_deg(&self) -> f64 {
        raw_to_deg(self.home_lat_raw)
    }
    /// Home-point longitude, degrees.
    pub fn home_lon_deg(&self) -> f64 {
        raw_to_deg(self.home_lon_raw)
    }
    /// Yaw, degrees (raw centidegrees / 100).
    pub fn yaw_deg(&self) -> f64 {
        self.yaw_raw as f64 / 100.0
    }
    /// Velocity north, m/s (raw taken as cm/s).
    pub fn v_north_mps(&self) -> f64 {
        self.v_north_raw as f64 / 100.0
    }
    /// Velocity east, m/s (raw taken as cm/s).
    pub fn v_east_mps(&self) -> f64 {
        self.v_east_raw as f64 / 100.0
    }
    /// Velocity up, m/s (raw taken as cm/s; sign unverified).
    pub fn v_up_mps(&self) -> f64 {
        self.v_up_raw as f64 / 100.0
    }
    /// Product name (§5.7).
    pub fn product_name(&self) -> String {
        product_name(self.product_type)
    }
    /// Names of the set state flags (§5.6).
    pub fn state_flags(&self) -> Vec<String> {
        state_flag_names(self.state_info)
    }

    /// Sets the drone latitude from degrees; `Err` with the reason when not representable.
    pub fn set_drone_lat_deg(&mut self, deg: f64) -> Result<(), String> {
        self.latitude_raw = deg_to_raw_checked(deg)?;
        Ok(())
    }
    /// Sets the drone longitude from degrees.
    pub fn set_drone_lon_deg(&mut self, deg: f64) -> Result<(), String> {
        self.longitude_raw = deg_to_raw_checked(deg)?;
        Ok(())
    }
}

pub(crate) fn deg_to_raw_checked(deg: f64) -> Result<i32, String> {
    deg_to_raw(deg)
        .ok_or_else(|| format!("{deg} degrees is not a finite angle that fits an i32 in 1e-7 rad"))
}

/// Type 0x11 identity record (§5.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityInfo {
    /// Offset 2, 16 bytes ASCII, NUL-padded.
    pub serial_number: String,
    /// Offsets 18..22 (`cc aa 02 00` in both real frames; meaning unknown).
    pub unknown: [u8; 4],
    /// Offsets 22..142 (zeros in both real frames). Shorter records leave the tail zero.
    pub reserved: [u8; 120],
}

impl Default for IdentityInfo {
    fn default() -> Self {
        IdentityInfo {
            serial_number: "TESTSN0000000001".into(),
            unknown: [0xCC, 0xAA, 0x02, 0x00],
            reserved: [0; 120],
        }
    }
}

impl IdentityInfo {
    /// Reads a record that starts at `rec[0]`. Needs at least 22 bytes (up to and including the
    /// unknown bytes); `reserved` takes bytes 22..142 as far as `rec` reaches.
    pub fn from_record(rec: &[u8]) -> Option<Self> {
        if rec.len() < 22 {
            return None;
        }
        let mut unknown = [0u8; 4];
        unknown.copy_from_slice(&rec[18..22]);
        let mut reserved = [0u8; 120];
        let end = rec.len().min(142);
        reserved[..end - 22].copy_from_slice(&rec[22..end]);
        Some(IdentityInfo {
            serial_number: ascii_field(&rec[2..18]),
            unknown,
            reserved,
        })
    }

    /// The 144-byte record: `8d 11`, serial, unknown, reserved, CRC16 (little-endian) at 142..144.
    pub fn to_record(&self) -> [u8; IDENTITY_LEN] {
        let mut r = [0u8; IDENTITY_LEN];
        r[0] = (IDENTITY_LEN - 3) as u8;
        r[1] = MSG_TYPE_IDENTITY;
        put_ascii(&mut r[2..18], &self.serial_number);
        r[18..22].copy_from_slice(&self.unknown);
        r[22..142].copy_from_slice(&self.reserved);
        let crc = crc16_dji(&r[..142]);
        r[142..144].copy_from_slice(&crc.to_le_bytes());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names() {
        assert_eq!(product_name(58), "Mavic Air 2");
        assert_eq!(product_name(68), "Mavic 3");
        assert_eq!(product_name(13), "unknown(13)");
        assert_eq!(product_name(255), "unknown(255)");
    }

    #[test]
    fn state_flags_decode() {
        // Mavic Air 2, flying: bits 4-7 set (§5.6).
        let names = state_flag_names(0x1FF7);
        for n in [
            "motors_on",
            "in_air",
            "gnss_valid",
            "altitude_valid",
            "bit12",
        ] {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
        assert!(!names.iter().any(|x| x == "uuid_set"));
    }

    #[test]
    fn coordinate_conversion_exact() {
        // §9.7: 52.520008° encodes to 9166471; decoding uses the exact factor, not 174533.
        assert_eq!(deg_to_raw(52.520008), Some(9_166_471));
        let deg = raw_to_deg(9_166_471);
        assert_eq!(deg, 9_166_471.0 * 180.0 / (PI * 1e7));
        // Within half a quantisation step (0.5e-7 rad in degrees) of the encoded angle.
        assert!((deg - 52.520008).abs() < 0.5e-7 * 180.0 / PI);
        assert!((deg - 9_166_471.0 / 174_533.0).abs() > 1e-5);
        assert_eq!(deg_to_raw(f64::NAN), None);
        assert_eq!(deg_to_raw(1e6), None);
        assert_eq!(raw_to_deg(0), 0.0);
    }

    #[test]
    fn ascii_fields_lossy() {
        assert_eq!(ascii_field(b"AB\0CD"), "AB");
        assert_eq!(ascii_field(&[b'A', 0xFF, b'B']), "A\u{FFFD}B");
    }
}
