//! Unit tests: hand-built frames through the builder, GeoJSON and the table.

use crate::*;
use droneid_payload::{build_transport_block, deg_to_raw, IdentityInfo, TRANSPORT_BLOCK_BYTES};
use serde_json::{json, Value};

const FS: f64 = 1e6;

fn frame_from_block(sample: i64, block: [u8; TRANSPORT_BLOCK_BYTES], crc24_ok: bool) -> Frame {
    Frame::new(sample, FS, 0.0, None, 20.0, 9, crc24_ok, 3, block, 0.0)
}

fn flight(serial: &str, product: u8, seq: u16, lat: f64, lon: f64) -> FlightInfo {
    let mut f = FlightInfo::example();
    f.serial_number = serial.into();
    f.product_type = product;
    f.sequence_number = seq;
    f.latitude_raw = deg_to_raw(lat).unwrap();
    f.longitude_raw = deg_to_raw(lon).unwrap();
    f.v_north_raw = 300;
    f.v_east_raw = 400;
    f
}

fn tel(sample: i64, f: &FlightInfo) -> Frame {
    let block = build_transport_block(&f.to_record(), None).unwrap();
    let fr = frame_from_block(sample, block, true);
    assert!(fr.crc16_ok());
    fr
}

fn ident(sample: i64, serial: &str) -> Frame {
    let rec = IdentityInfo {
        serial_number: serial.into(),
        ..Default::default()
    }
    .to_record();
    let fr = frame_from_block(sample, build_transport_block(&rec, None).unwrap(), true);
    assert!(fr.crc16_ok());
    fr
}

/// A telemetry frame whose record is corrupted (altitude byte) after the CRC16 was computed;
/// the CRC24 is rebuilt over the corrupted record, so CRC24 passes and CRC16 fails.
fn tel_crc16_bad(sample: i64, f: &FlightInfo) -> Frame {
    let mut rec = f.to_record();
    rec[31] ^= 0x5A;
    let fr = frame_from_block(sample, build_transport_block(&rec, None).unwrap(), true);
    assert!(fr.crc24_ok && fr.message.crc24_ok);
    assert!(!fr.crc16_ok());
    assert_eq!(fr.serial_number(), Some(f.serial_number.as_str()));
    fr
}

fn with_home_pilot(mut f: FlightInfo, home: (f64, f64), pilot: (f64, f64)) -> FlightInfo {
    f.home_lat_raw = deg_to_raw(home.0).unwrap();
    f.home_lon_raw = deg_to_raw(home.1).unwrap();
    f.app_lat_raw = deg_to_raw(pilot.0).unwrap();
    f.app_lon_raw = deg_to_raw(pilot.1).unwrap();
    f
}

/// Two drones interleaved, a 0/0 frame, CRC16 failures, a sequence gap across the u16 wrap, a
/// CRC24 failure, an unknown record and a source drop (at sample 350 000, 1000 samples).
fn scenario_frames() -> Vec<Frame> {
    let mut b = Vec::new();
    let a = |seq, lat, lon| {
        with_home_pilot(
            flight("AAA1", 63, seq, lat, lon),
            (52.0, 13.0),
            (51.9999, 12.9999),
        )
    };
    let bb = |seq, lat, lon| {
        with_home_pilot(flight("BBB2", 58, seq, lat, lon), (48.0, 11.0), (0.0, 0.0))
    };
    b.push(ident(0, "AAA1"));
    b.push(tel(100_000, &a(65533, 52.0, 13.0)));
    // B's first frame carries a pilot position; later ones send 0/0, which must not erase it.
    b.push(tel(
        150_000,
        &with_home_pilot(
            flight("BBB2", 58, 10, 48.0, 11.0),
            (48.0, 11.0),
            (47.9, 10.9),
        ),
    ));
    b.push(tel(200_000, &a(65534, 52.001, 13.001)));
    b.push(tel(250_000, &bb(11, 0.0, 0.0))); // no fix
    b.push(tel_crc16_bad(300_000, &a(65535, 52.002, 13.002)));
    b.push(ident(330_000, "BBB2"));
    b.push(tel(400_000, &a(1, 52.003, 13.003))); // 65535 failed, 0 lost
    b.push(tel(450_000, &bb(12, 48.001, 11.001)));
    let good = build_transport_block(&a(2, 52.0, 13.0).to_record(), None).unwrap();
    b.push(frame_from_block(500_000, good, false)); // CRC24 failure
    let unknown = build_transport_block(&[5, 0x99, 1, 2, 3, 4, 0, 0], None).unwrap();
    b.push(frame_from_block(550_000, unknown, true));
    b.push(tel_crc16_bad(560_000, &flight("ZZZ9", 1, 7, 1.0, 1.0)));
    b.push(tel(600_000, &a(2, 52.004, 13.004)));
    b
}

