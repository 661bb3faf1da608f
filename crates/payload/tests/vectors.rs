//! Known-data vectors: spec §9.7 and the two blocks of `signals/expected.jsonl`
//! (copied here so the tests do not need the signal files).

use droneid_payload::*;
use proptest::prelude::*;

/// Spec §9.7, the 91-byte record.
const SPEC_97_RECORD: &str =
    "5810023412371f54455354534e3030303030303030303116b3230087de8b00640019009600b5ff\
140094110068e5cf8b0100002ede8b006fb2230081b223003fde8b003f00000000000000000000\
0000000000000000000000a8b4";

/// `real-0x11-15m36.cf64` (real Mavic-family 0x11 burst, Ka-zam/gr-droneid `droneid.fc64`):
/// block_hex from expected.jsonl. Bytes 144..173 are the drone's real, non-zero filler.
const REAL_0X11_BLOCK: &str =
    "8d11334e5a43484351303034335856310000ccaa0200000000000000000000000000000000000000\
00000000000000000000000000000000000000000000000000000000000000000000000000000000\
00000000000000000000000000000000000000000000000000000000000000000000000000000000\
0000000000000000000000000000000000000000000041c3586098e0a1cc18cbd7a4299b883e240b\
4308f4488925093845742faffe7ef9c0";

/// `synthetic-kz-8sym-15m36.cf32` (Ka-zam/gr-droneid encoder, CRC16 one byte late):
/// block_hex from expected.jsonl.
const KZ_0X10_BLOCK: &str =
    "58100239300000536b7973656e73653030303030303030d9d52f006e329e005900e8030c007b0002\
00b004a81a058084010000d5319e0090d32f0050d22f004e339e0044133031323334353637383961\
62636465666768690000ce3400000000000000000000000000000000000000000000000000000000\
00000000000000000000000000000000000000000000000000000000000000000000000000000000\
000000000000000000000000004dfdc5";

fn block(hex: &str) -> [u8; 176] {
    from_hex(hex).unwrap().try_into().expect("176 bytes")
}

#[test]
fn spec_97_record_decodes_and_reencodes() {
    let rec = from_hex(SPEC_97_RECORD).unwrap();
    assert_eq!(rec.len(), 91);
    let parsed = parse_bytes(&rec).unwrap();
    assert_eq!(
        (parsed.pkt_len, parsed.msg_type, parsed.version),
        (88, 0x10, 2)
    );
    assert!(parsed.crc16_ok);
    assert_eq!(parsed.crc16_stored, Some(0xB4A8));
    assert_eq!(parsed.crc16_computed, Some(0xB4A8));
    assert_eq!(parsed.message, rec);
    let MessageBody::Telemetry(f) = &parsed.body else {
        panic!("not telemetry: {:?}", parsed.body)
    };
    assert_eq!(f.sequence_number, 4660);
    assert_eq!(f.state_info, 0x1F37);
    assert_eq!(f.serial_number, "TESTSN0000000001");
    assert_eq!((f.longitude_raw, f.latitude_raw), (2_339_606, 9_166_471));
    // The spec lists the encoded angles; decoding is within half a step (0.5e-7 rad = 2.9e-6°).
    let half_step = 0.5e-7_f64.to_degrees();
    assert!((f.drone_lon_deg() - 13.404954).abs() < half_step);
    assert!((f.drone_lat_deg() - 52.520008).abs() < half_step);
    assert_eq!(
        f.drone_lat_deg(),
        9_166_471.0 * 180.0 / (std::f64::consts::PI * 1e7)
    );
    assert_eq!((f.altitude_raw, f.height_raw), (100, 25));
    assert_eq!((f.v_north_raw, f.v_east_raw, f.v_up_raw), (150, -75, 20));
    assert_eq!(f.yaw_raw, 4500);
    assert_eq!(f.yaw_deg(), 45.0);
    assert_eq!(f.gps_time_ms, 1_700_000_000_000);
    assert!((f.app_lat_deg() - 52.5195).abs() < half_step);
    assert!((f.app_lon_deg() - 13.4040).abs() < half_step);
    assert!((f.home_lon_deg() - 13.4041).abs() < half_step);
    assert!((f.home_lat_deg() - 52.5196).abs() < half_step);
    assert_eq!(f.product_type, 63);
    assert_eq!(f.product_name(), "Mini 2");
    assert_eq!((f.uuid_len, f.uuid.as_str()), (0, ""));
    // Re-encodes to the same 91 bytes, and is the §9.7 default.
    assert_eq!(f.to_record().to_vec(), rec);
    assert_eq!(FlightInfo::example(), *f);
    // Transport block: record + 82 zero bytes + CRC24A 0x725C08.
    let b = build_transport_block(&rec, None).unwrap();
    assert_eq!(&b[173..], &[0x72, 0x5C, 0x08]);
    assert!(b[91..173].iter().all(|&x| x == 0));
}

