//! The GeoJSON written by `write_geojson`, read back by an independent implementation (the
//! `geojson` crate of the georust project) rather than by this crate's own validator: it must
//! parse as RFC 7946, and every position must come back where it was sent (longitude first).

use std::str::FromStr;

use droneid_payload::{build_transport_block, deg_to_raw, FlightInfo};
use droneid_receiver::Frame;
use droneid_tracks::{write_geojson, TrackBuilder};
use geojson::{GeoJson, Value};

const FS: f64 = 15.36e6;

fn telemetry(sample: i64, serial: &str, seq: u16, pos: (f64, f64), home: (f64, f64)) -> Frame {
    let mut f = FlightInfo::example();
    f.serial_number = serial.into();
    f.sequence_number = seq;
    f.latitude_raw = deg_to_raw(pos.0).unwrap();
    f.longitude_raw = deg_to_raw(pos.1).unwrap();
    f.home_lat_raw = deg_to_raw(home.0).unwrap();
    f.home_lon_raw = deg_to_raw(home.1).unwrap();
    f.app_lat_raw = deg_to_raw(home.0 + 0.001).unwrap();
    f.app_lon_raw = deg_to_raw(home.1 - 0.001).unwrap();
    let block = build_transport_block(&f.to_record(), None).unwrap();
    Frame::new(sample, FS, 0.0, None, 20.0, 9, true, 3, block, 0.0)
}

/// (lon, lat) of a GeoJSON position.
fn lon_lat(p: &[f64]) -> (f64, f64) {
    assert_eq!(p.len(), 2, "positions are [lon, lat]");
    (p[0], p[1])
}

fn near(a: (f64, f64), b: (f64, f64)) -> bool {
    // The on-air resolution is 1e-7 rad (5.7e-6°).
    (a.0 - b.0).abs() < 1e-5 && (a.1 - b.1).abs() < 1e-5
}

#[test]
fn written_geojson_parses_independently_with_every_position_in_place() {
    // Drone A flies a path west of Greenwich and south of the equator (negative lon and lat,
    // so a swapped or sign-lost coordinate shows); drone B is seen once (a Point path).
    let a_path = [(-33.9, -18.4), (-33.901, -18.402), (-33.903, -18.405)];
    let a_home = (-33.89, -18.39);
    let b_pos = (52.52, 13.405);
    let b_home = (52.5, 13.4);
    let mut builder = TrackBuilder::new();
    for (k, &p) in a_path.iter().enumerate() {
        builder.push(&telemetry(
            1_000_000 * k as i64,
            "AAAA1",
            10 + k as u16,
            p,
            a_home,
        ));
    }
    builder.push(&telemetry(1_500_000, "BBBB2", 7, b_pos, b_home));
    let tracks = builder.finish();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracks.geojson");
    write_geojson(&path, &tracks).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();

    let GeoJson::FeatureCollection(fc) = GeoJson::from_str(&text).expect("valid GeoJSON") else {
        panic!("not a FeatureCollection: {text}");
    };
    let by_role = |serial: &str, role: &str| {
        fc.features
            .iter()
            .find(|f| {
                f.property("serial_number").and_then(|v| v.as_str()) == Some(serial)
                    && f.property("role").and_then(|v| v.as_str()) == Some(role)
            })
            .and_then(|f| f.geometry.as_ref())
            .map(|g| g.value.clone())
            .unwrap_or_else(|| panic!("{serial} {role} missing: {text}"))
    };
    // A's path: a LineString through every point, in order, [lon, lat].
    let Value::LineString(line) = by_role("AAAA1", "path") else {
        panic!("A's path is not a LineString");
    };
    assert_eq!(line.len(), a_path.len());
    for (pos, &(lat, lon)) in line.iter().zip(&a_path) {
        assert!(near(lon_lat(pos), (lon, lat)), "{pos:?} vs ({lon}, {lat})");
    }
    // Home and pilot points.
    let Value::Point(home) = by_role("AAAA1", "home") else {
        panic!("A's home is not a Point");
    };
    assert!(near(lon_lat(&home), (a_home.1, a_home.0)));
    let Value::Point(pilot) = by_role("AAAA1", "pilot") else {
        panic!("A's pilot is not a Point");
    };
    assert!(near(lon_lat(&pilot), (a_home.1 - 0.001, a_home.0 + 0.001)));
    // B, seen once: its path is a Point.
    let Value::Point(b) = by_role("BBBB2", "path") else {
        panic!("B's single-point path is not a Point");
    };
    assert!(near(lon_lat(&b), (b_pos.1, b_pos.0)));
    // Nothing else: three features for A, three for B; no foreign members.
    assert_eq!(fc.features.len(), 6, "{text}");
    assert!(fc.foreign_members.is_none() && fc.bbox.is_none());
}
