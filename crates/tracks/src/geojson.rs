//! GeoJSON (RFC 7946) output, its structural validation, and atomic writing.

use crate::{DroneTrack, LatLon, Tracks};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::Path;

/// A JSON number for a finite value, `null` otherwise (JSON has no NaN/∞).
fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

fn position(p: LatLon) -> Value {
    // RFC 7946 §3.1.1: longitude first.
    json!([num(p.lon_deg), num(p.lat_deg)])
}

fn feature(geometry: Value, properties: Map<String, Value>) -> Value {
    json!({ "type": "Feature", "geometry": geometry, "properties": properties })
}

fn common_properties(d: &DroneTrack, role: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("serial_number".into(), d.serial_number.clone().into());
    m.insert(
        "product_type".into(),
        d.product_type.map_or(Value::Null, Value::from),
    );
    m.insert(
        "product_name".into(),
        d.product_name.clone().map_or(Value::Null, Value::from),
    );
    m.insert("first_seen_s".into(), num(d.first_seen_s));
    m.insert("last_seen_s".into(), num(d.last_seen_s));
    m.insert("frames".into(), d.frames().into());
    m.insert("role".into(), role.into());
    m
}

impl Tracks {
    /// An RFC 7946 FeatureCollection. Per drone, in order: a `"path"` feature (a `LineString`
    /// of its track points, `[lon, lat]`; a `Point` when it has exactly one point; absent
    /// without points), a `"home"` `Point` and a `"pilot"` `Point` when known. Every feature's
    /// properties hold `serial_number`, `product_type`, `product_name` (null when unknown),
    /// `first_seen_s`, `last_seen_s`, `frames` and `role`; path features add `points`,
    /// `sequence_gaps`, `missing_sequences` and `crc16_failures`. No `crs` member.
    pub fn to_geojson(&self) -> Value {
        let mut features = Vec::new();
        for d in &self.drones {
            let coords: Vec<Value> = d
                .points
                .iter()
                .map(|p| {
                    position(LatLon {
                        lat_deg: p.lat_deg,
                        lon_deg: p.lon_deg,
                    })
                })
                .collect();
            let geometry = match coords.len() {
                0 => None,
                1 => Some(json!({ "type": "Point", "coordinates": coords[0] })),
                _ => Some(json!({ "type": "LineString", "coordinates": coords })),
            };
            if let Some(geometry) = geometry {
                let mut props = common_properties(d, "path");
                props.insert("points".into(), d.points.len().into());
                props.insert("sequence_gaps".into(), d.sequence_gaps.into());
                props.insert("missing_sequences".into(), d.missing_sequences.into());
                props.insert("crc16_failures".into(), d.crc16_failures.into());
                features.push(feature(geometry, props));
            }
            for (role, p) in [("home", d.home), ("pilot", d.pilot)] {
                if let Some(p) = p {
                    let geometry = json!({ "type": "Point", "coordinates": position(p) });
                    features.push(feature(geometry, common_properties(d, role)));
                }
            }
        }
        json!({ "type": "FeatureCollection", "features": features })
    }
}

/// Writes `tracks.to_geojson()` (pretty, newline-terminated) to `path` atomically: a temporary
/// file in the same directory, synced, then renamed over `path`.
pub fn write_geojson(path: impl AsRef<Path>, tracks: &Tracks) -> std::io::Result<()> {
    let path = path.as_ref();
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut bytes = serde_json::to_vec_pretty(&tracks.to_geojson())?;
    bytes.push(b'\n');
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Structural RFC 7946 check: object types, required members, positions of 2–3 finite numbers
/// with longitude in [−180, 180] and latitude in [−90, 90], `LineString` ≥ 2 positions, closed
/// linear rings of ≥ 4 positions, finite `bbox` numbers, and no `crs` member. The error names
/// the offending member (e.g. `features[0].geometry.coordinates[1]`).
pub fn validate_geojson(v: &Value) -> Result<(), String> {
    validate_object(v, "$")
}

fn obj<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("{at}: not a JSON object"))?;
    if m.contains_key("crs") {
        return Err(format!("{at}: has a \"crs\" member (removed in RFC 7946)"));
    }
    if let Some(b) = m.get("bbox") {
        let arr = b
            .as_array()
            .ok_or_else(|| format!("{at}.bbox: not an array"))?;
        if arr.len() < 4 || arr.len() % 2 != 0 || !arr.iter().all(is_finite_number) {
            return Err(format!("{at}.bbox: not 2n finite numbers"));
        }
    }
    Ok(m)
}

fn is_finite_number(v: &Value) -> bool {
    v.as_f64().is_some_and(f64::is_finite)
}

fn type_of<'a>(m: &'a Map<String, Value>, at: &str) -> Result<&'a str, String> {
    m.get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}: missing string \"type\""))
}