#[test]
fn real_0x11_block() {
    let b = block(REAL_0X11_BLOCK);
    let p = parse_block(&b);
    assert!(p.crc24_ok);
    assert!(p.crc16_ok);
    assert_eq!((p.pkt_len, p.msg_type), (141, 0x11));
    assert_eq!(p.message.len(), 144);
    assert_eq!(p.crc16_stored, Some(0xC341));
    let MessageBody::Identity(id) = &p.body else {
        panic!("not identity")
    };
    assert_eq!(id.serial_number, "3NZCHCQ0043XV1");
    assert_eq!(id.unknown, [0xCC, 0xAA, 0x02, 0x00]);
    assert_eq!(p.serial_number(), Some("3NZCHCQ0043XV1"));
    let j = p.json_fields();
    assert_eq!(j["serial_number"], "3NZCHCQ0043XV1");
    assert_eq!(j["identity_unknown_hex"], "ccaa0200");
    assert_eq!(j["msg_type"], 17);
    assert_eq!(j["crc16_ok"], true);
    assert_eq!(
        j["message_hex"].as_str().unwrap(),
        &REAL_0X11_BLOCK.replace('\n', "")[..288]
    );
}

#[test]
fn real_filler_round_trips() {
    let b = block(REAL_0X11_BLOCK);
    let p = parse_block(&b);
    assert_eq!(p.filler.len(), 173 - 144);
    assert!(
        p.filler.iter().any(|&x| x != 0),
        "the real filler is not zero"
    );
    // parse -> build from the message bytes.
    assert_eq!(
        build_transport_block(&p.message, Some(&p.filler)).unwrap(),
        b
    );
    // parse -> build from the decoded fields.
    let MessageBody::Identity(id) = &p.body else {
        panic!()
    };
    assert_eq!(id.to_record().to_vec(), p.message);
    assert_eq!(
        build_transport_block(&id.to_record(), Some(&p.filler)).unwrap(),
        b
    );
    // The whole-pre-image filler form gives the same block.
    assert_eq!(
        build_transport_block(&p.message, Some(&b[..173])).unwrap(),
        b
    );
    // Zero filler differs (only in the filler and CRC24).
    let z = build_transport_block(&p.message, None).unwrap();
    assert_ne!(z, b);
    assert_eq!(z[..144], b[..144]);
    // Through a record spec.
    let spec = format!(
        r#"{{"message_hex": "{}", "filler_hex": "{}"}}"#,
        to_hex(&p.message),
        to_hex(&p.filler)
    );
    assert_eq!(parse_record_specs(&spec).unwrap()[0].to_block().unwrap(), b);
    let spec = format!(
        r#"{{"type": "identity", "serial_number": "3NZCHCQ0043XV1", "filler_hex": "{}"}}"#,
        to_hex(&p.filler)
    );
    assert_eq!(parse_record_specs(&spec).unwrap()[0].to_block().unwrap(), b);
}

#[test]
fn kz_0x10_block_crc16_fails_fields_reported() {
    let b = block(KZ_0X10_BLOCK);
    let p = parse_block(&b);
    assert!(p.crc24_ok);
    assert!(!p.crc16_ok, "KZ's encoder put the CRC16 one byte late");
    assert_eq!((p.pkt_len, p.msg_type, p.version), (88, 0x10, 2));
    // The CRC16 is right, one byte late (offset 90).
    assert_eq!(
        u16::from_le_bytes([b[90], b[91]]),
        droneid_fec::crc::crc16_dji(&b[..89])
    );
    let MessageBody::Telemetry(f) = &p.body else {
        panic!("not telemetry")
    };
    assert_eq!(f.serial_number, "Skysense00000000");
    assert_eq!(f.sequence_number, 12345);
    assert_eq!(f.product_type, 68);
    assert_eq!(f.longitude_raw, 3134937);
    assert_eq!(f.latitude_raw, 10367598);
    assert_eq!(f.app_lat_raw, 10367445);
    assert_eq!(f.app_lon_raw, 3134352);
    assert_eq!(f.home_lat_raw, 10367822);
    assert_eq!(f.home_lon_raw, 3134032);
    assert_eq!(f.altitude_raw, 89);
    assert_eq!(f.height_raw, 1000);
    assert_eq!(f.v_north_raw, 12);
    assert_eq!(f.v_east_raw, 123);
    assert_eq!(f.v_up_raw, 2);
    assert_eq!(f.yaw_raw, 1200);
    assert_eq!(f.gps_time_ms, 1668595129000);
    assert_eq!(f.uuid, "0123456789abcdefghi");
    assert_eq!(f.uuid_len, 19);

    let j = p.json_fields();
    for key in [
        "serial_number",
        "sequence_number",
        "state_info",
        "product_type",
        "product_name",
        "drone_lat_deg",
        "drone_lon_deg",
        "app_lat_deg",
        "app_lon_deg",
        "home_lat_deg",
        "home_lon_deg",
        "altitude_raw",
        "height_raw",
        "v_north_raw",
        "v_east_raw",
        "v_up_raw",
        "yaw_raw",
        "gps_time_ms",
        "uuid",
        "longitude_raw",
        "latitude_raw",
        "app_lat_raw",
        "app_lon_raw",
        "home_lat_raw",
        "home_lon_raw",
        "uuid_len",
        "msg_type",
        "crc16_ok",
        "message_hex",
    ] {
        assert!(j.contains_key(key), "missing key {key}");
    }
    assert_eq!(j["crc16_ok"], false);
    assert_eq!(j["product_name"], "Mavic 3");
    assert_eq!(j["sequence_number"], 12345);
    assert_eq!(j["gps_time_ms"], 1668595129000u64);
    assert_eq!(j["drone_lat_deg"].as_f64().unwrap(), raw_to_deg(10367598));
    assert_eq!(j["yaw_deg"].as_f64().unwrap(), 12.0);
    // A filler-preserving round trip also holds for this (CRC16-bad) block.
    assert_eq!(
        build_transport_block(&p.message, Some(&p.filler)).unwrap(),
        b
    );
}

