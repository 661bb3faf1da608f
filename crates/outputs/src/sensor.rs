//! Sensor identity: a name (`--sensor-id`) and a surveyed position (`--sensor-position`) that
//! every output carries, and the great-circle distance and bearing from the sensor to the drone
//! and its pilot.

use serde_json::{Map, Value};

use crate::OutputError;

/// Mean Earth radius (IUGG), metres: the sphere used for distances and bearings.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Longest sensor id accepted, characters.
pub const SENSOR_ID_MAX_LEN: usize = 64;

/// Where the sensor stands (WGS 84 degrees; height above the ellipsoid in metres when known).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorPosition {
    /// Latitude, degrees north (−90..=90).
    pub lat_deg: f64,
    /// Longitude, degrees east (−180..=180).
    pub lon_deg: f64,
    /// Height above the WGS 84 ellipsoid, metres, when given.
    pub alt_m: Option<f64>,
}

impl SensorPosition {
    /// Parses `LAT,LON[,ALT]` (degrees, degrees, metres). Errors name the text and the range
    /// broken: latitude outside ±90°, longitude outside ±180°, a non-finite or missing number.
    pub fn parse(text: &str) -> Result<Self, OutputError> {
        let bad =
            |reason: &str| OutputError::Sensor(format!("--sensor-position {text:?}: {reason}"));
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad(
                "expected LAT,LON or LAT,LON,ALT (degrees, degrees, metres)",
            ));
        }
        let num = |s: &str, what: &str| -> Result<f64, OutputError> {
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(bad(&format!("{what} {s:?} is not a finite number"))),
            }
        };
        let lat_deg = num(parts[0], "latitude")?;
        let lon_deg = num(parts[1], "longitude")?;
        let alt_m = match parts.get(2) {
            Some(a) => Some(num(a, "altitude")?),
            None => None,
        };
        if !(-90.0..=90.0).contains(&lat_deg) {
            return Err(bad(&format!("latitude {lat_deg} is outside -90..90")));
        }
        if !(-180.0..=180.0).contains(&lon_deg) {
            return Err(bad(&format!("longitude {lon_deg} is outside -180..180")));
        }
        Ok(Self {
            lat_deg,
            lon_deg,
            alt_m,
        })
    }
}

/// The sensor's identity as the outputs report it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sensor {
    /// `--sensor-id`: letters, digits, `.`, `_`, `-` (it becomes an MQTT topic level and part
    /// of CoT uids).
    pub id: Option<String>,
    /// `--sensor-position`.
    pub position: Option<SensorPosition>,
}

impl Sensor {
    /// Checks a sensor id: 1..=64 characters from `A-Z a-z 0-9 . _ -`.
    pub fn check_id(id: &str) -> Result<(), OutputError> {
        let ok = !id.is_empty()
            && id.len() <= SENSOR_ID_MAX_LEN
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(())
        } else {
            Err(OutputError::Sensor(format!(
                "--sensor-id {id:?}: use 1 to {SENSOR_ID_MAX_LEN} letters, digits, '.', '_' or '-'"
            )))
        }
    }

    /// A sensor from the flags' text (both optional), checked.
    pub fn from_flags(id: Option<&str>, position: Option<&str>) -> Result<Self, OutputError> {
        if let Some(id) = id {
            Self::check_id(id)?;
        }
        Ok(Self {
            id: id.map(str::to_string),
            position: position.map(SensorPosition::parse).transpose()?,
        })
    }

    /// The id, or `"-"` when none was given.
    pub fn id_or_dash(&self) -> &str {
        self.id.as_deref().unwrap_or("-")
    }

    /// Adds the sensor's keys to a frame's JSON object: `sensor_id` (when set) and, when the
    /// sensor position is known and the frame carries the position, `drone_distance_m`,
    /// `drone_bearing_deg` (from `drone_lat_deg`/`drone_lon_deg`) and `pilot_distance_m`,
    /// `pilot_bearing_deg` (from `app_lat_deg`/`app_lon_deg`). Distances in metres (0.1 m),
    /// bearings in degrees clockwise from true north, 0..360 (0.1°). A 0/0 position (no fix)
    /// gets no distance.
    pub fn annotate(&self, json: &mut Map<String, Value>) {
        if let Some(id) = &self.id {
            json.insert("sensor_id".into(), id.clone().into());
        }
        let Some(p) = self.position else { return };
        for (name, lat_key, lon_key) in [
            ("drone", "drone_lat_deg", "drone_lon_deg"),
            ("pilot", "app_lat_deg", "app_lon_deg"),
        ] {
            let Some((lat, lon)) = json_position(json, lat_key, lon_key) else {
                continue;
            };
            let (d, b) = distance_bearing(p.lat_deg, p.lon_deg, lat, lon);
            json.insert(format!("{name}_distance_m"), round(d, 10.0).into());
            json.insert(format!("{name}_bearing_deg"), round(b, 10.0).into());
        }
    }
}