fn scenario() -> TrackBuilder {
    let mut b = TrackBuilder::new();
    for f in scenario_frames() {
        b.push(&f);
    }
    b.note_dropped_samples(350_000, 1000);
    b
}

/// Within 1e-5° (the on-air resolution, 1e-7 rad, is 5.7e-6°).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-5
}

#[test]
fn grouping_counts_and_gaps() {
    let t = scenario().finish();
    assert_eq!(t.frames_total, 13);
    assert_eq!(t.crc24_failures, 1);
    assert_eq!(t.unknown_frames, 1);
    assert_eq!(t.unattributed_crc16_failures, 1);
    assert_eq!(t.dropped_samples, 1000);
    assert_eq!(t.drones.len(), 2, "ZZZ9 (CRC16-failed only) is not a drone");

    let a = &t.drones[0];
    assert_eq!(a.serial_number, "AAA1");
    assert_eq!(a.product_type, Some(63));
    assert_eq!(a.product_name.as_deref(), Some("Mini 2"));
    assert_eq!(
        (a.identity_frames, a.telemetry_frames, a.crc16_failures),
        (1, 4, 1)
    );
    assert_eq!(a.frames(), 6);
    assert!(close(a.first_seen_s, 0.0) && close(a.last_seen_s, 0.6));
    assert_eq!(a.no_position_frames, 0);
    assert_eq!(
        (a.sequence_gaps, a.missing_sequences, a.sequence_resets),
        (1, 2, 0)
    );
    let seqs: Vec<u16> = a.points.iter().map(|p| p.sequence_number).collect();
    assert_eq!(seqs, [65533, 65534, 1, 2]);
    let p0 = &a.points[0];
    assert!(close(p0.lat_deg, 52.0) && close(p0.lon_deg, 13.0));
    assert_eq!(p0.start_sample, 100_000);
    assert!(close(p0.time_s, 0.1));
    assert!(close(p0.speed_mps, 5.0), "hypot(3, 4) m/s");
    assert!(close(p0.yaw_deg, 45.0));
    assert_eq!((p0.altitude_raw, p0.height_raw), (100, 25));
    let home = a.home.unwrap();
    assert!(close(home.lat_deg, 52.0) && close(home.lon_deg, 13.0));
    let pilot = a.pilot.unwrap();
    assert!(close(pilot.lat_deg, 51.9999) && close(pilot.lon_deg, 12.9999));
    assert_eq!(a.gaps.len(), 1);
    let g = &a.gaps[0];
    assert_eq!((g.from_sequence, g.to_sequence), (65534, 1));
    assert_eq!(g.sequence_gap, 2, "65535 and 0 across the wrap");
    assert!(!g.sequence_reset);
    assert_eq!(g.crc16_failures, 1);
    assert_eq!(g.no_position_frames, 0);
    assert_eq!(g.dropped_samples, 1000);
    assert_eq!(g.unexplained(), 1);
    assert!(close(g.from_time_s, 0.2) && close(g.to_time_s, 0.4));

    let b = &t.drones[1];
    assert_eq!(b.serial_number, "BBB2");
    assert_eq!(b.product_name.as_deref(), Some("Mavic Air 2"));
    assert_eq!(
        (b.identity_frames, b.telemetry_frames, b.crc16_failures),
        (1, 3, 0)
    );
    assert_eq!(b.no_position_frames, 1);
    assert_eq!(b.points.len(), 2, "the 0/0 frame is not a point");
    assert_eq!((b.sequence_gaps, b.missing_sequences), (0, 0));
    assert!(close(b.first_seen_s, 0.15) && close(b.last_seen_s, 0.45));
    let pilot = b
        .pilot
        .expect("0/0 pilot positions keep the last known one");
    assert!(close(pilot.lat_deg, 47.9) && close(pilot.lon_deg, 10.9));
    assert_eq!(b.gaps.len(), 1);
    let g = &b.gaps[0];
    assert_eq!(
        (g.sequence_gap, g.no_position_frames, g.crc16_failures),
        (1, 1, 0)
    );
    assert_eq!(g.dropped_samples, 1000);
    assert_eq!(g.unexplained(), 0);
}