#[test]
fn block_hex_spec_is_verbatim_and_decode_lines_feed_back() {
    let b = block(KZ_0X10_BLOCK);
    let line = format!(
        r#"[{{"start_sample": 992, "block_hex": "{}", "crc16_ok": false}}, {{"type": "telemetry"}}]"#,
        to_hex(&b)
    );
    let specs = parse_record_specs(&line).unwrap();
    assert_eq!(specs.len(), 2);
    assert_eq!(specs[0].to_block().unwrap(), b);
    let d = specs[1].to_block().unwrap();
    assert_eq!(&d[..91], &from_hex(SPEC_97_RECORD).unwrap()[..]);
    // The serde path gives the same.
    let s: RecordSpec = serde_json::from_str(r#"{"type": 16}"#).unwrap();
    assert_eq!(s.to_block().unwrap(), d);
}

#[test]
fn field_spec_builds_valid_telemetry() {
    let spec = r#"{"type": "telemetry", "serial_number": "1581F4XXXXXXXXX", "sequence_number": 7,
        "state_info": "0x1FF7", "drone_lat_deg": 52.52, "drone_lon_deg": -13.4,
        "app_lat_raw": 9166382, "yaw_raw": -13295, "uuid": "1234567890123456789", "product_type": 58}"#;
    let b = parse_record_specs(spec).unwrap()[0].to_block().unwrap();
    let p = parse_block(&b);
    assert!(p.crc24_ok && p.crc16_ok);
    let MessageBody::Telemetry(f) = p.body else {
        panic!()
    };
    assert_eq!(f.serial_number, "1581F4XXXXXXXXX");
    assert_eq!(f.state_info, 0x1FF7);
    assert_eq!(f.sequence_number, 7);
    assert_eq!(f.latitude_raw, deg_to_raw(52.52).unwrap());
    assert!((f.drone_lon_deg() + 13.4).abs() < 3e-6);
    assert_eq!(f.app_lat_raw, 9166382);
    assert_eq!(f.yaw_raw, -13295);
    assert_eq!((f.uuid_len, f.uuid.as_str()), (19, "1234567890123456789"));
    assert_eq!(f.product_name(), "Mavic Air 2");
}