fn validate_object(v: &Value, at: &str) -> Result<(), String> {
    let m = obj(v, at)?;
    match type_of(m, at)? {
        "FeatureCollection" => {
            let features = m
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{at}: FeatureCollection without a \"features\" array"))?;
            for (i, f) in features.iter().enumerate() {
                let fat = format!("{at}.features[{i}]");
                let fm = obj(f, &fat)?;
                if type_of(fm, &fat)? != "Feature" {
                    return Err(format!("{fat}: type is not \"Feature\""));
                }
                validate_feature(fm, &fat)?;
            }
            Ok(())
        }
        "Feature" => validate_feature(m, at),
        _ => validate_geometry(v, at),
    }
}

fn validate_feature(m: &Map<String, Value>, at: &str) -> Result<(), String> {
    match m.get("geometry") {
        None => return Err(format!("{at}: Feature without a \"geometry\" member")),
        Some(Value::Null) => {}
        Some(g) => validate_geometry(g, &format!("{at}.geometry"))?,
    }
    match m.get("properties") {
        None => return Err(format!("{at}: Feature without a \"properties\" member")),
        Some(Value::Null | Value::Object(_)) => {}
        Some(_) => return Err(format!("{at}.properties: neither an object nor null")),
    }
    match m.get("id") {
        None | Some(Value::String(_)) | Some(Value::Number(_)) => Ok(()),
        Some(_) => Err(format!("{at}.id: neither a string nor a number")),
    }
}

fn validate_geometry(v: &Value, at: &str) -> Result<(), String> {
    let m = obj(v, at)?;
    let t = type_of(m, at)?;
    if t == "GeometryCollection" {
        let geoms = m
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{at}: GeometryCollection without a \"geometries\" array"))?;
        for (i, g) in geoms.iter().enumerate() {
            validate_geometry(g, &format!("{at}.geometries[{i}]"))?;
        }
        return Ok(());
    }
    let c = m
        .get("coordinates")
        .ok_or_else(|| format!("{at}: {t} without \"coordinates\""))?;
    let cat = format!("{at}.coordinates");
    match t {
        "Point" => check_position(c, &cat),
        "MultiPoint" => check_positions(c, &cat, 0).map(|_| ()),
        "LineString" => check_line(c, &cat),
        "MultiLineString" => each(c, &cat, check_line),
        "Polygon" => check_polygon(c, &cat),
        "MultiPolygon" => each(c, &cat, check_polygon),
        other => Err(format!("{at}: unknown GeoJSON type \"{other}\"")),
    }
}

fn each(c: &Value, at: &str, f: fn(&Value, &str) -> Result<(), String>) -> Result<(), String> {
    let arr = c.as_array().ok_or_else(|| format!("{at}: not an array"))?;
    for (i, x) in arr.iter().enumerate() {
        f(x, &format!("{at}[{i}]"))?;
    }
    Ok(())
}

fn check_position(c: &Value, at: &str) -> Result<(), String> {
    let arr = c
        .as_array()
        .ok_or_else(|| format!("{at}: position is not an array"))?;
    if !(2..=3).contains(&arr.len()) {
        return Err(format!(
            "{at}: position has {} elements, not 2–3",
            arr.len()
        ));
    }
    if !arr.iter().all(is_finite_number) {
        return Err(format!(
            "{at}: position elements are not all finite numbers"
        ));
    }
    let lon = arr[0].as_f64().unwrap_or(f64::NAN);
    let lat = arr[1].as_f64().unwrap_or(f64::NAN);
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!("{at}: longitude {lon} outside [-180, 180]"));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!("{at}: latitude {lat} outside [-90, 90]"));
    }
    Ok(())
}

/// Checks an array of positions with at least `min` elements; returns them.
fn check_positions<'a>(c: &'a Value, at: &str, min: usize) -> Result<&'a [Value], String> {
    let arr = c
        .as_array()
        .ok_or_else(|| format!("{at}: not an array of positions"))?;
    if arr.len() < min {
        return Err(format!(
            "{at}: {} positions, at least {min} required",
            arr.len()
        ));
    }
    for (i, p) in arr.iter().enumerate() {
        check_position(p, &format!("{at}[{i}]"))?;
    }
    Ok(arr)
}

fn check_line(c: &Value, at: &str) -> Result<(), String> {
    check_positions(c, at, 2).map(|_| ())
}

fn check_polygon(c: &Value, at: &str) -> Result<(), String> {
    each(c, at, |ring, rat| {
        let arr = check_positions(ring, rat, 4)?;
        if arr.first() != arr.last() {
            return Err(format!("{rat}: linear ring is not closed"));
        }
        Ok(())
    })
}
