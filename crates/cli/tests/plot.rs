//! `droneid plot`: spectrogram and constellation PNGs of a synthesised two-drone capture.

use std::path::Path;
use std::process::{Command, Output};

fn droneid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droneid"))
        .args(args)
        .output()
        .expect("run droneid")
}

/// An RGB image read back from a PNG.
struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn px(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.width + x);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Mean colour of the (2r+1)² patch around (x, y).
    fn mean(&self, x: usize, y: usize, r: usize) -> [f64; 3] {
        let mut acc = [0.0; 3];
        let mut n = 0.0;
        for yy in y - r..=y + r {
            for xx in x - r..=x + r {
                let p = self.px(xx, yy);
                for c in 0..3 {
                    acc[c] += p[c] as f64;
                }
                n += 1.0;
            }
        }
        acc.map(|v| v / n)
    }
}

fn read_png(path: &Path) -> Image {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG image data");
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    Image {
        width: info.width as usize,
        height: info.height as usize,
        rgb: buf,
    }
}

/// A heat-map pixel: a colour of the map, not white, black or grey (axes, text, background).
fn is_heat(p: [u8; 3]) -> bool {
    !(p[0] == p[1] && p[1] == p[2])
}

/// The spectrogram's heat map: (x0, x1, y0, y1) inclusive, found as the run of map colours
/// through the middle of the main panel (left of the colour bar).
fn heat_map_area(img: &Image) -> (usize, usize, usize, usize) {
    let main_w = img.width - 130;
    let (yc, xc) = (img.height / 2, main_w / 2);
    assert!(is_heat(img.px(xc, yc)), "no heat map at the centre");
    let mut x0 = xc;
    while x0 > 0 && is_heat(img.px(x0 - 1, yc)) {
        x0 -= 1;
    }
    let mut x1 = xc;
    while x1 + 1 < main_w && is_heat(img.px(x1 + 1, yc)) {
        x1 += 1;
    }
    let mut y0 = yc;
    while y0 > 0 && is_heat(img.px(xc, y0 - 1)) {
        y0 -= 1;
    }
    let mut y1 = yc;
    while y1 + 1 < img.height && is_heat(img.px(xc, y1 + 1)) {
        y1 += 1;
    }
    (x0, x1, y0, y1)
}

