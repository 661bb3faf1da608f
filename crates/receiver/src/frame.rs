//! A decoded burst and its JSON line (`../docs/interface.md` keys).

use droneid_core::TRANSPORT_BLOCK_BYTES;
use droneid_payload::{parse_block, to_hex, EncryptedInfo, ParsedMessage};
use serde_json::{Map, Value};

/// One demodulated and decoded burst.
#[derive(Debug, Clone)]
pub struct Frame {
    /// First sample of the burst's first cyclic prefix, at the input's own rate.
    pub start_sample: i64,
    /// Input sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Burst centre relative to the capture centre (channel offset + CFO), Hz.
    pub freq_offset_hz: f64,
    /// Capture centre, Hz, when known.
    pub capture_center_freq_hz: Option<f64>,
    /// Estimated in-band SNR, dB.
    pub snr_db: f32,
    /// 9 or 8.
    pub symbols: u8,
    /// Transport-block CRC24A passed.
    pub crc24_ok: bool,
    /// Turbo iterations used.
    pub turbo_iterations: u32,
    /// The 176 decoded bytes (hard decisions even when the CRC failed).
    pub block: [u8; TRANSPORT_BLOCK_BYTES],
    /// Residual CFO measured by the demodulator relative to the refined channel centre, Hz.
    pub cfo_hz: f64,
    /// The parsed message (CRC16, type, fields).
    pub message: ParsedMessage,
    /// Decoded only with I and Q swapped (the recording's spectrum is inverted); the frequency
    /// fields are then those of the un-inverted spectrum.
    pub iq_swapped: bool,
}

impl Frame {
    /// Builds a frame and parses its block.
    pub fn new(
        start_sample: i64,
        sample_rate_hz: f64,
        freq_offset_hz: f64,
        capture_center_freq_hz: Option<f64>,
        snr_db: f32,
        symbols: u8,
        crc24_ok: bool,
        turbo_iterations: u32,
        block: [u8; TRANSPORT_BLOCK_BYTES],
        cfo_hz: f64,
    ) -> Self {
        let message = parse_block(&block);
        Self {
            start_sample,
            sample_rate_hz,
            freq_offset_hz,
            capture_center_freq_hz,
            snr_db,
            symbols,
            crc24_ok,
            turbo_iterations,
            block,
            cfo_hz,
            message,
            iq_swapped: false,
        }
    }

    /// Message CRC16 passed (only meaningful when `crc24_ok`).
    pub fn crc16_ok(&self) -> bool {
        self.crc24_ok && self.message.crc16_ok
    }

    /// `start_sample / sample_rate`, seconds.
    pub fn time_s(&self) -> f64 {
        self.start_sample as f64 / self.sample_rate_hz
    }

    /// The tag and session id of an encrypted record (spec §5.8: CRC24- and CRC16-valid
    /// `AA 13 "CRYP"`, `87 10`/`80 10 "INFP"`), else `None`. Such a frame has no serial number
    /// and no position; `session_hex()` (8 lowercase hex digits of bytes 6–9) is the only
    /// stable handle on the drone. Consumers (tracks, HDF5, MQTT, CoT) key encrypted drones by
    /// it.
    pub fn encrypted(&self) -> Option<EncryptedInfo> {
        if self.crc24_ok {
            self.message.encrypted()
        } else {
            None
        }
    }

    /// Serial number for grouping frames per drone (CRC24-valid plaintext frames only; never
    /// for an encrypted frame).
    pub fn serial_number(&self) -> Option<&str> {
        if self.crc24_ok {
            self.message.serial_number()
        } else {
            None
        }
    }

