//! Multi-segment SigMF (a scanning receiver retuned mid-file): capture segments with their own
//! `core:frequency` and `core:datetime`, reads that stop at a retune, UTC per sample, and the
//! annotated metadata copy.

use droneid_io::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A fresh, empty folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("droneid-io-segments-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ramp(n: usize) -> Vec<Complex32> {
    (0..n)
        .map(|i| Complex32::new(i as f32, -(i as f32)))
        .collect()
}

/// 1000 samples at 1 MS/s: 2414.5 MHz from sample 0, 2444.5 MHz from sample 600.
fn write_two_segments(dir: &TempDir) -> PathBuf {
    let base = dir.path("scan");
    let mut w = SigmfWriter::create(&base, SampleFormat::Cf32, 1e6, Some(2414.5e6), "two").unwrap();
    w.set_datetime("2026-11-25T12:00:00Z");
    w.add_capture(600, Some(2444.5e6), Some("2026-11-25T12:00:01.5Z"));
    w.write(&ramp(1000)).unwrap();
    w.finish().unwrap();
    path_with_suffix(&base, ".sigmf-meta")
}

#[test]
fn segments_are_read_with_their_frequency_and_time() {
    let dir = TempDir::new("read");
    let meta = write_two_segments(&dir);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    assert_eq!(v["captures"][1]["core:sample_start"], json!(600));
    assert_eq!(v["captures"][1]["core:frequency"], json!(2444.5e6));
    assert_eq!(
        v["captures"][0]["core:datetime"],
        json!("2026-11-25T12:00:00Z")
    );

    let mut src = open_input(meta.to_str().unwrap(), &InputOptions::default()).unwrap();
    assert_eq!(src.info().center_freq_hz, Some(2414.5e6));
    let segs = src.segments().to_vec();
    assert_eq!(segs.len(), 2);
    assert_eq!(
        (segs[0].sample_start, segs[0].frequency_hz),
        (0, Some(2414.5e6))
    );
    assert_eq!(
        (segs[1].sample_start, segs[1].frequency_hz),
        (600, Some(2444.5e6))
    );
    // UTC of a sample: the segment's datetime plus its offset in the segment.
    assert_eq!(
        segs[0].utc_at(250, 1e6).as_deref(),
        Some("2026-11-25T12:00:00.000250Z")
    );
    assert_eq!(
        segs[1].utc_at(700, 1e6).as_deref(),
        Some("2026-11-25T12:00:01.500100Z")
    );

    // Reads stop at the retune and say which segment they came from.
    let mut buf = vec![Complex32::default(); 256];
    let mut got = Vec::new();
    let mut all = Vec::new();
    loop {
        let (n, seg) = src.read_segment_block(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.push((n, seg));
        all.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, vec![(256, 0), (256, 0), (88, 0), (256, 1), (144, 1)]);
    assert_eq!(all, ramp(1000), "every sample, in order");

    assert_eq!(segment_index(&segs, -5), 0);
    assert_eq!(segment_index(&segs, 599), 0);
    assert_eq!(segment_index(&segs, 600), 1);
    assert_eq!(segment_holding(&segs, 500, 100), Some(0));
    assert_eq!(
        segment_holding(&segs, 500, 101),
        None,
        "straddles the retune"
    );
    assert_eq!(segment_holding(&segs, 600, 400), Some(1));
}

#[test]
fn center_freq_override_applies_to_every_segment() {
    let dir = TempDir::new("override");
    let meta = write_two_segments(&dir);
    let opts = InputOptions {
        center_freq_hz: Some(5.8e9),
        ..Default::default()
    };
    let src = open_input(meta.to_str().unwrap(), &opts).unwrap();
    assert!(src.segments().iter().all(|s| s.frequency_hz == Some(5.8e9)));
}

#[test]
fn raw_input_is_one_segment() {
    let dir = TempDir::new("raw");
    let p = dir.path("x.cf32");
    std::fs::write(&p, vec![0u8; 800]).unwrap();
    let opts = InputOptions {
        sample_rate_hz: Some(1e6),
        center_freq_hz: Some(2.4e9),
        ..Default::default()
    };
    let mut src = open_input(p.to_str().unwrap(), &opts).unwrap();
    assert_eq!(src.segments(), &[CaptureSegment::new(0, Some(2.4e9))]);
    let mut buf = vec![Complex32::default(); 1000];
    assert_eq!(src.read_segment_block(&mut buf).unwrap(), (100, 0));
    assert_eq!(src.read_segment_block(&mut buf).unwrap(), (0, 0));
}

fn meta_with_captures(captures: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6, "core:version": "1.0.0"},
        "captures": captures,
    }))
    .unwrap()
}

