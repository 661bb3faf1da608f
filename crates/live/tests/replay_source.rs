//! `SoapySource` against the SoapySDR replay module (scripts/soapy-replay, built by
//! scripts/setup.sh into target/soapy/). The recordings are ramps, so every delivered sample
//! says which stream index it is: positions across overflows and retunes are checked exactly.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use droneid_live::{
    BlockSource, Complex32, Gain, LiveConfig, ScanConfig, ScanFeedback, SoapySource, StreamFormat,
};

/// Loads the replay module; fails (never skips) when scripts/setup.sh has not built it.
fn plugin() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/soapy");
        let dir = dir.canonicalize().unwrap_or(dir);
        assert!(
            dir.join("libreplaySupport.so").exists(),
            "the SoapySDR replay module is missing from {}: run scripts/setup.sh first",
            dir.display()
        );
        std::env::set_var("SOAPY_SDR_PLUGIN_PATH", &dir);
    });
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("droneid-live-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Sample i = (i mod 2^24, i div 2^24 + tag): exact in f32.
fn ramp_value(i: u64, tag: f32) -> Complex32 {
    Complex32::new((i % (1 << 24)) as f32, (i >> 24) as f32 + tag)
}

fn write_cf32(path: &Path, n: u64, f: impl Fn(u64) -> Complex32) {
    let mut bytes = Vec::with_capacity(n as usize * 8);
    for i in 0..n {
        let z = f(i);
        bytes.extend_from_slice(&z.re.to_le_bytes());
        bytes.extend_from_slice(&z.im.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// Reads until the end of the stream (or `limit` stream samples); returns (index, sample, freq)
/// runs as (first index, samples, centre) and checks the bookkeeping on the way.
fn drain(src: &mut SoapySource, limit: u64) -> Vec<(u64, Vec<Complex32>, f64)> {
    let mut buf = vec![Complex32::new(0.0, 0.0); 50_000];
    let mut index = 0u64;
    let mut runs = Vec::new();
    while index < limit {
        let r = src.read_block(&mut buf).unwrap();
        if r.samples == 0 && !r.timed_out {
            break;
        }
        index += r.lost_before;
        if r.samples > 0 {
            runs.push((index, buf[..r.samples].to_vec(), r.center_freq_hz.unwrap()));
        }
        index += r.samples as u64;
    }
    runs
}

#[test]
fn unpaced_delivers_every_sample_in_order_then_ends() {
    plugin();
    let d = tmp_dir("unpaced");
    let f = d.join("ramp.cf32");
    let n = 1_000_003;
    write_cf32(&f, n, |i| ramp_value(i, 0.0));
    let cfg = LiveConfig::new(
        &format!("driver=replay,file={},rate=15.36e6,paced=0", f.display()),
        15.36e6,
    );
    let mut src = SoapySource::open(&cfg).unwrap();
    let desc = src.description();
    assert!(desc.live);
    assert_eq!(desc.sample_rate_hz, 15.36e6);
    assert!(src.has_timestamps());
    let runs = drain(&mut src, u64::MAX);
    let mut next = 0;
    for (start, samples, _) in &runs {
        assert_eq!(*start, next, "no sample may be lost unpaced");
        for (k, z) in samples.iter().enumerate() {
            assert_eq!(*z, ramp_value(start + k as u64, 0.0));
        }
        next = start + samples.len() as u64;
    }
    assert_eq!(next, n);
    // The end stays the end.
    let mut buf = vec![Complex32::new(0.0, 0.0); 16];
    let r = src.read_block(&mut buf).unwrap();
    assert_eq!((r.samples, r.timed_out), (0, false));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn cs16_stream_is_converted() {
    plugin();
    let d = tmp_dir("cs16");
    let f = d.join("steps.cf32");
    let n = 100_000;
    // k / 4096 becomes the integer k on a CS16 stream (replay scale 4096), then k / 32768 here.
    let val = |i: u64| {
        let k = (i % 2001) as f32 - 1000.0;
        Complex32::new(k / 4096.0, -k / 4096.0)
    };
    write_cf32(&f, n, val);
    let mut cfg = LiveConfig::new(
        &format!("driver=replay,file={},rate=20e6,paced=0", f.display()),
        20e6,
    );
    cfg.format = StreamFormat::Cs16;
    let mut src = SoapySource::open(&cfg).unwrap();
    let runs = drain(&mut src, u64::MAX);
    let total: usize = runs.iter().map(|r| r.1.len()).sum();
    assert_eq!(total as u64, n);
    for (start, samples, _) in &runs {
        for (k, z) in samples.iter().enumerate() {
            let want = val(start + k as u64) * (4096.0 / 32768.0);
            assert_eq!(*z, want);
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn paced_overflow_loses_samples_at_exact_positions() {
    plugin();
    let d = tmp_dir("overflow");
    let f = d.join("ramp.cf32");
    let n = 600_000; // 0.6 s at 1 MS/s
    write_cf32(&f, n, |i| ramp_value(i, 0.0));
    let cfg = LiveConfig::new(
        &format!(
            "driver=replay,file={},rate=1e6,paced=1,buffer_ms=40",
            f.display()
        ),
        1e6,
    );
    let mut src = SoapySource::open(&cfg).unwrap();
    let mut buf = vec![Complex32::new(0.0, 0.0); 20_000];
    let mut index = 0u64;
    let mut lost = 0u64;
    let mut reads = 0;
    loop {
        let r = src.read_block(&mut buf).unwrap();
        if r.samples == 0 && !r.timed_out {
            break;
        }
        index += r.lost_before;
        lost += r.lost_before;
        for (k, z) in buf[..r.samples].iter().enumerate() {
            assert_eq!(
                *z,
                ramp_value(index + k as u64, 0.0),
                "sample {k} of a read"
            );
        }
        index += r.samples as u64;
        reads += 1;
        // Fall behind twice: the 40 ms device buffer cannot hold 150 ms.
        if reads == 3 || reads == 12 {
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    assert_eq!(index, n, "delivered + lost must cover the whole recording");
    let c: std::collections::HashMap<_, _> = src.counters().into_iter().collect();
    assert!(c["device overflows"] >= 2, "{c:?}");
    assert_eq!(c["samples lost to overflows"], lost);
    assert!(lost >= 2 * 100_000, "lost {lost}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn open_err(cfg: &LiveConfig) -> String {
    match SoapySource::open(cfg) {
        Ok(_) => panic!("opening {cfg:?} should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn settings_outside_the_device_are_refused_with_its_ranges() {
    plugin();
    let d = tmp_dir("ranges");
    let f = d.join("x.cf32");
    write_cf32(&f, 1000, |i| ramp_value(i, 0.0));
    let dev = format!("driver=replay,file={},rate=15.36e6", f.display());

    let e = open_err(&LiveConfig::new("driver=nosuchdriver", 15.36e6));
    assert!(
        e.contains("no SoapySDR device matches 'driver=nosuchdriver'"),
        "{e}"
    );

    let e = open_err(&LiveConfig::new(&dev, 30.72e6));
    assert!(
        e.contains("sample rate 30.72 MS/s") && e.contains("offers 15.36 MS/s"),
        "{e}"
    );

    let mut c = LiveConfig::new(&dev, 15.36e6);
    c.center_freq_hz = Some(10e9);
    let e = open_err(&c);
    assert!(e.contains("10000 MHz") && e.contains("70–6000 MHz"), "{e}");

    let mut c = LiveConfig::new(&dev, 15.36e6);
    c.antenna = Some("TX/RX".into());
    let e = open_err(&c);
    assert!(
        e.contains("antenna 'TX/RX'") && e.contains("offers RX"),
        "{e}"
    );

    let mut c = LiveConfig::new(&dev, 15.36e6);
    c.channel = 1;
    let e = open_err(&c);
    assert!(
        e.contains("channel 1") && e.contains("receive channels 0..=0"),
        "{e}"
    );

    let mut c = LiveConfig::new(&dev, 15.36e6);
    c.gain = Gain::Db(99.0);
    let e = open_err(&c);
    assert!(e.contains("gain 99 dB") && e.contains("0..60 dB"), "{e}");

    let mut c = LiveConfig::new(&dev, 15.36e6);
    c.gain = Gain::Agc;
    c.antenna = Some("RX".into());
    c.center_freq_hz = Some(2429.5e6);
    let src = SoapySource::open(&c).unwrap();
    assert_eq!(src.description().center_freq_hz, Some(2429.5e6));

    // A missing file is the driver's error, passed on.
    let e = open_err(&LiveConfig::new(
        "driver=replay,file=/nonexistent/x.cf32,rate=15.36e6",
        15.36e6,
    ));
    assert!(e.contains("cannot open"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn scan_hops_discards_settling_and_locks_on_frames() {
    plugin();
    let d = tmp_dir("scan");
    let (a, b) = (d.join("a.cf32"), d.join("b.cf32"));
    let n = 400_000; // 0.4 s at 1 MS/s
    write_cf32(&a, n, |i| ramp_value(i, 1.0));
    write_cf32(&b, n, |i| ramp_value(i, 2.0));
    let fb = ScanFeedback::new();
    let mut scan = ScanConfig::new(vec![2400e6, 2414.5e6, 2429.5e6], fb.clone());
    scan.dwell_s = 0.02;
    scan.hold_s = 0.02;
    scan.settle_s = 0.001;
    let mut cfg = LiveConfig::new(
        &format!(
            "driver=replay,rate=1e6,paced=0,noise=0,map=2414.5e6:{};2429.5e6:{}",
            a.display(),
            b.display()
        ),
        1e6,
    );
    cfg.scan = Some(scan);
    let mut src = SoapySource::open(&cfg).unwrap();
    let status = src.status();
    let mut buf = vec![Complex32::new(0.0, 0.0); 4096];
    let mut index = 0u64;
    let mut visited = Vec::new();
    let mut settle_lost = 0;
    let mut locked_until = 0u64;
    loop {
        let r = src.read_block(&mut buf).unwrap();
        if r.samples == 0 && !r.timed_out {
            break;
        }
        if r.lost_before > 0 {
            settle_lost += r.lost_before;
        }
        index += r.lost_before;
        let f = r.center_freq_hz.unwrap();
        let tag = if f == 2414.5e6 {
            1.0
        } else if f == 2429.5e6 {
            2.0
        } else {
            -1.0
        };
        for (k, z) in buf[..r.samples].iter().enumerate() {
            let i = index + k as u64;
            if tag < 0.0 {
                assert_eq!(
                    *z,
                    Complex32::new(0.0, 0.0),
                    "unmapped frequency serves zeros"
                );
            } else {
                assert_eq!(*z, ramp_value(i, tag), "sample {i} at {f}");
            }
        }
        if visited.last() != Some(&f) {
            visited.push(f);
        }
        // The "pipeline" decodes a frame every 5 ms on channel B during the first 0.25 s.
        if tag == 2.0 && index < 250_000 {
            fb.note_frame(index as i64);
            locked_until = index;
        }
        index += r.samples as u64;
    }
    assert_eq!(index, n);
    // Visits 2400 → A → B, stays on B while frames arrive (well past one dwell), then hops on.
    assert_eq!(&visited[..3], &[2400e6, 2414.5e6, 2429.5e6], "{visited:?}");
    assert!(locked_until > 200_000, "locked until {locked_until}");
    assert!(
        visited.len() >= 4,
        "hopping resumes after the frames stop: {visited:?}"
    );
    assert_eq!(settle_lost, status.settle_lost());
    assert_eq!(settle_lost, 1000 * status.retunes());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn paced_stream_ends_at_the_end_of_the_recording() {
    plugin();
    let d = tmp_dir("paced-end");
    let f = d.join("ramp.cf32");
    let n = 100_003; // not a whole number of replay packets
    write_cf32(&f, n, |i| ramp_value(i, 0.0));
    let cfg = LiveConfig::new(&format!("driver=replay,file={},rate=1e6", f.display()), 1e6);
    let mut src = SoapySource::open(&cfg).unwrap();
    let t0 = std::time::Instant::now();
    let runs = drain(&mut src, u64::MAX);
    let el = t0.elapsed().as_secs_f64();
    let total: u64 = runs.iter().map(|r| r.1.len() as u64).sum();
    assert_eq!(total, n);
    assert!(
        (0.09..0.5).contains(&el),
        "paced at real time: {el} s for 0.1 s"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_device_lost_mid_stream_is_an_io_error_with_the_reason() {
    plugin();
    let d = tmp_dir("lost");
    let f = d.join("ramp.cf32");
    write_cf32(&f, 200_000, |i| ramp_value(i, 0.0));
    let cfg = LiveConfig::new(
        &format!(
            "driver=replay,file={},rate=15.36e6,paced=0,fail_after=100000",
            f.display()
        ),
        15.36e6,
    );
    let mut src = SoapySource::open(&cfg).unwrap();
    let mut buf = vec![Complex32::new(0.0, 0.0); 30_000];
    let mut got = 0;
    let err = loop {
        match src.read_block(&mut buf) {
            Ok(r) => {
                assert!(r.samples > 0, "no end of stream before the failure");
                got += r.samples;
            }
            Err(e) => break e.to_string(),
        }
    };
    assert!(
        got >= 100_000,
        "samples before the failure are delivered: {got}"
    );
    assert!(
        err.contains("stream error") && err.contains("StreamError"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
