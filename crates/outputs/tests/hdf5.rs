//! The HDF5 writer on a synthesised three-drone capture: read back with the hdf5 crate and with
//! `h5dump` (which must be installed: `scripts/setup.sh` installs hdf5-tools).

mod common;

use std::path::Path;
use std::process::Command;

use droneid_outputs::{CaptureAttributes, FrameRow, FrameSink, Hdf5Writer, OutputError, TrackRow};
use droneid_payload::MessageBody;
use droneid_tracks::TrackBuilder;
use hdf5_metno as hdf5;

fn attrs() -> CaptureAttributes {
    CaptureAttributes {
        source: "synthetic three-drone capture".into(),
        sample_rate_hz: common::RATE,
        center_freq_hz: Some(2.4445e9),
        software_version: env!("CARGO_PKG_VERSION").into(),
        command_line: "droneid decode test.sigmf-meta --hdf5 out.h5".into(),
    }
}

/// Runs `h5dump ARGS PATH`; panics (the test fails) when h5dump is missing or fails.
fn h5dump(args: &[&str], path: &Path) -> String {
    let out = Command::new("h5dump")
        .args(args)
        .arg(path)
        .output()
        .expect("h5dump must be installed (Debian package hdf5-tools, see scripts/setup.sh)");
    assert!(
        out.status.success(),
        "h5dump {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("h5dump output is UTF-8")
}

#[test]
fn frames_tracks_and_attributes_read_back() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.h5");
    let mut w = Hdf5Writer::create(&path, &attrs()).unwrap();
    let mut builder = TrackBuilder::new();
    for f in &frames {
        builder.push(f);
        w.frame(f).unwrap();
    }
    let tracks = builder.finish();
    w.finish(&tracks).unwrap();
    assert_eq!(w.rows(), frames.len());
    drop(w);

    let file = hdf5::File::open(&path).unwrap();
    let ds = file.dataset("frames").unwrap();
    assert_eq!(ds.shape(), vec![frames.len()]);
    assert!(ds.is_chunked());
    let rows: Vec<FrameRow> = ds.read_raw().unwrap();
    let mut telemetry = 0;
    for (r, f) in rows.iter().zip(&frames) {
        assert_eq!(r.start_sample, f.start_sample);
        assert_eq!(r.time_s, f.time_s());
        assert_eq!(r.block, f.block);
        assert!(r.crc24_ok && r.crc16_ok);
        assert_eq!(r.serial_number.as_str(), f.serial_number().unwrap());
        assert!((r.center_freq_hz - (2.4445e9 + f.freq_offset_hz)).abs() < 1e-3);
        match &f.message.body {
            MessageBody::Telemetry(t) => {
                telemetry += 1;
                assert_eq!(r.msg_type, 0x10);
                assert_eq!(r.sequence_number, t.sequence_number);
                assert_eq!(r.latitude_raw, t.latitude_raw);
                assert_eq!(r.v_up_raw, t.v_up_raw);
                assert_eq!(r.gps_time_ms, t.gps_time_ms);
                assert_eq!(r.drone_lat_deg, t.drone_lat_deg());
                assert_eq!(r.yaw_deg, t.yaw_deg());
                assert_eq!(r.uuid.as_str(), t.uuid);
            }
            MessageBody::Identity(_) => {
                assert_eq!(r.msg_type, 0x11);
                assert_eq!(r.sequence_number, 0);
                assert!(r.drone_lat_deg.is_nan() && r.height_m.is_nan());
            }
            MessageBody::Encrypted(_) | MessageBody::Unknown => {
                panic!("synthetic frames are 0x10 or 0x11")
            }
        }
    }
    assert_eq!(telemetry, common::DRONES * common::BURSTS / 2);
    for r in &rows {
        assert!(!r.encrypted && r.packet_marker.is_empty() && r.session_id.is_empty());
    }

    // Per-drone tracks equal the tracks crate's points.
    let drones = file.group("drones").unwrap();
    assert_eq!(drones.member_names().unwrap().len(), common::DRONES);
    for d in &tracks.drones {
        let g = drones.group(&d.serial_number).unwrap();
        let track: Vec<TrackRow> = g.dataset("track").unwrap().read_raw().unwrap();
        assert_eq!(track.len(), d.points.len());
        assert!(!track.is_empty());
        for (r, p) in track.iter().zip(&d.points) {
            assert_eq!(r.start_sample, p.start_sample);
            assert_eq!(r.lat_deg, p.lat_deg);
            assert_eq!(r.lon_deg, p.lon_deg);
            assert_eq!(r.sequence_number, p.sequence_number);
            assert_eq!(r.height_m, p.height_raw as f64);
        }
        let n: u64 = g.attr("telemetry_frames").unwrap().read_scalar().unwrap();
        assert_eq!(n, d.telemetry_frames);
        let home: f64 = g.attr("home_lat_deg").unwrap().read_scalar().unwrap();
        assert_eq!(home, d.home.unwrap().lat_deg);
    }
    let rate: f64 = file.attr("sample_rate_hz").unwrap().read_scalar().unwrap();
    assert_eq!(rate, common::RATE);
    let total: u64 = file.attr("frames_total").unwrap().read_scalar().unwrap();
    assert_eq!(total, frames.len() as u64);
    let src: hdf5::types::VarLenUnicode = file.attr("source").unwrap().read_scalar().unwrap();
    assert_eq!(src.as_str(), "synthetic three-drone capture");

    // h5dump sees the same layout and values.
    let header = h5dump(&["-H"], &path);
    for key in [
        "DATASET \"frames\"",
        "H5T_COMPOUND",
        "\"drone_lat_deg\"",
        "\"gps_time_ms\"",
        "\"serial_number\"",
        "H5S_UNLIMITED",
        "GROUP \"drones\"",
        "ATTRIBUTE \"sample_rate_hz\"",
        "ATTRIBUTE \"command_line\"",
    ] {
        assert!(header.contains(key), "h5dump -H lacks {key}:\n{header}");
    }
    assert!(header.contains(&format!("( {} ) / ( H5S_UNLIMITED )", frames.len())));
    let data = h5dump(&["-d", "frames"], &path);
    for f in &frames {
        assert!(
            data.contains(&format!("\"{}\"", f.serial_number().unwrap())),
            "serial missing from h5dump -d frames"
        );
        assert!(data.contains(&f.start_sample.to_string()));
    }
}

