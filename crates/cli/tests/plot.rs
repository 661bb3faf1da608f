//! `droneid plot`: spectrogram and constellation PNGs of a synthesised two-drone capture.

use std::path::Path;
use std::process::{Command, Output};

fn droneid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(args)
        .output()
        .expect("run droneid")
}

/// Decodes a PNG file fully; returns (width, height).
fn png_size(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG image data");
    // Not a blank image: the plot has many colours.
    let px = &buf[..info.buffer_size()];
    let distinct: std::collections::HashSet<&[u8]> = px.chunks(3).take(2_000_000).collect();
    assert!(
        distinct.len() > 20,
        "{}: only {} colours",
        path.display(),
        distinct.len()
    );
    (info.width, info.height)
}

#[test]
fn spectrogram_and_constellations() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("two");
    let b = base.to_str().unwrap();
    let o = droneid(&[
        "synth",
        "--output",
        b,
        "--sample-rate",
        "30.72M",
        "--drones",
        "2",
        "--random-offsets",
        "--bursts",
        "2",
        "--interval-ms",
        "20",
        "--snr-db",
        "12",
        "--seed",
        "11",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("plots");
    let meta = format!("{b}.sigmf-meta");
    let o = droneid(&["plot", &meta, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(png_size(&out.join("spectrogram.png")), (1600, 900));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("constellation-"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "constellation-001.png",
            "constellation-002.png",
            "constellation-003.png",
            "constellation-004.png"
        ]
    );
    for n in &names {
        assert_eq!(png_size(&out.join(n)), (720, 760));
    }
    // A cap on the constellations, and a raw input with its flags.
    let out2 = dir.path().join("plots2");
    let o = droneid(&[
        "plot",
        &format!("{b}.sigmf-data"),
        "--sample-rate",
        "30.72M",
        "--format",
        "cf32",
        "--center-freq",
        "2.4445G",
        "--max-constellations",
        "1",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out2.join("spectrogram.png").is_file());
    assert!(out2.join("constellation-001.png").is_file());
    assert!(!out2.join("constellation-002.png").exists());
}

#[test]
fn stdin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = droneid(&[
        "plot",
        "-",
        "--sample-rate",
        "20M",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not - (stdin)"));
}
