//! `droneid live` and `droneid devices` against the SoapySDR replay module (scripts/soapy-replay,
//! built by scripts/setup.sh into target/soapy/). No radio hardware needed.
//!
//! The captures are made by `droneid synth` into Cargo's per-target temporary folder and reused
//! between runs (same seed, same bytes). The tests run one at a time (a lock) because the paced
//! ones must keep up with real time on a 2-core CI machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_droneid");
/// Seeds of the synthetic captures.
const SEED_WIDE: u64 = 11;
const SEED_SCAN: u64 = 12;
/// The wide capture: 3 drones on random channels at 61.44 MS/s, a burst each every 200 ms.
const WIDE_RATE: &str = "61.44M";
const WIDE_BURSTS: usize = 15;
/// Centre frequency given to both `live` and `decode` (the synthetic SigMF has none).
const CENTER: &str = "2444.5M";

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The replay module's folder; fails (never skips) when scripts/setup.sh has not built it.
fn plugin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/soapy");
    let dir = dir.canonicalize().unwrap_or(dir);
    assert!(
        dir.join("libreplaySupport.so").exists(),
        "the SoapySDR replay module is missing from {}: run scripts/setup.sh first",
        dir.display()
    );
    dir
}

fn work_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-tests");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn droneid(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env("SOAPY_SDR_PLUGIN_PATH", plugin_dir());
    c
}

fn run(args: &[&str]) -> Output {
    droneid(args).output().unwrap()
}

fn synth(base: &Path, args: &[&str]) {
    if base.with_extension("sigmf-meta").exists() && base.with_extension("truth.jsonl").exists() {
        return;
    }
    let mut all = vec!["synth", "--output", base.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(
        out.status.success(),
        "synth: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 1 s at 61.44 MS/s, 3 drones on random channels, 15 bursts, 10 dB.
fn wide_capture() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let base = work_dir().join(format!("wide-{SEED_WIDE}"));
        synth(
            &base,
            &[
                "--sample-rate",
                WIDE_RATE,
                "--drones",
                "3",
                "--random-offsets",
                "--interval-ms",
                "200",
                "--duration-s",
                "1.0",
                "--snr-db",
                "10",
                "--seed",
                &SEED_WIDE.to_string(),
            ],
        );
        base.with_extension("sigmf-meta")
    })
    .clone()
}

/// 2 s at 15.36 MS/s, one drone at the capture centre, a burst every 100 ms.
fn scan_capture() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let base = work_dir().join(format!("scan-{SEED_SCAN}"));
        synth(
            &base,
            &[
                "--sample-rate",
                "15.36M",
                "--interval-ms",
                "100",
                "--duration-s",
                "2.0",
                "--snr-db",
                "10",
                "--seed",
                &SEED_SCAN.to_string(),
            ],
        );
        base.with_extension("sigmf-meta")
    })
    .clone()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The number after `key ` in the summary ("processed 123", "lost 0").