/// The file on disk at any moment after a flush is complete: a copy taken while the writer is
/// still open (as a crash would leave it) opens with h5dump and holds every flushed row.
#[test]
fn file_of_a_killed_writer_is_readable() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.h5");
    let snapshot = dir.path().join("snapshot.h5");
    let mut w = Hdf5Writer::create(&path, &attrs()).unwrap();
    let n = 5;
    for f in &frames[..n] {
        w.frame(f).unwrap();
    }
    w.flush().unwrap();
    std::fs::copy(&path, &snapshot).unwrap();
    // Keep writing after the copy, and never finish: the copy must not depend on it.
    for f in &frames[n..] {
        w.frame(f).unwrap();
    }
    let header = h5dump(&["-H"], &snapshot);
    assert!(
        header.contains(&format!("( {n} ) / ( H5S_UNLIMITED )")),
        "{header}"
    );
    let data = h5dump(&["-d", "frames"], &snapshot);
    assert!(data.contains(&frames[n - 1].start_sample.to_string()));
    let file = hdf5::File::open(&snapshot).unwrap();
    let rows: Vec<FrameRow> = file.dataset("frames").unwrap().read_raw().unwrap();
    assert_eq!(rows.len(), n);
    assert_eq!(rows[n - 1].start_sample, frames[n - 1].start_sample);
    // Without a flush() the periodic flush still bounds what is lost.
    drop(w);
}

/// Set in the child process of [`killed_process_leaves_a_readable_file`]: the HDF5 path.
const CHILD_VAR: &str = "DRONEID_OUTPUTS_HDF5_CHILD";