#[test]
fn spec_errors_name_the_field() {
    let err = |s: &str| parse_record_specs(s).unwrap_err().to_string();
    assert!(err("{not json").contains("not valid JSON"));
    assert!(err("[]").contains("empty"));
    assert!(err("42").contains("JSON object"));
    assert!(err(r#"{"serial_number": "x"}"#).contains("`type`"));
    assert!(err(r#"{"type": "bogus"}"#).contains("`type`"));
    assert!(err(r#"{"type": "telemetry", "serial_numbr": "x"}"#).contains("`serial_numbr`"));
    assert!(
        err(r#"{"type": "telemetry", "serial_number": "01234567890123456"}"#)
            .contains("`serial_number`")
    );
    assert!(err(r#"{"type": "telemetry", "serial_number": "é"}"#).contains("ASCII"));
    assert!(err(r#"{"type": "telemetry", "sequence_number": 70000}"#).contains("`sequence_number`"));
    assert!(err(r#"{"type": "telemetry", "yaw_raw": "abc"}"#).contains("`yaw_raw`"));
    assert!(err(r#"{"type": "telemetry", "drone_lat_deg": "north"}"#).contains("`drone_lat_deg`"));
    assert!(err(r#"{"type": "telemetry", "drone_lat_deg": 1e9}"#).contains("`drone_lat_deg`"));
    assert!(
        err(r#"{"type": "telemetry", "drone_lat_deg": 1, "latitude_raw": 1}"#).contains("not both")
    );
    assert!(err(r#"{"type": "telemetry", "filler_hex": "00"}"#).contains("`filler_hex`"));
    assert!(err(r#"{"type": "identity", "identity_unknown_hex": "00"}"#)
        .contains("`identity_unknown_hex`"));
    assert!(err(r#"{"block_hex": "00"}"#).contains("`block_hex`"));
    assert!(err(r#"{"message_hex": "zz"}"#).contains("`message_hex`"));
    let long = "00".repeat(174);
    assert!(err(&format!(r#"{{"message_hex": "{long}"}}"#)).contains("`message_hex`"));
    assert!(
        err(r#"[{"type": "identity"}, {"type": "telemetry", "uuid": 5}]"#).contains("`[1].uuid`")
    );
    let e: Result<RecordSpec, _> = serde_json::from_str(r#"{"type": "telemetry", "x": 1}"#);
    assert!(e.unwrap_err().to_string().contains("`x`"));
}

#[test]
fn unknown_and_oversized_records() {
    // L + 3 > 173: CRC16 cannot be checked, body unknown.
    let mut b = [0u8; 176];
    b[0] = 171;
    b[1] = 0x10;
    b[2] = 2;
    let p = parse_block(&b);
    assert!(!p.crc16_ok);
    assert_eq!(p.body, MessageBody::Unknown);
    assert_eq!((p.crc16_stored, p.crc16_computed), (None, None));
    assert_eq!(p.message.len(), 173);
    assert!(p.filler.is_empty());
    // O4 "CRYP" record: L = 170 exactly fills the block; CRC16 checkable, body unknown.
    b[0] = 170;
    b[1] = 0x13;
    let crc = droneid_fec::crc::crc16_dji(&b[..171]);
    b[171..173].copy_from_slice(&crc.to_le_bytes());
    let p = parse_block(&b);
    assert!(p.crc16_ok);
    assert_eq!(p.body, MessageBody::Unknown);
    assert!(p.json_fields().get("serial_number").is_none());
    // parse_bytes edge cases.
    assert!(parse_bytes(&[]).is_none());
    assert!(parse_bytes(&[5, 1, 2]).is_none());
    assert!(parse_bytes(&[200; 300]).is_none());
    assert!(parse_bytes(&[0, 0, 0]).is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_block_never_panics(bytes in proptest::collection::vec(any::<u8>(), 176)) {
        let b: [u8; 176] = bytes.try_into().unwrap();
        let p = parse_block(&b);
        let _ = p.json_fields();
        prop_assert_eq!(p.message.len() + p.filler.len(), 173);
        prop_assert_eq!(&build_transport_block(&p.message, Some(&p.filler)).unwrap()[..173], &b[..173]);
    }

    #[test]
    fn parse_block_never_panics_on_headers(l in any::<u8>(), t in 0x0fu8..0x13, v in 0u8..4,
                                           rest in proptest::collection::vec(any::<u8>(), 173)) {
        let mut b = [0u8; 176];
        b[3..].copy_from_slice(&rest);
        b[0] = l; b[1] = t; b[2] = v;
        let _ = parse_block(&b).json_fields();
    }

    #[test]
    fn parse_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Some(p) = parse_bytes(&bytes) {
            let _ = p.json_fields();
        }
    }

    #[test]
    fn telemetry_round_trips(seq in any::<u16>(), lat in -90.0f64..90.0, lon in -180.0f64..180.0,
                             yaw in any::<i16>(), t in any::<u64>(), serial in "[A-Z0-9]{0,16}") {
        let mut f = FlightInfo::example();
        f.sequence_number = seq;
        f.set_drone_lat_deg(lat).unwrap();
        f.set_drone_lon_deg(lon).unwrap();
        f.yaw_raw = yaw;
        f.gps_time_ms = t;
        f.serial_number = serial;
        let p = parse_block(&build_transport_block(&f.to_record(), None).unwrap());
        prop_assert!(p.crc16_ok && p.crc24_ok);
        prop_assert_eq!(p.body, MessageBody::Telemetry(f.clone()));
        prop_assert!((f.drone_lat_deg() - lat).abs() <= 0.5e-7f64.to_degrees() + 1e-12);
    }

    #[test]
    fn spec_parser_never_panics(s in ".{0,200}") {
        let _ = parse_record_specs(&s);
    }
}