fn summary_number(stderr: &str, key: &str) -> u64 {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains("samples (") && l.starts_with("droneid live:"))
        .unwrap_or_else(|| panic!("no summary in:\n{stderr}"));
    if key == "samples" {
        return line["droneid live: ".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
    }
    let rest = &line[line.find(&format!("{key} ")).unwrap() + key.len() + 1..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn paced_replay_decodes_every_burst_like_decode() {
    let _g = serial();
    let cap = wide_capture();
    let rec = work_dir().join("bursts-paced");
    let _ = std::fs::remove_dir_all(&rec);
    let dev = format!("driver=replay,file={}", cap.display());
    let t0 = Instant::now();
    let live = run(&[
        "live",
        "--device",
        &dev,
        "--center-freq",
        CENTER,
        "--record-bursts",
        rec.to_str().unwrap(),
    ]);
    let wall = t0.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&live.stderr);
    assert!(live.status.success(), "{err}");
    assert!(wall >= 0.95, "paced replay of 1 s took {wall} s");
    let dec = run(&[
        "decode",
        cap.to_str().unwrap(),
        "-q",
        "--center-freq",
        CENTER,
    ]);
    assert!(dec.status.success());
    let (l, d) = (
        lines(&String::from_utf8_lossy(&live.stdout)),
        lines(&String::from_utf8_lossy(&dec.stdout)),
    );
    assert_eq!(d.len(), WIDE_BURSTS, "decode finds every burst");
    assert_eq!(l, d, "live must report the same frames as decode\n{err}");
    assert_eq!(summary_number(&err, "samples"), 61_440_000);
    assert_eq!(summary_number(&err, "lost"), 0, "{err}");
    assert!(err.contains("device overflows 0"), "{err}");
    assert!(err.contains("3 drone(s)"), "{err}");
    // One SigMF recording per frame, annotated at the frame's start.
    let metas: Vec<_> = std::fs::read_dir(&rec)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".sigmf-meta"))
        .collect();
    assert_eq!(metas.len(), WIDE_BURSTS, "{err}");
    for m in &metas {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(m).unwrap()).unwrap();
        let start = v["global"]["droneid:stream_sample"].as_u64().unwrap();
        let off = v["annotations"][0]["core:sample_start"].as_u64().unwrap();
        assert!(
            d.iter()
                .any(|f| f["start_sample"].as_u64() == Some(start + off)),
            "{} annotates a burst start no frame has",
            m.display()
        );
        assert_eq!(v["global"]["core:sample_rate"].as_f64(), Some(61.44e6));
    }
}

#[test]
fn unpaced_replay_accounts_for_every_sample() {
    let _g = serial();
    let cap = wide_capture();
    let dev = format!("driver=replay,file={},paced=0", cap.display());
    let t0 = Instant::now();
    let out = run(&[
        "live",
        "--device",
        &dev,
        "--format",
        "cs16",
        "--status-interval",
        "0",
    ]);
    let wall = t0.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let served = summary_number(&err, "samples");
    let processed = summary_number(&err, "processed");
    let lost = summary_number(&err, "lost");
    assert_eq!(served, 61_440_000, "{err}");
    assert_eq!(
        processed + lost,
        served,
        "drops + processed = served\n{err}"
    );
    eprintln!(
        "unpaced CS16 replay: {:.1} MS/s served, {:.1} % processed",
        served as f64 / wall / 1e6,
        100.0 * processed as f64 / served as f64
    );
}

#[test]
fn scan_finds_and_locks_onto_the_channel_with_bursts() {
    let _g = serial();
    let cap = scan_capture();
    // Only 2429.5 MHz carries the recording; 2414.5 and 2444.5 MHz serve noise.
    let dev = format!("driver=replay,map=2429.5e6:{}", cap.display());
    let out = run(&[
        "live",
        "--device",
        &dev,
        "--sample-rate",
        "15.36M",
        "--scan",
        "2414.5e6,2429.5e6,2444.5e6",
        "--dwell-ms",
        "300",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let frames = lines(&String::from_utf8_lossy(&out.stdout));
    // First dwell on 2414.5 MHz (0.3 s), then 2429.5 MHz for the remaining ~1.7 s: bursts
    // every 100 ms, all decoded once locked.
    assert!(frames.len() >= 15, "{} frames\n{err}", frames.len());
    for f in &frames {
        let c = f["center_freq_hz"].as_f64().unwrap();
        assert!((c - 2429.5e6).abs() < 50e3, "frame at {c}");
    }
    assert!(err.contains("retunes 1 "), "one hop, then locked:\n{err}");
    let first = frames[0]["time_s"].as_f64().unwrap();
    assert!((0.3..0.45).contains(&first), "first frame at {first} s");
    // The summary counts the detector's candidates per centre: every decoded burst was one on
    // 2429.5 MHz; the noise on the other two triggers none.
    let per_centre = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("scan candidates per centre: "))
        .unwrap_or_else(|| panic!("no per-centre candidates in:\n{err}"));
    let counts: Vec<(&str, u64)> = per_centre
        .split(", ")
        .map(|e| {
            let (f, n) = e.rsplit_once(' ').unwrap();
            (f, n.parse().unwrap())
        })
        .collect();
    assert_eq!(counts.len(), 3, "{per_centre}");
    assert_eq!(counts[0], ("2414.500 MHz", 0), "{per_centre}");
    assert_eq!(counts[1].0, "2429.500 MHz", "{per_centre}");
    assert!(counts[1].1 >= frames.len() as u64, "{per_centre}\n{err}");
    assert_eq!(counts[2], ("2444.500 MHz", 0), "{per_centre}");
}

#[test]
fn bad_settings_fail_before_streaming_with_the_device_ranges() {
    let _g = serial();
    let cap = wide_capture();
    let dev = format!("driver=replay,file={}", cap.display());
    let cases: [(&[&str], &str); 5] = [
        (
            &["--device", "driver=nosuchradio"],
            "no SoapySDR device matches 'driver=nosuchradio'",
        ),
        (
            &["--device", &dev, "--sample-rate", "30.72M"],
            "offers 61.44 MS/s",
        ),
        (&["--device", &dev, "--center-freq", "10G"], "70–6000 MHz"),
        (&["--device", &dev, "--antenna", "TX/RX"], "offers RX"),
        (&["--device", &dev, "--gain", "75"], "0..60 dB"),
    ];
    for (args, want) in cases {
        let mut all = vec!["live"];
        all.extend_from_slice(args);
        let t0 = Instant::now();
        let out = run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: wanted '{want}' in: {err}");
        assert!(out.stdout.is_empty());
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "refused before streaming"
        );
    }
}