/// A process killed (SIGKILL) while writing leaves a file that h5dump reads, with every row up
/// to the last flush; h5dump also reads it while the writer still has it open.
#[test]
fn killed_process_leaves_a_readable_file() {
    let frames = common::frames();
    if let Some(path) = std::env::var_os(CHILD_VAR) {
        // Child: write, flush, say so (a marker file: libtest may capture stdout), then wait
        // to be killed.
        let path = std::path::PathBuf::from(path);
        let mut w = Hdf5Writer::create(&path, &attrs()).unwrap();
        for f in &frames {
            w.frame(f).unwrap();
        }
        w.flush().unwrap();
        let tmp = path.with_extension("ready-tmp");
        std::fs::write(&tmp, frames.len().to_string()).unwrap();
        std::fs::rename(&tmp, path.with_extension("ready")).unwrap();
        std::thread::sleep(std::time::Duration::from_secs(120));
        std::process::exit(3);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.h5");
    let ready = path.with_extension("ready");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "killed_process_leaves_a_readable_file",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while !ready.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child exited early: {status}");
        }
        assert!(t.elapsed().as_secs() < 120, "child never got ready");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(&ready).unwrap(),
        frames.len().to_string()
    );
    // Still open in the child: readable all the same (no file lock).
    let header = h5dump(&["-H"], &path);
    let rows = format!("( {} ) / ( H5S_UNLIMITED )", frames.len());
    assert!(header.contains(&rows), "{header}");
    child.kill().unwrap();
    child.wait().unwrap();
    let header = h5dump(&["-H"], &path);
    assert!(header.contains(&rows), "{header}");
    let data = h5dump(&["-d", "frames"], &path);
    assert!(data.contains(&frames[frames.len() - 1].start_sample.to_string()));
    let file = hdf5::File::open(&path).unwrap();
    let read: Vec<FrameRow> = file.dataset("frames").unwrap().read_raw().unwrap();
    assert_eq!(read.len(), frames.len());
}