#[test]
fn bad_segments_are_one_line_errors() {
    let p = Path::new("x.sigmf-meta");
    let out_of_order = meta_with_captures(json!([
        {"core:sample_start": 0}, {"core:sample_start": 500}, {"core:sample_start": 500}
    ]));
    let e = parse_sigmf_meta(&out_of_order, p).unwrap_err().to_string();
    assert!(e.contains("captures[2].core:sample_start"), "{e}");
    assert!(e.contains("increasing"), "{e}");
    let missing = meta_with_captures(json!([{"core:sample_start": 0}, {"core:frequency": 1.0}]));
    let e = parse_sigmf_meta(&missing, p).unwrap_err().to_string();
    assert!(
        e.contains("captures[1].core:sample_start` is missing"),
        "{e}"
    );
    let bad_time = meta_with_captures(json!([{"core:sample_start": 0, "core:datetime": "noon"}]));
    let e = parse_sigmf_meta(&bad_time, p).unwrap_err().to_string();
    assert!(e.contains("captures[0].core:datetime"), "{e}");
    assert!(!e.contains('\n'));
    // No captures at all: one segment at 0 without a centre.
    let none = meta_with_captures(Value::Null);
    let m = parse_sigmf_meta(&none, p).unwrap();
    assert_eq!(m.captures, vec![CaptureSegment::new(0, None)]);
}

#[test]
fn datetimes_parse_and_format() {
    let t = parse_datetime_ns("1970-01-01T00:00:00Z").unwrap();
    assert_eq!(t, 0);
    let t = parse_datetime_ns("2000-03-01T00:00:00.5Z").unwrap();
    assert_eq!(t, 951_868_800 * 1_000_000_000 + 500_000_000);
    assert_eq!(format_utc_ns(t), "2000-03-01T00:00:00.500000Z");
    // Zones other than Z are converted to UTC; a missing zone is UTC.
    assert_eq!(
        parse_datetime_ns("2026-11-25T13:30:00+01:30"),
        parse_datetime_ns("2026-11-25T12:00:00Z")
    );
    assert_eq!(
        parse_datetime_ns("2026-11-25T12:00:00"),
        parse_datetime_ns("2026-11-25T12:00:00.000000000Z")
    );
    assert_eq!(format_utc_ns(-1_000), "1969-12-31T23:59:59.999999Z");
    for bad in [
        "",
        "2026-13-01T00:00:00Z",
        "2026-11-25 12:00",
        "2026-11-25T12:00:00Q",
    ] {
        assert_eq!(parse_datetime_ns(bad), None, "{bad}");
    }
    // Leap years and month ends round-trip.
    for s in [
        "2024-02-29T23:59:59.999999Z",
        "2100-12-31T00:00:00.000001Z",
        "1999-01-01T12:34:56.000000Z",
    ] {
        assert_eq!(format_utc_ns(parse_datetime_ns(s).unwrap()), s);
    }
}

#[test]
fn annotated_copy_keeps_everything_and_never_touches_the_data() {
    let dir = TempDir::new("annotate");
    let meta = write_two_segments(&dir);
    let data = meta.with_extension("sigmf-data");
    let before = std::fs::read(&data).unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("droneid:serial_number".into(), json!("ABC"));
    let ann = Annotation {
        sample_start: 10,
        sample_count: 20,
        label: "DroneID".into(),
        freq_lower_edge_hz: Some(2410e6),
        freq_upper_edge_hz: Some(2419e6),
        comment: Some("serial ABC, type 0x11".into()),
        extra,
    };
    let out = dir.path("sub");
    std::fs::create_dir_all(&out).unwrap();
    let out = out.join("copy.sigmf-meta");
    write_annotated_copy(&meta, &out, &[ann], Some("../scan.sigmf-data")).unwrap();
    assert_eq!(std::fs::read(&data).unwrap(), before);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["captures"][1]["core:frequency"], json!(2444.5e6));
    assert_eq!(v["global"]["core:dataset"], json!("../scan.sigmf-data"));
    assert_eq!(
        v["global"]["core:extensions"],
        json!([{"name": "droneid", "version": "1.0.0", "optional": true}])
    );
    let a = &v["annotations"][0];
    assert_eq!(a["core:label"], json!("DroneID"));
    assert_eq!(a["core:comment"], json!("serial ABC, type 0x11"));
    assert_eq!(a["droneid:serial_number"], json!("ABC"));
    // The copy is a readable recording whose data is the original's.
    let mut src = open_input(out.to_str().unwrap(), &InputOptions::default()).unwrap();
    assert_eq!(src.segments().len(), 2);
    let mut buf = vec![Complex32::default(); 2000];
    assert_eq!(src.read_block(&mut buf).unwrap(), 1000);
}
