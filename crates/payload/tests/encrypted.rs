//! Encrypted O3/O4 records (spec §5.8) from hand-built vectors: classified by (L, type, tag)
//! after the CRC16, never read as telemetry, and built by record specs for the synthesiser.

use droneid_fec::crc::crc16_dji;
use droneid_payload::*;
use proptest::prelude::*;

/// Keys that must never appear in the JSON of an encrypted record.
const COORDINATE_KEYS: &[&str] = &[
    "drone_lat_deg",
    "drone_lon_deg",
    "app_lat_deg",
    "app_lon_deg",
    "home_lat_deg",
    "home_lon_deg",
    "latitude_raw",
    "longitude_raw",
    "app_lat_raw",
    "app_lon_raw",
    "home_lat_raw",
    "home_lon_raw",
    "serial_number",
];

/// Writes the CRC16 (§5.2) of `rec[..=L]` at L+1..L+3.
fn seal(rec: &mut [u8]) {
    let l = rec[0] as usize;
    let crc = crc16_dji(&rec[..=l]);
    rec[l + 1..l + 3].copy_from_slice(&crc.to_le_bytes());
}

/// A hand-built `87 10 "INFP"` record whose bytes 3..89 are the §9.7 plaintext record's: a
/// parser that ignored the tag would read serial `NFP…`, a Berlin position and a Mini 2.
fn infp_that_looks_like_telemetry() -> Vec<u8> {
    let plain = FlightInfo::example().to_record();
    let mut rec = vec![0u8; 138];
    rec[..89].copy_from_slice(&plain[..89]);
    rec[0] = 0x87;
    rec[1] = 0x10;
    rec[2..6].copy_from_slice(b"INFP");
    rec[6..10].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    seal(&mut rec);
    rec
}

#[test]
fn infp_with_plausible_telemetry_bytes_is_encrypted() {
    let rec = infp_that_looks_like_telemetry();
    // Misread as telemetry it would give a plausible position: this is the trap.
    let misread = FlightInfo::from_record(&rec).unwrap();
    assert!((misread.drone_lat_deg() - 52.52).abs() < 1e-3);
    assert!((misread.drone_lon_deg() - 13.405).abs() < 1e-3);
    assert_eq!(misread.product_name(), "Mini 2");

    let block = build_transport_block(&rec, None).unwrap();
    let p = parse_block(&block);
    assert!(p.crc24_ok && p.crc16_ok);
    assert_eq!((p.pkt_len, p.msg_type), (0x87, 0x10));
    assert_eq!(p.message, rec);
    let info = EncryptedInfo {
        marker: PacketMarker::Infp,
        session_id: [0xde, 0xad, 0xbe, 0xef],
    };
    assert_eq!(p.body, MessageBody::Encrypted(info));
    assert_eq!(p.encrypted(), Some(info));
    assert_eq!(p.serial_number(), None);
    let j = p.json_fields();
    assert_eq!(j["encrypted"], true);
    assert_eq!(j["packet_marker"], "INFP");
    assert_eq!(j["session_id"], "deadbeef");
    for k in COORDINATE_KEYS {
        assert!(!j.contains_key(*k), "{k} in {j:?}");
    }

    // Even with version byte 2 where the tag's 'I' is, a CRC16-valid INFP tag cannot occur
    // (byte 2 is the tag's first letter), so a version-2 record stays telemetry:
    let mut v2 = rec.clone();
    v2[2] = 2;
    seal(&mut v2);
    let p2 = parse_bytes(&v2).unwrap();
    assert!(matches!(
        p2.body,
        MessageBody::Unknown | MessageBody::Telemetry(_)
    ));
    assert_eq!(p2.encrypted(), None);
}

#[test]
fn cryp_and_o3_infp_hand_built() {
    // AA 13 "CRYP": L = 170, the record fills all 173 bytes.
    let mut cryp = vec![0u8; 173];
    cryp[0] = 0xAA;
    cryp[1] = 0x13;
    cryp[2..6].copy_from_slice(b"CRYP");
    cryp[6..10].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d]);
    for (i, b) in cryp[10..171].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    seal(&mut cryp);
    let p = parse_bytes(&cryp).unwrap();
    assert!(p.filler.is_empty());
    assert_eq!(
        p.encrypted(),
        Some(EncryptedInfo {
            marker: PacketMarker::Cryp,
            session_id: [0x1a, 0x2b, 0x3c, 0x4d]
        })
    );
    assert_eq!(p.json_fields()["session_id"], "1a2b3c4d");
    assert_eq!(p.json_fields()["packet_marker"], "CRYP");

    // O3-style 80 10 "INFP", 131 bytes.
    let mut o3 = vec![0u8; 131];
    o3[..6].copy_from_slice(b"\x80\x10INFP");
    o3[6..10].copy_from_slice(&[0, 0, 0, 0x0f]);
    seal(&mut o3);
    let p = parse_bytes(&o3).unwrap();
    assert_eq!(p.encrypted().unwrap().session_hex(), "0000000f");
    assert_eq!(p.encrypted().unwrap().marker, PacketMarker::Infp);
}