#[test]
fn push_order_does_not_matter() {
    let in_order = scenario().finish();
    let mut b = TrackBuilder::new();
    b.note_dropped_samples(350_000, 400);
    let mut frames = scenario_frames();
    frames.reverse();
    frames.swap(0, 5);
    for f in &frames {
        b.push(f);
    }
    b.note_dropped_samples(350_000, 600);
    assert_eq!(b.finish(), in_order);
}

#[test]
fn resets_single_point_and_identity_only() {
    let mut b = TrackBuilder::new();
    b.push(&tel(0, &flight("CCC3", 68, 500, 10.0, 20.0)));
    b.push(&tel(1000, &flight("CCC3", 68, 500, 10.1, 20.1))); // repeat
    b.push(&tel(2000, &flight("CCC3", 68, 3, 10.2, 20.2))); // restart
    b.push(&tel(3000, &flight("DDD4", 70, 9, -33.9, 151.2)));
    b.push(&ident(4000, "EEE5"));
    // A CRC16 failure before the first valid frame of a serial confirmed later: attributed.
    b.push(&tel_crc16_bad(5000, &flight("FFF6", 70, 1, 1.0, 1.0)));
    b.push(&tel(6000, &flight("FFF6", 70, 2, 1.0, 1.0)));
    let snap = b.snapshot();
    let t = b.finish();
    assert_eq!(snap, t);
    assert_eq!(t.unattributed_crc16_failures, 0);
    let f = t.drones.iter().find(|d| d.serial_number == "FFF6").unwrap();
    assert_eq!(
        (f.crc16_failures, f.telemetry_frames, f.frames()),
        (1, 1, 2)
    );
    assert!(close(f.first_seen_s, 0.005) && close(f.last_seen_s, 0.006));
    let c = &t.drones[0];
    assert_eq!(c.sequence_resets, 2);
    assert_eq!(c.sequence_gaps, 0);
    assert_eq!(c.gaps.len(), 2);
    assert!(c
        .gaps
        .iter()
        .all(|g| g.sequence_reset && g.sequence_gap == 0));
    let e = t.drones.iter().find(|d| d.serial_number == "EEE5").unwrap();
    assert_eq!(
        (e.identity_frames, e.product_type, e.points.len()),
        (1, None, 0)
    );

    let gj = t.to_geojson();
    validate_geojson(&gj).unwrap();
    let feats = gj["features"].as_array().unwrap();
    let d_path = feats
        .iter()
        .find(|f| f["properties"]["serial_number"] == "DDD4" && f["properties"]["role"] == "path")
        .unwrap();
    assert_eq!(d_path["geometry"]["type"], "Point");
    let c = d_path["geometry"]["coordinates"].as_array().unwrap();
    assert!(close(c[0].as_f64().unwrap(), 151.2) && close(c[1].as_f64().unwrap(), -33.9));
    // The identity-only drone has no position: no feature.
    assert!(feats
        .iter()
        .all(|f| f["properties"]["serial_number"] != "EEE5"));
}