    /// The JSON object of one output line, with the keys of the interface contract.
    ///
    /// Every line has `encrypted`. An encrypted frame ([`Frame::encrypted`]) adds
    /// `packet_marker` and `session_id` and has no serial number and no coordinate key; a
    /// plaintext frame has `"encrypted": false` and the body keys of its type.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("start_sample".into(), self.start_sample.into());
        m.insert("time_s".into(), self.time_s().into());
        m.insert(
            "freq_offset_hz".into(),
            round_to(self.freq_offset_hz, 1.0).into(),
        );
        m.insert(
            "center_freq_hz".into(),
            match self.capture_center_freq_hz {
                Some(c) => round_to(c + self.freq_offset_hz, 1.0).into(),
                None => Value::Null,
            },
        );
        m.insert("snr_db".into(), round_to(self.snr_db as f64, 0.01).into());
        m.insert("symbols".into(), self.symbols.into());
        m.insert("crc24_ok".into(), self.crc24_ok.into());
        m.insert("crc16_ok".into(), self.crc16_ok().into());
        m.insert("msg_type".into(), self.message.msg_type.into());
        m.insert("message_hex".into(), to_hex(&self.message.message).into());
        m.insert("block_hex".into(), to_hex(&self.block).into());
        m.insert("cfo_hz".into(), round_to(self.cfo_hz, 1.0).into());
        if self.iq_swapped {
            m.insert("iq_swapped".into(), true.into());
        }
        m.insert("turbo_iterations".into(), self.turbo_iterations.into());
        m.insert("encrypted".into(), self.encrypted().is_some().into());
        if self.crc24_ok {
            for (k, v) in self.message.json_fields() {
                m.entry(k).or_insert(v);
            }
            // Short aliases of raw fields, as `signals/expected.jsonl` names them.
            for (alias, key) in RAW_ALIASES {
                if let Some(v) = m.get(key).cloned() {
                    m.entry(alias.to_string()).or_insert(v);
                }
            }
        }
        m
    }
}

/// `(alias, interface key)` pairs written for type 0x10 frames.
const RAW_ALIASES: [(&str, &str); 5] = [
    ("v_north", "v_north_raw"),
    ("v_east", "v_east_raw"),
    ("v_up", "v_up_raw"),
    ("yaw", "yaw_raw"),
    ("gps_time", "gps_time_ms"),
];

fn round_to(v: f64, step: f64) -> f64 {
    if v.is_finite() {
        // Divide by the inverse so that e.g. 17.24 prints as 17.24, not 17.240000000000002.
        let inv = (1.0 / step).round();
        (v * inv).round() / inv
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use droneid_payload::{build_transport_block, EncryptedSpec, FlightInfo, PacketMarker};

    fn frame(block: [u8; TRANSPORT_BLOCK_BYTES], crc24_ok: bool) -> Frame {
        Frame::new(
            1000,
            15.36e6,
            0.0,
            Some(2.4445e9),
            12.0,
            9,
            crc24_ok,
            2,
            block,
            0.0,
        )
    }

    #[test]
    fn encrypted_lines_have_marker_and_session_and_no_coordinates() {
        for marker in [PacketMarker::Cryp, PacketMarker::Infp] {
            let rec = EncryptedSpec::new(marker, [0x1a, 0x2b, 0x3c, 0x4d])
                .to_record()
                .unwrap();
            let f = frame(build_transport_block(&rec, None).unwrap(), true);
            let e = f.encrypted().unwrap();
            assert_eq!((e.marker, e.session_hex().as_str()), (marker, "1a2b3c4d"));
            assert_eq!(f.serial_number(), None);
            let j = f.to_json();
            assert_eq!(j["encrypted"], true);
            assert_eq!(j["packet_marker"], marker.as_str());
            assert_eq!(j["session_id"], "1a2b3c4d");
            assert_eq!(j["crc16_ok"], true);
            for k in j.keys() {
                assert!(
                    !(k.contains("lat") || k.contains("lon") || k == "serial_number"),
                    "{k}"
                );
            }
            // The same block with a failed CRC24 is not classified.
            let bad = frame(f.block, false);
            assert_eq!(bad.encrypted(), None);
            assert_eq!(bad.to_json()["encrypted"], false);
        }
        let plain = frame(
            build_transport_block(&FlightInfo::example().to_record(), None).unwrap(),
            true,
        );
        let j = plain.to_json();
        assert_eq!(j["encrypted"], false);
        assert!(j.contains_key("drone_lat_deg") && !j.contains_key("session_id"));
    }
}