#[test]
fn a_device_lost_mid_stream_ends_with_exit_1_after_writing_the_frames() {
    let _g = serial();
    let cap = wide_capture();
    // The device "disappears" after 0.5 s of signal.
    let dev = format!(
        "driver=replay,file={},paced=0,fail_after=30720000",
        cap.display()
    );
    let out = run(&[
        "live",
        "--device",
        &dev,
        "--center-freq",
        CENTER,
        "--buffer-ms",
        "2000",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("stream error"), "{err}");
    assert!(err.contains("frames decoded so far were written"), "{err}");
    let frames = lines(&String::from_utf8_lossy(&out.stdout));
    assert!(!frames.is_empty(), "{err}");
    assert!(frames.iter().all(|f| f["time_s"].as_f64().unwrap() < 0.5));
}

#[test]
fn sigint_stops_flushes_outputs_and_prints_the_summary() {
    let _g = serial();
    let cap = wide_capture();
    let dir = work_dir();
    let (jsonl, geo) = (dir.join("sigint.jsonl"), dir.join("sigint.geojson"));
    let _ = std::fs::remove_file(&jsonl);
    let _ = std::fs::remove_file(&geo);
    // Endless: the recording loops.
    let dev = format!("driver=replay,file={},loop=1", cap.display());
    let mut child = droneid(&[
        "live",
        "--device",
        &dev,
        "--center-freq",
        CENTER,
        "--output",
        jsonl.to_str().unwrap(),
        "--geojson",
        geo.to_str().unwrap(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("droneid live did not stop within 10 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    let frames = lines(&std::fs::read_to_string(&jsonl).unwrap());
    assert!(
        frames.len() >= 20,
        "{} frames in 2.5 s of a looping 1 s capture\n{err}",
        frames.len()
    );
    let g: Value = serde_json::from_str(&std::fs::read_to_string(&geo).unwrap()).unwrap();
    assert_eq!(g["type"], "FeatureCollection");
    assert!(
        err.contains("droneid live:") && err.contains("CRC24 ok"),
        "{err}"
    );
    assert!(err.contains("SERIAL"), "per-drone summary: {err}");
}

#[test]
fn devices_lists_the_replay_device_with_its_ranges() {
    let _g = serial();
    let cap = wide_capture();
    let dev = format!("driver=replay,file={}", cap.display());
    let out = run(&["devices", "--device", &dev]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "driver=replay",
        "61.44 MS/s",
        "70–6000 MHz",
        "antennas RX",
        "CF32,CS16",
    ] {
        assert!(text.contains(want), "wanted '{want}' in:\n{text}");
    }
    let none = run(&["devices", "--device", "driver=nosuchradio"]);
    assert_eq!(none.status.code(), Some(2));
}