#[test]
fn geojson_structure() {
    let t = scenario().finish();
    let gj = t.to_geojson();
    validate_geojson(&gj).unwrap();
    assert_eq!(gj["type"], "FeatureCollection");
    assert!(gj.get("crs").is_none());
    let feats = gj["features"].as_array().unwrap();
    let roles: Vec<(&str, &str)> = feats
        .iter()
        .map(|f| {
            (
                f["properties"]["serial_number"].as_str().unwrap(),
                f["properties"]["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("AAA1", "path"),
            ("AAA1", "home"),
            ("AAA1", "pilot"),
            ("BBB2", "path"),
            ("BBB2", "home"),
            ("BBB2", "pilot"),
        ]
    );
    for f in feats {
        assert_eq!(f["type"], "Feature");
        let p = f["properties"].as_object().unwrap();
        for k in [
            "serial_number",
            "product_type",
            "product_name",
            "first_seen_s",
            "last_seen_s",
            "frames",
            "role",
        ] {
            assert!(p.contains_key(k), "missing property {k}");
        }
    }
    let a_path = &feats[0];
    assert_eq!(a_path["geometry"]["type"], "LineString");
    let coords = a_path["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(coords.len(), 4);
    // [lon, lat] order.
    assert!(close(coords[0][0].as_f64().unwrap(), 13.0));
    assert!(close(coords[0][1].as_f64().unwrap(), 52.0));
    assert!(close(coords[3][0].as_f64().unwrap(), 13.004));
    assert_eq!(a_path["properties"]["frames"], 6);
    assert_eq!(a_path["properties"]["product_type"], 63);
    assert_eq!(a_path["properties"]["product_name"], "Mini 2");
    assert_eq!(
        feats[3]["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let home = &feats[1]["geometry"];
    assert_eq!(home["type"], "Point");
    assert!(close(home["coordinates"][0].as_f64().unwrap(), 13.0));
    assert!(close(home["coordinates"][1].as_f64().unwrap(), 52.0));
}

#[test]
fn validator_rejects_bad_geojson() {
    let pt = |c: Value| {
        json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": c}}
        ]})
    };
    assert!(validate_geojson(&pt(json!([13.0, 52.0]))).is_ok());
    assert!(validate_geojson(&pt(json!([13.0, 52.0, 100.0]))).is_ok());
    assert!(
        validate_geojson(&pt(json!([13.0, 95.0]))).is_err(),
        "lat > 90"
    );
    assert!(
        validate_geojson(&pt(json!([-181.0, 0.0]))).is_err(),
        "lon < -180"
    );
    assert!(validate_geojson(&pt(json!([13.0]))).is_err());
    assert!(validate_geojson(&pt(json!([1.0, 2.0, 3.0, 4.0]))).is_err());
    assert!(validate_geojson(&pt(json!(["13", 52.0]))).is_err());
    let line = json!({"type": "LineString", "coordinates": [[13.0, 52.0]]});
    assert!(validate_geojson(&line).unwrap_err().contains("at least 2"));
    let with_crs = json!({"type": "FeatureCollection", "features": [], "crs": {}});
    assert!(validate_geojson(&with_crs).is_err());
    let no_props = json!({"type": "Feature", "geometry": null});
    assert!(validate_geojson(&no_props).is_err());
    let open_ring = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]});
    assert!(validate_geojson(&open_ring).is_err());
    let ring = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]});
    assert!(validate_geojson(&ring).is_ok());
    assert!(validate_geojson(&json!({"type": "Circle", "coordinates": [0, 0]})).is_err());
    let err = validate_geojson(&pt(json!([200.0, 0.0]))).unwrap_err();
    assert!(err.contains("features[0].geometry.coordinates"), "{err}");
}

