//! The bundled captures decode to exactly what `signals/expected.jsonl` says.

mod common;

use serde_json::Value;

fn expected() -> Vec<Value> {
    let text = std::fs::read_to_string(common::signals_dir().join("expected.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Fields of `expected.jsonl` that are not frame keys (or are approximate) and are checked apart.
const NOT_EXACT: [&str; 4] = [
    "file",
    "sample_rate",
    "approx_start_sample",
    "freq_offset_hz_approx",
];

#[test]
fn bundled_signals_decode_exactly() {
    for exp in expected() {
        let file = exp["file"].as_str().unwrap();
        let meta = file.rsplit_once('.').unwrap().0.to_string() + ".sigmf-meta";
        let path = common::signals_dir().join(&meta);
        let (frames, stats) = common::decode_path(path.to_str().unwrap(), false);
        assert_eq!(
            frames.len(),
            1,
            "{file}: one frame expected, got {} ({stats:?})",
            frames.len()
        );
        let json = Value::Object(frames[0].to_json());
        for (key, want) in exp.as_object().unwrap() {
            if NOT_EXACT.contains(&key.as_str()) {
                continue;
            }
            let got = &json[key.as_str()];
            assert_eq!(got, want, "{file}: key {key}");
        }
        // ±8 samples: the first CP of a burst without symbol 0 is 72 or 80 samples (spec §2.3).
        let start = json["start_sample"].as_i64().unwrap() as f64;
        let want_start = exp["approx_start_sample"].as_f64().unwrap();
        assert!(
            (start - want_start).abs() <= 8.0,
            "{file}: start {start} vs {want_start}"
        );
        let f = json["freq_offset_hz"].as_f64().unwrap();
        let want_f = exp["freq_offset_hz_approx"].as_f64().unwrap();
        // The real burst's CFO is ~1 kHz; 150 Hz is a tenth of the CP-based estimator's range at this SNR.
        assert!(
            (f - want_f).abs() < 150.0,
            "{file}: freq offset {f} vs {want_f}"
        );
        assert_eq!(json["symbols"], 8, "{file}: no symbol 0 in either capture");
    }
}