/// The spectrogram shows every burst of the truth where it is (time × frequency offset): hot
/// inside, a white box edge at its start, and the noise floor's dark colours away from bursts.
fn check_spectrogram_pixels(png: &Path, base: &str) {
    let img = read_png(png);
    let (x0, x1, y0, y1) = heat_map_area(&img);
    let (pw, ph) = ((x1 - x0 + 1) as f64, (y1 - y0 + 1) as f64);
    assert!(
        pw > 1000.0 && ph > 600.0,
        "heat map {x0}..{x1} × {y0}..{y1}"
    );
    let data_bytes = std::fs::metadata(format!("{base}.sigmf-data"))
        .unwrap()
        .len();
    let truth: Vec<serde_json::Value> = std::fs::read_to_string(format!("{base}.truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(truth.len(), 4);
    let fs = truth[0]["sample_rate_hz"].as_f64().unwrap();
    let duration_s = (data_bytes / 8) as f64 / fs;
    let x_of = |t_s: f64| x0 as f64 + t_s / duration_s * pw;
    // Row 0 is the highest frequency; the axis spans the capture's ±fs/2.
    let y_of = |f_hz: f64| y0 as f64 + (0.5 - f_hz / fs) * ph;
    let mut noise_g = Vec::new();
    for t in &truth {
        let start = t["time_s"].as_f64().unwrap();
        let len = t["length_samples"].as_f64().unwrap() / fs;
        let f = t["total_freq_offset_hz"].as_f64().unwrap();
        let (xm, ym) = (x_of(start + len / 2.0) as usize, y_of(f) as usize);
        let hot = img.mean(xm, ym, 2);
        // Far from any burst in frequency: the band edge on the other side of the centre.
        let quiet_f = if f > 0.0 { -0.45 * fs } else { 0.45 * fs };
        let quiet = img.mean(xm, y_of(quiet_f) as usize, 2);
        noise_g.push(quiet[1]);
        assert!(
            hot[1] > quiet[1] + 30.0,
            "burst at {start} s, {f} Hz: colour {hot:?} at ({xm}, {ym}) is not hotter than the \
             floor {quiet:?}"
        );
        // The box's left edge (2 px, white) near the burst's start, at its centre row.
        let xs = x_of(start) as usize;
        let white = (xs.saturating_sub(4)..=xs + 4).any(|x| img.px(x, ym) == [255, 255, 255]);
        assert!(
            white,
            "no white box edge near ({xs}, {ym}) for the burst at {start} s"
        );
    }
    // The floor is the map's dark end (viridis purple/blue).
    for g in noise_g {
        assert!(g < 110.0, "noise floor too bright: green {g}");
    }
}

/// A constellation plot has its QPSK points in the four quadrants around the centre and
/// nothing in the middle: the points' colour is found at ±45°, never at the origin.
fn check_constellation_pixels(png: &Path) {
    let img = read_png(png);
    let points = |x0: usize, x1: usize, y0: usize, y1: usize| {
        let mut n = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let p = img.px(x, y);
                // The points' blue (31, 119, 180) at 35 % over white.
                if p[2] > p[0] + 30 && p[2] > p[1] && p != [255, 255, 255] {
                    n += 1;
                }
            }
        }
        n
    };
    let (w, h) = (img.width, img.height);
    let (cx, cy) = (w / 2, h / 2);
    let q = w / 8;
    let quadrants = [
        points(cx - 3 * q, cx - q / 2, cy - 3 * q, cy - q / 2),
        points(cx + q / 2, cx + 3 * q, cy - 3 * q, cy - q / 2),
        points(cx - 3 * q, cx - q / 2, cy + q / 2, cy + 3 * q),
        points(cx + q / 2, cx + 3 * q, cy + q / 2, cy + 3 * q),
    ];
    let centre = points(cx - q / 4, cx + q / 4, cy - q / 4, cy + q / 4);
    for (k, n) in quadrants.iter().enumerate() {
        assert!(
            *n > 200,
            "{}: quadrant {k} has {n} point pixels",
            png.display()
        );
    }
    assert!(
        centre * 20 < quadrants.iter().min().copied().unwrap(),
        "{}: {centre} point pixels at the origin vs {quadrants:?}",
        png.display()
    );
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

/// One stdout line per constellation file, `NAME: EVM P % (D dB), N symbols, burst … SNR S
/// dB…`: the EVM of 3600 equalised symbols at 12 dB, near the noise's 10^(−SNR/20) (the
/// frame's SNR estimate), with P and D the same value.
fn check_evm_lines(stdout: &str, names: &[String]) {
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("EVM")).collect();
    assert_eq!(lines.len(), names.len(), "stdout:\n{stdout}");
    for (line, name) in lines.iter().zip(names) {
        let num = |after: &str, until: &str| -> f64 {
            let rest = &line[line.find(after).unwrap_or_else(|| panic!("{line}")) + after.len()..];
            rest[..rest.find(until).unwrap_or_else(|| panic!("{line}"))]
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("{line}: {e}"))
        };
        assert!(line.starts_with(&format!("{name}: EVM ")), "{line}");
        let percent = num("EVM ", "%");
        let db = num("% (", "dB)");
        let symbols = num("dB), ", "symbols");
        let snr = num("SNR ", "dB");
        assert_eq!(symbols, 3600.0, "{line}");
        assert!(
            (20.0 * (percent / 100.0).log10() - db).abs() < 0.06,
            "{line}"
        );
        // Decisions and the normalisation to the received power make it read a little low.
        assert!(
            db < -snr + 1.5 && db > -snr - 3.0 && percent > 10.0 && percent < 40.0,
            "{line}: EVM {db} dB at SNR {snr} dB"
        );
    }
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
    check_spectrogram_pixels(&out.join("spectrogram.png"), b);
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
        check_constellation_pixels(&out.join(n));
    }
    check_evm_lines(&String::from_utf8_lossy(&o.stdout), &names);
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