#[test]
fn unusable_paths_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("out.h5");
    let e = Hdf5Writer::create(&missing, &attrs()).unwrap_err();
    assert!(matches!(e, OutputError::Hdf5Create { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("out.h5") && msg.contains("No such file"),
        "{msg}"
    );
    let e = Hdf5Writer::create(dir.path(), &attrs()).unwrap_err();
    assert!(e.to_string().contains("directory"), "{e}");
}

/// Appending is fast enough for any decode rate (prints the measured rate).
#[test]
fn append_rate() {
    let frames = common::frames();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rate.h5");
    let mut w = Hdf5Writer::create(&path, &attrs()).unwrap();
    let n = 2000;
    let t = std::time::Instant::now();
    for i in 0..n {
        w.frame(&frames[i % frames.len()]).unwrap();
    }
    w.flush().unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    eprintln!(
        "HDF5 append rate: {rate:.0} frames/s (flush every {} frames)",
        Hdf5Writer::FLUSH_EVERY_FRAMES
    );
    // Bursts arrive at most a few hundred per second; 500/s leaves a wide margin on slow disks.
    assert!(rate > 500.0, "{rate:.0} frames/s");
    assert_eq!(w.rows(), n);
}

/// Encrypted CRYP/INFP frames (spec §5.8, hand-built blocks) next to a plaintext drone: their
/// rows carry `encrypted`, `packet_marker` and `session_id` and no coordinates, no track is
/// made for them, and `sessions/<id>` holds their counts; h5dump shows the columns.
#[test]
fn encrypted_rows_and_sessions_read_back() {
    use droneid_payload::{build_transport_block, EncryptedSpec, FlightInfo, PacketMarker};
    use droneid_receiver::Frame;
    let frame = |sample: i64, rec: &[u8]| {
        let block = build_transport_block(rec, None).unwrap();
        Frame::new(
            sample,
            common::RATE,
            1e6,
            Some(2.4445e9),
            15.0,
            9,
            true,
            2,
            block,
            0.0,
        )
    };
    let rec = |m, sid| EncryptedSpec::new(m, sid).to_record().unwrap();
    let (s1, s2) = ([0x1a, 0x2b, 0x3c, 0x4d], [0xde, 0xad, 0xbe, 0xef]);
    let frames = vec![
        frame(0, &rec(PacketMarker::Cryp, s1)),
        frame(10_000, &FlightInfo::example().to_record()),
        frame(20_000, &rec(PacketMarker::Infp, s1)),
        frame(30_000, &rec(PacketMarker::Infp, s2)),
        frame(40_000, &rec(PacketMarker::Infp, s1)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enc.h5");
    let mut w = Hdf5Writer::create(&path, &attrs()).unwrap();
    let mut builder = TrackBuilder::new();
    for f in &frames {
        builder.push(f);
        w.frame(f).unwrap();
    }
    let tracks = builder.finish();
    w.finish(&tracks).unwrap();
    drop(w);

    let file = hdf5::File::open(&path).unwrap();
    let rows: Vec<FrameRow> = file.dataset("frames").unwrap().read_raw().unwrap();
    assert_eq!(rows.len(), 5);
    let got: Vec<(bool, &str, &str)> = rows
        .iter()
        .map(|r| (r.encrypted, r.packet_marker.as_str(), r.session_id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (true, "CRYP", "1a2b3c4d"),
            (false, "", ""),
            (true, "INFP", "1a2b3c4d"),
            (true, "INFP", "deadbeef"),
            (true, "INFP", "1a2b3c4d"),
        ]
    );
    for r in rows.iter().filter(|r| r.encrypted) {
        assert!(r.crc24_ok && r.crc16_ok);
        assert!(r.serial_number.is_empty());
        for v in [
            r.drone_lat_deg,
            r.drone_lon_deg,
            r.app_lat_deg,
            r.app_lon_deg,
            r.home_lat_deg,
            r.home_lon_deg,
            r.height_m,
        ] {
            assert!(v.is_nan());
        }
        assert_eq!(
            (r.latitude_raw, r.longitude_raw, r.sequence_number),
            (0, 0, 0)
        );
    }
    assert!((rows[1].drone_lat_deg - 52.52).abs() < 1e-3);

    // Only the plaintext drone has a track; sessions/<id> for the encrypted ones.
    let drones = file.group("drones").unwrap();
    assert_eq!(drones.member_names().unwrap(), ["TESTSN0000000001"]);
    let sessions = file.group("sessions").unwrap();
    let mut names = sessions.member_names().unwrap();
    names.sort();
    assert_eq!(names, ["1a2b3c4d", "deadbeef"]);
    let g = sessions.group("1a2b3c4d").unwrap();
    assert!(g.dataset("track").is_err());
    let attr_u64 = |name: &str| -> u64 { g.attr(name).unwrap().read_scalar().unwrap() };
    assert_eq!(
        (
            attr_u64("frames"),
            attr_u64("cryp_frames"),
            attr_u64("infp_frames")
        ),
        (3, 1, 2)
    );
    let sid: hdf5::types::VarLenUnicode = g.attr("session_id").unwrap().read_scalar().unwrap();
    assert_eq!(sid.as_str(), "1a2b3c4d");
    let last: f64 = g.attr("last_seen_s").unwrap().read_scalar().unwrap();
    assert_eq!(last, 40_000.0 / common::RATE);
    let enc: u64 = file
        .attr("encrypted_frames")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(enc, 4);

    let header = h5dump(&["-H"], &path);
    for key in [
        "\"encrypted\"",
        "\"packet_marker\"",
        "\"session_id\"",
        "GROUP \"sessions\"",
    ] {
        assert!(header.contains(key), "h5dump -H lacks {key}:\n{header}");
    }
    let data = h5dump(&["-d", "frames"], &path);
    assert!(data.contains("\"deadbeef\"") && data.contains("\"CRYP\""));
}