#[test]
fn tag_with_bad_crc16_or_wrong_type_is_not_encrypted() {
    let mut rec = infp_that_looks_like_telemetry();
    rec[50] ^= 0x01; // CRC16 now fails
    let p = parse_bytes(&rec).unwrap();
    assert!(!p.crc16_ok);
    // Not classified before the CRC16 passes, and never telemetry either (byte 2 is 'I').
    assert_eq!(p.body, MessageBody::Unknown);
    let j = p.json_fields();
    assert_eq!(j["encrypted"], false);
    for k in COORDINATE_KEYS {
        assert!(!j.contains_key(*k), "{k}");
    }
    // CRYP tag under type 0x10, INFP tag under type 0x13: not the §5.8 pairs.
    let mut a = EncryptedSpec::new(PacketMarker::Cryp, [1, 2, 3, 4])
        .to_record()
        .unwrap();
    a[1] = 0x10;
    seal(&mut a);
    assert_eq!(parse_bytes(&a).unwrap().body, MessageBody::Unknown);
    let mut b = EncryptedSpec::new(PacketMarker::Infp, [1, 2, 3, 4])
        .to_record()
        .unwrap();
    b[1] = 0x13;
    seal(&mut b);
    assert_eq!(parse_bytes(&b).unwrap().body, MessageBody::Unknown);
    // Plaintext records say "encrypted": false.
    let plain = parse_bytes(&FlightInfo::example().to_record()).unwrap();
    assert_eq!(plain.json_fields()["encrypted"], false);
    assert!(plain.json_fields().contains_key("drone_lat_deg"));
}

#[test]
fn encrypted_record_specs() {
    let specs = parse_record_specs(
        r#"[{"type": "encrypted", "packet_marker": "CRYP", "session_id": "1A2B3C4D"},
            {"type": "infp", "session_id": "1a2b3c4d", "seed": 9},
            {"type": "encrypted", "packet_marker": "infp", "session_id": "00000001",
             "length": 131, "ciphertext": "zero"}]"#,
    )
    .unwrap();
    let parsed: Vec<ParsedMessage> = specs
        .iter()
        .map(|s| parse_block(&s.to_block().unwrap()))
        .collect();
    let got: Vec<(usize, &str, String)> = parsed
        .iter()
        .map(|p| {
            assert!(p.crc24_ok && p.crc16_ok);
            let e = p.encrypted().unwrap();
            (p.message.len(), e.marker.as_str(), e.session_hex())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (173, "CRYP", "1a2b3c4d".to_string()),
            (138, "INFP", "1a2b3c4d".to_string()),
            (131, "INFP", "00000001".to_string()),
        ]
    );
    assert_eq!(&parsed[2].message[..2], &[0x80, 0x10]);
    assert!(parsed[2].message[10..18].iter().all(|&b| b == 0));
    // Random ciphertext is not all zero, and the seed changes it.
    assert!(parsed[1].message[20..].iter().any(|&b| b != 0));
    let seed0 = parse_record_specs(r#"{"type": "infp", "session_id": "1a2b3c4d"}"#).unwrap();
    assert_ne!(
        seed0[0].to_block().unwrap(),
        specs[1].to_block().unwrap(),
        "seed 9 vs seed 0"
    );

    let err = |s: &str| parse_record_specs(s).unwrap_err().to_string();
    assert!(err(r#"{"type": "encrypted", "session_id": "1a2b3c4d"}"#).contains("packet_marker"));
    assert!(err(r#"{"type": "cryp"}"#).contains("session_id"));
    assert!(err(r#"{"type": "cryp", "session_id": "1a2b3c"}"#).contains("session_id"));
    assert!(err(r#"{"type": "cryp", "session_id": "1a2b3c4d", "length": 200}"#).contains("length"));
    assert!(
        err(r#"{"type": "cryp", "packet_marker": "INFP", "session_id": "1a2b3c4d"}"#)
            .contains("contradicts")
    );
    assert!(
        err(r#"{"type": "cryp", "session_id": "1a2b3c4d", "ciphertext": "ones"}"#)
            .contains("ciphertext")
    );
    assert!(err(r#"{"type": "cryp", "session_id": "1a2b3c4d", "lat": 1}"#).contains("lat"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn built_encrypted_records_classify(sid in any::<[u8; 4]>(), len in 22usize..=173,
                                        cryp in any::<bool>(), seed in any::<u64>()) {
        let marker = if cryp { PacketMarker::Cryp } else { PacketMarker::Infp };
        let spec = EncryptedSpec {
            marker,
            session_id: sid,
            record_len: len,
            ciphertext: Ciphertext::Random { seed },
        };
        let rec = spec.to_record().unwrap();
        prop_assert_eq!(rec.len(), len);
        let p = parse_block(&build_transport_block(&rec, None).unwrap());
        prop_assert!(p.crc24_ok && p.crc16_ok);
        prop_assert_eq!(p.encrypted(), Some(EncryptedInfo { marker, session_id: sid }));
        let j = p.json_fields();
        for k in COORDINATE_KEYS {
            prop_assert!(!j.contains_key(*k));
        }
    }

    #[test]
    fn tagged_blocks_never_panic(l in any::<u8>(), cryp in any::<bool>(),
                                 rest in proptest::collection::vec(any::<u8>(), 170)) {
        let mut b = [0u8; 176];
        b[0] = l;
        b[1] = if cryp { 0x13 } else { 0x10 };
        b[2..6].copy_from_slice(if cryp { b"CRYP" } else { b"INFP" });
        b[6..].copy_from_slice(&rest);
        let p = parse_block(&b);
        let j = p.json_fields();
        if p.encrypted().is_some() {
            prop_assert!(p.crc16_ok);
            for k in COORDINATE_KEYS {
                prop_assert!(!j.contains_key(*k));
            }
        }
    }
}