#[test]
fn write_geojson_is_atomic_and_round_trips() {
    let t = scenario().finish();
    let dir = std::env::temp_dir().join(format!("droneid-tracks-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tracks.geojson");
    std::fs::write(&path, "old").unwrap();
    write_geojson(&path, &t).unwrap();
    let back: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Compare through the same text round trip (serde_json's float parsing is not exact).
    let expected: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&t.to_geojson()).unwrap()).unwrap();
    assert_eq!(back, expected);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tracks.geojson"], "no temporary file left");
    assert!(write_geojson(dir.join("missing-dir").join("x.geojson"), &t).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn summary_table_lists_drones() {
    let t = scenario().finish();
    let s = t.summary_table();
    println!("{s}");
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 4, "{s}");
    assert!(lines[0].starts_with("SERIAL"));
    assert!(lines[1].starts_with("AAA1") && lines[1].contains("Mini 2"));
    let last = t.drones[0].points.last().unwrap();
    let pos = format!("{:.6}, {:.6}", last.lat_deg, last.lon_deg);
    assert!(pos.starts_with("52.00") && pos.contains(", 13.00"), "{pos}");
    assert!(lines[1].contains("1(2)") && lines[1].ends_with(&pos), "{s}");
    assert!(lines[2].starts_with("BBB2") && lines[2].contains("Mavic Air 2"));
    assert!(lines[3].contains("2 drone(s)") && lines[3].contains("1000 sample(s) dropped"));
    let empty = TrackBuilder::new().finish();
    assert_eq!(empty.summary_table().lines().count(), 2);
    assert_eq!(
        empty.to_geojson(),
        json!({"type": "FeatureCollection", "features": []})
    );
}

fn encrypted(sample: i64, marker: droneid_payload::PacketMarker, sid: [u8; 4]) -> Frame {
    let rec = droneid_payload::EncryptedSpec::new(marker, sid)
        .to_record()
        .unwrap();
    let fr = frame_from_block(sample, build_transport_block(&rec, None).unwrap(), true);
    assert!(fr.encrypted().is_some());
    fr
}

#[test]
fn encrypted_drones_follow_session_ids() {
    use droneid_payload::PacketMarker::{Cryp, Infp};
    let (s1, s2) = ([0x1a, 0x2b, 0x3c, 0x4d], [0, 0, 0, 0x0f]);
    let mut b = TrackBuilder::new();
    b.push(&encrypted(0, Cryp, s1));
    b.push(&tel(50_000, &flight("AAA1", 63, 1, 52.0, 13.0)));
    b.push(&encrypted(100_000, Infp, s1));
    b.push(&encrypted(150_000, Cryp, s2));
    b.push(&encrypted(200_000, Infp, s1));
    // A plaintext drone whose serial spells a session key is still another drone.
    b.push(&tel(
        250_000,
        &flight("session:1a2b3c4d", 63, 1, 48.0, 11.0),
    ));
    // A CRC24-failed encrypted block is only a CRC24 failure.
    let bad = encrypted(300_000, Infp, s2);
    b.push(&frame_from_block(300_000, bad.block, false));
    let t = b.finish();
    assert_eq!(t.frames_total, 7);
    assert_eq!(t.encrypted_frames, 4);
    assert_eq!((t.unknown_frames, t.crc24_failures), (0, 1));
    let keys: Vec<(&str, Option<&str>)> = t
        .drones
        .iter()
        .map(|d| (d.serial_number.as_str(), d.session_id()))
        .collect();
    assert_eq!(
        keys,
        [
            ("session:1a2b3c4d", Some("1a2b3c4d")),
            ("AAA1", None),
            ("session:0000000f", Some("0000000f")),
            ("session:1a2b3c4d", None),
        ]
    );
    let d1 = &t.drones[0];
    assert_eq!(
        d1.encrypted,
        Some(EncryptedTrack {
            session_id: "1a2b3c4d".into(),
            cryp_frames: 1,
            infp_frames: 2
        })
    );
    assert_eq!(d1.frames(), 3);
    assert_eq!((d1.first_seen_s, d1.last_seen_s), (0.0, 0.2));
    assert_eq!(d1.product_name.as_deref(), Some(ENCRYPTED_PRODUCT_NAME));
    assert_eq!(d1.product_type, None);
    assert!(d1.points.is_empty() && d1.home.is_none() && d1.pilot.is_none());
    assert_eq!(d1.telemetry_frames + d1.identity_frames, 0);
    assert_eq!(t.drones[2].frames(), 1);

    // GeoJSON: features only from the two plaintext drones.
    let g = t.to_geojson();
    validate_geojson(&g).unwrap();
    let features = g["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        let serial = f["properties"]["serial_number"].as_str().unwrap();
        assert!(serial == "AAA1" || serial == "session:1a2b3c4d");
        assert_ne!(f["properties"]["product_name"], ENCRYPTED_PRODUCT_NAME);
    }

    // The summary table names both sessions.
    let s = t.summary_table();
    println!("{s}");
    assert!(s.contains("encrypted DJI drone, session 1a2b3c4d, 3 frames (1 CRYP, 2 INFP)"));
    assert!(s.contains("encrypted DJI drone, session 0000000f, 1 frames (1 CRYP, 0 INFP)"));
    let row = s
        .lines()
        .find(|l| l.starts_with("session:0000000f"))
        .unwrap();
    assert!(
        row.contains(ENCRYPTED_PRODUCT_NAME) && row.ends_with('-'),
        "{row}"
    );
    assert!(s.contains("4 drone(s) (2 encrypted)") && s.contains("4 encrypted"));
}