/// A usable position from two keys of a frame's JSON: both finite numbers in range and not
/// 0/0 (no fix).
pub fn json_position(
    json: &Map<String, Value>,
    lat_key: &str,
    lon_key: &str,
) -> Option<(f64, f64)> {
    let lat = json.get(lat_key)?.as_f64()?;
    let lon = json.get(lon_key)?.as_f64()?;
    let ok = lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && !(lat == 0.0 && lon == 0.0);
    ok.then_some((lat, lon))
}

fn round(v: f64, inv: f64) -> f64 {
    (v * inv).round() / inv
}

/// Great-circle distance (metres, haversine on a sphere of [`EARTH_RADIUS_M`]) and initial
/// bearing (degrees clockwise from true north, `0..360`) from point 1 to point 2, all in
/// degrees. Coincident points: distance 0, bearing 0.
pub fn distance_bearing(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> (f64, f64) {
    let (p1, p2) = (lat1_deg.to_radians(), lat2_deg.to_radians());
    let dp = p2 - p1;
    let dl = (lon2_deg - lon1_deg).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    let d = 2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin();
    if d == 0.0 {
        return (0.0, 0.0);
    }
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    let b = y.atan2(x).to_degrees().rem_euclid(360.0);
    (d, if b >= 360.0 { 0.0 } else { b })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_bearings_match_known_values() {
        // One degree of longitude on the equator: R·π/180.
        let (d, b) = distance_bearing(0.0, 0.0, 0.0, 1.0);
        assert!((d - 111_195.08).abs() < 0.01, "{d}");
        assert!((b - 90.0).abs() < 1e-9);
        let (d, b) = distance_bearing(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.08).abs() < 0.01);
        assert!(b.abs() < 1e-9);
        assert!((distance_bearing(0.0, 0.0, -1.0, 0.0).1 - 180.0).abs() < 1e-9);
        assert!((distance_bearing(0.0, 0.0, 0.0, -1.0).1 - 270.0).abs() < 1e-9);
        // Paris (48.8566 N, 2.3522 E) → London (51.5074 N, 0.1278 W): 343.5 km on the
        // sphere, initial bearing 330.0° (the textbook haversine example values).
        let (d, b) = distance_bearing(48.8566, 2.3522, 51.5074, -0.1278);
        assert!((d - 343_550.0).abs() < 100.0, "{d}");
        assert!((b - 330.0).abs() < 0.1, "{b}");
        // Antipodes: half the circumference.
        let (d, _) = distance_bearing(0.0, 0.0, 0.0, 180.0);
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1e-6);
        assert_eq!(distance_bearing(10.0, 20.0, 10.0, 20.0), (0.0, 0.0));
    }

    #[test]
    fn positions_parse_and_ranges_are_checked() {
        let p = SensorPosition::parse("52.52, 13.405").unwrap();
        assert_eq!((p.lat_deg, p.lon_deg, p.alt_m), (52.52, 13.405, None));
        let p = SensorPosition::parse("-33.9,151.2,58.5").unwrap();
        assert_eq!(p.alt_m, Some(58.5));
        for bad in [
            "91,0", "-90.5,0", "0,180.1", "0,-181", "nan,0", "0,inf", "1", "1,2,3,4", "a,b",
            "1,2,x",
        ] {
            let e = SensorPosition::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("--sensor-position") && !e.contains('\n'),
                "{bad}: {e}"
            );
        }
        assert!(Sensor::check_id("site-1.north_A").is_ok());
        for bad in ["", "a/b", "a+b", "a#", "a b", &"x".repeat(65)] {
            assert!(Sensor::check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn annotate_adds_id_and_distances_only_for_known_positions() {
        let s = Sensor {
            id: Some("s1".into()),
            position: Some(SensorPosition::parse("0,0").unwrap()),
        };
        let mut m = Map::new();
        m.insert("drone_lat_deg".into(), 0.0.into());
        m.insert("drone_lon_deg".into(), 1.0.into());
        m.insert("app_lat_deg".into(), 0.0.into());
        m.insert("app_lon_deg".into(), 0.0.into());
        s.annotate(&mut m);
        assert_eq!(m["sensor_id"], "s1");
        assert_eq!(m["drone_distance_m"], 111_195.1);
        assert_eq!(m["drone_bearing_deg"], 90.0);
        // The pilot has no fix (0/0): no distance.
        assert!(!m.contains_key("pilot_distance_m"));
        let mut e = Map::new();
        Sensor::default().annotate(&mut e);
        assert!(e.is_empty());
    }
}
