//! PNG plots: a spectrogram of a capture with the decoded bursts boxed and labelled, and the
//! QPSK constellation of a burst.
//!
//! [`Spectrogram`] accumulates power spectra (Hann window, non-overlapping FFTs) from a stream
//! of any length with bounded memory: when it holds `2 × max_columns` columns it averages
//! neighbouring pairs and doubles the FFT frames per column. [`render_spectrogram`] draws it
//! (time in ms across, frequency in MHz up, power in dB as a colour map) with one box per
//! [`BurstMark`]; [`render_constellation`] draws equalised data symbols.
//!
//! Text uses DejaVu Sans (ASCII subset, embedded: `fonts/LICENSE-DejaVu.txt`), so nothing is
//! needed from the system at run time.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use droneid_core::Complex32;
use plotters::prelude::*;
use plotters::style::FontStyle;
use rustfft::{Fft, FftPlanner};

use crate::OutputError;

const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans-ascii.ttf");
const FONT_NAME: &str = "sans-serif";

/// Registers the embedded font once.
fn font() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // The bundled file is a valid TrueType font; a failure would only lose the text.
        let _ = plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT);
        let _ = plotters::style::register_font(FONT_NAME, FontStyle::Bold, FONT);
    });
}

/// Time-averaged power spectra of a stream, with bounded memory.
pub struct Spectrogram {
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
    fft: Arc<dyn Fft<f32>>,
    fft_len: usize,
    window: Vec<f32>,
    buf: Vec<Complex32>,
    filled: usize,
    scratch: Vec<Complex32>,
    /// Finished columns, `fft_len` powers each, DC in the middle (FFT-shifted).
    columns: Vec<Vec<f32>>,
    acc: Vec<f32>,
    acc_frames: usize,
    frames_per_column: usize,
    max_columns: usize,
    samples: u64,
}

impl std::fmt::Debug for Spectrogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectrogram")
            .field("fft_len", &self.fft_len)
            .field("columns", &self.columns.len())
            .field("frames_per_column", &self.frames_per_column)
            .finish()
    }
}

impl Spectrogram {
    /// A spectrogram of a stream at `sample_rate_hz` (Hz) centred on `center_freq_hz` (Hz,
    /// when known: the frequency axis is then absolute). `fft_len`: frequency bins (a power of
    /// two is fastest), `None` for about 120 kHz per bin (128..2048). `max_columns` (≥ 16):
    /// time columns kept are between `max_columns` and `2 × max_columns` for long streams.
    pub fn new(
        sample_rate_hz: f64,
        center_freq_hz: Option<f64>,
        fft_len: Option<usize>,
        max_columns: usize,
    ) -> Self {
        let fft_len = fft_len
            .unwrap_or_else(|| ((sample_rate_hz / 120e3).max(1.0) as usize).next_power_of_two())
            .clamp(16, 8192);
        let fft = FftPlanner::new().plan_fft_forward(fft_len);
        let window = (0..fft_len)
            .map(|i| {
                let x = std::f32::consts::PI * (i as f32 + 0.5) / fft_len as f32;
                x.sin().powi(2)
            })
            .collect();
        Self {
            sample_rate_hz,
            center_freq_hz,
            scratch: vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()],
            fft,
            fft_len,
            window,
            buf: vec![Complex32::new(0.0, 0.0); fft_len],
            filled: 0,
            columns: Vec::new(),
            acc: vec![0.0; fft_len],
            acc_frames: 0,
            frames_per_column: 1,
            max_columns: max_columns.max(16),
            samples: 0,
        }
    }

    /// Adds the stream's next samples.
    pub fn push(&mut self, mut samples: &[Complex32]) {
        self.samples += samples.len() as u64;
        while !samples.is_empty() {
            let n = (self.fft_len - self.filled).min(samples.len());
            self.buf[self.filled..self.filled + n].copy_from_slice(&samples[..n]);
            self.filled += n;
            samples = &samples[n..];
            if self.filled == self.fft_len {
                self.filled = 0;
                self.frame();
            }
        }
    }

    fn frame(&mut self) {
        for (v, w) in self.buf.iter_mut().zip(&self.window) {
            *v *= *w;
        }
        self.fft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let half = self.fft_len / 2;
        for (k, v) in self.buf.iter().enumerate() {
            self.acc[(k + half) % self.fft_len] += v.norm_sqr();
        }
        self.acc_frames += 1;
        if self.acc_frames == self.frames_per_column {
            let scale = 1.0 / self.acc_frames as f32;
            self.columns
                .push(self.acc.iter().map(|p| p * scale).collect());
            self.acc.fill(0.0);
            self.acc_frames = 0;
            if self.columns.len() >= 2 * self.max_columns {
                self.merge_pairs();
            }
        }
    }

    /// Halves the time resolution: averages neighbouring columns.
    fn merge_pairs(&mut self) {
        let old = std::mem::take(&mut self.columns);
        self.columns = old
            .chunks(2)
            .map(|p| match p {
                [a, b] => a.iter().zip(b).map(|(x, y)| 0.5 * (x + y)).collect(),
                [a] => a.clone(),
                _ => unreachable!("chunks(2)"),
            })
            .collect();
        self.frames_per_column *= 2;
    }

    /// Time columns so far.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// Seconds of stream per column.
    pub fn column_s(&self) -> f64 {
        (self.frames_per_column * self.fft_len) as f64 / self.sample_rate_hz
    }

    /// Samples pushed.
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

/// A burst to box on the spectrogram.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstMark {
    /// Start, s from the start of the stream.
    pub start_s: f64,
    /// Length, s.
    pub duration_s: f64,
    /// Centre relative to the capture centre, Hz.
    pub freq_offset_hz: f64,
    /// Occupied bandwidth, Hz (9.015 MHz for DroneID).
    pub bandwidth_hz: f64,
    /// Text above the box (e.g. `SERIAL #123`, or `CRC fail`).
    pub label: String,
    /// Drawn in white when true, red when false (CRC failure).
    pub ok: bool,
}

/// Viridis-like colour map, `t` in [0, 1].
fn colour(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (72, 36, 117),
        (64, 67, 135),
        (52, 94, 141),
        (41, 120, 142),
        (32, 144, 140),
        (34, 167, 132),
        (121, 209, 81),
        (253, 231, 37),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + f * (y as f64 - x as f64)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Writes an RGB buffer as a PNG file.
fn write_png(path: &Path, rgb: &[u8], w: u32, h: u32) -> Result<(), OutputError> {
    let file = std::fs::File::create(path).map_err(|e| plot_err(path, e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| plot_err(path, e))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| plot_err(path, e))?;
    writer.finish().map_err(|e| plot_err(path, e))
}

/// Size of the spectrogram PNG, pixels.
pub const SPECTROGRAM_SIZE: (u32, u32) = (1600, 900);
/// Size of a constellation PNG, pixels.
pub const CONSTELLATION_SIZE: (u32, u32) = (720, 760);

/// Draws `spec` with `marks` boxed and labelled to a PNG file of [`SPECTROGRAM_SIZE`].
///
/// Power is shown in dB from the 5th percentile (noise floor) to the maximum, at most 60 dB.
/// Errors: [`OutputError::Plot`] when nothing was pushed or the file cannot be written.
pub fn render_spectrogram(
    spec: &Spectrogram,
    marks: &[BurstMark],
    title: &str,
    path: &Path,
) -> Result<(), OutputError> {
    font();
    if spec.columns.is_empty() {
        return Err(plot_err(path, "the capture is shorter than one FFT frame"));
    }
    let (w, h) = SPECTROGRAM_SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    let duration_ms = spec.columns.len() as f64 * spec.column_s() * 1e3;
    let fs = spec.sample_rate_hz;
    let centre_mhz = spec.center_freq_hz.unwrap_or(0.0) / 1e6;
    let (f_lo, f_hi) = (centre_mhz - fs / 2e6, centre_mhz + fs / 2e6);
    // dB range.
    let mut db: Vec<f32> = spec
        .columns
        .iter()
        .flat_map(|c| c.iter().map(|p| 10.0 * (p.max(1e-30)).log10()))
        .collect();
    let lo_idx = db.len() / 20;
    let mut sorted = db.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let floor = sorted[lo_idx] as f64;
    let top = sorted[sorted.len() - 1] as f64;
    let (db_lo, db_hi) = (floor, top.min(floor + 60.0).max(floor + 10.0));
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
        let (main, bar) = root.split_horizontally(w - 130);
        let freq_label = if spec.center_freq_hz.is_some() {
            "frequency (MHz)"
        } else {
            "frequency offset from capture centre (MHz)"
        };
        let mut chart = ChartBuilder::on(&main)
            .caption(title, (FONT_NAME, 26))
            .margin(12)
            .x_label_area_size(56)
            .y_label_area_size(86)
            .build_cartesian_2d(0.0..duration_ms, f_lo..f_hi)
            .map_err(|e| plot_err(path, e))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (ms)")
            .y_desc(freq_label)
            .label_style((FONT_NAME, 17))
            .axis_desc_style((FONT_NAME, 20))
            .x_labels(12)
            .y_labels(12)
            .draw()
            .map_err(|e| plot_err(path, e))?;
        // Heat map, pixel by pixel (nearest column/bin; the maximum over merged columns would
        // hide the noise floor).
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let (pw, ph) = ((xr.end - xr.start) as usize, (yr.end - yr.start) as usize);
        let ncols = spec.columns.len();
        let nbins = spec.fft_len;
        for px in 0..pw {
            let c = (px * ncols / pw.max(1)).min(ncols - 1);
            for py in 0..ph {
                // Row 0 is the top: the highest frequency.
                let b = ((ph - 1 - py) * nbins / ph.max(1)).min(nbins - 1);
                let v = db[c * nbins + b] as f64;
                let col = colour((v - db_lo) / (db_hi - db_lo));
                root.draw_pixel((xr.start + px as i32, yr.start + py as i32), &col)
                    .map_err(|e| plot_err(path, e))?;
            }
        }
        db.clear();
        // Burst boxes and labels.
        for m in marks {
            let t0 = m.start_s * 1e3;
            let t1 = (m.start_s + m.duration_s) * 1e3;
            let f0 = centre_mhz + (m.freq_offset_hz - m.bandwidth_hz / 2.0) / 1e6;
            let f1 = centre_mhz + (m.freq_offset_hz + m.bandwidth_hz / 2.0) / 1e6;
            let colr = if m.ok { WHITE } else { RGBColor(255, 60, 60) };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(t0, f0), (t1, f1)],
                    colr.stroke_width(2),
                )))
                .map_err(|e| plot_err(path, e))?;
            // Label above the box's top-left corner, kept inside the plotting area.
            let (x, y) = chart.backend_coord(&(t0, f1));
            let style = TextStyle::from((FONT_NAME, 15).into_font()).color(&colr);
            let (tw, th) = root
                .estimate_text_size(&m.label, &style)
                .map_err(|e| plot_err(path, e))?;
            let (tw, th) = (tw as i32 + 8, th as i32 + 4);
            let x = x.min(xr.end - tw).max(xr.start);
            let y = if y - th - 2 < yr.start { y + th + 2 } else { y };
            root.draw(&Rectangle::new(
                [(x, y - th - 2), (x + tw, y - 2)],
                RGBColor(0, 0, 0).mix(0.55).filled(),
            ))
            .map_err(|e| plot_err(path, e))?;
            root.draw_text(&m.label, &style, (x + 4, y - th))
                .map_err(|e| plot_err(path, e))?;
        }
        // Colour bar.
        let bar = bar.margin(60, 70, 10, 40);
        let mut bar_chart = ChartBuilder::on(&bar)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, db_lo..db_hi)
            .map_err(|e| plot_err(path, e))?;
        bar_chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc("power (dB, arbitrary reference)")
            .label_style((FONT_NAME, 15))
            .axis_desc_style((FONT_NAME, 15))
            .y_labels(8)
            .draw()
            .map_err(|e| plot_err(path, e))?;
        let steps = 120;
        bar_chart
            .draw_series((0..steps).map(|i| {
                let a = db_lo + (db_hi - db_lo) * i as f64 / steps as f64;
                let b = db_lo + (db_hi - db_lo) * (i + 1) as f64 / steps as f64;
                Rectangle::new(
                    [(0.0, a), (1.0, b)],
                    colour(i as f64 / (steps - 1) as f64).filled(),
                )
            }))
            .map_err(|e| plot_err(path, e))?;
        root.present().map_err(|e| plot_err(path, e))?;
    }
    write_png(path, &rgb, w, h)
}

/// Error vector magnitude of a QPSK constellation, from [`qpsk_evm`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evm {
    /// RMS error vector over the RMS amplitude of the ideal constellation (1): 0.05 is 5 %.
    pub rms: f64,
    /// Points measured (the finite ones).
    pub points: usize,
}

impl Evm {
    /// EVM in percent.
    pub fn percent(&self) -> f64 {
        100.0 * self.rms
    }

    /// EVM in dB, `20·log10(rms)` (−∞ for a perfect constellation).
    pub fn db(&self) -> f64 {
        20.0 * self.rms.log10()
    }
}

/// EVM of equalised QPSK symbols: `points` are first scaled by one real factor to unit mean
/// power (mean |p|² = 1, the power of the ideal points (±1 ± j)/√2); the EVM is then the RMS
/// distance of every scaled point to the nearest ideal point (the hard decision), relative to
/// the ideal points' RMS amplitude of 1. Computed in f64; non-finite points are left out.
/// `None` when no finite point with non-zero power remains.
///
/// As every decision-directed EVM, it saturates at low SNR (points that cross into the wrong
/// quadrant count against the wrong ideal point), and the normalisation to the received mean
/// power (signal plus noise) makes it read a little low there; at high SNR it is the RMS
/// error over the signal amplitude.
pub fn qpsk_evm(points: &[Complex32]) -> Option<Evm> {
    let finite = || {
        points
            .iter()
            .filter(|p| p.re.is_finite() && p.im.is_finite())
            .map(|p| (p.re as f64, p.im as f64))
    };
    let (mut n, mut power) = (0usize, 0.0f64);
    for (re, im) in finite() {
        n += 1;
        power += re * re + im * im;
    }
    if n == 0 || !power.is_normal() {
        return None;
    }
    let scale = (n as f64 / power).sqrt();
    let a = std::f64::consts::FRAC_1_SQRT_2;
    let err: f64 = finite()
        .map(|(re, im)| {
            let (re, im) = (re * scale, im * scale);
            let (dr, di) = (re - a.copysign(re), im - a.copysign(im));
            dr * dr + di * di
        })
        .sum();
    Some(Evm {
        rms: (err / n as f64).sqrt(),
        points: n,
    })
}

/// Draws equalised QPSK points (`Y/Ĥ`, unit mean power expected; drawn as given) to a PNG
/// file of [`CONSTELLATION_SIZE`]: the I/Q plane from −1.6 to 1.6, the ideal points marked,
/// `title` on top and the number of points and the [`qpsk_evm`] in the corner.
pub fn render_constellation(
    points: &[Complex32],
    title: &str,
    path: &Path,
) -> Result<(), OutputError> {
    font();
    let (w, h) = CONSTELLATION_SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
        let lim = 1.6f64;
        // The largest font size up to 20 at which the title fits the width.
        let mut title_size = 20;
        while title_size > 10 {
            let style = TextStyle::from((FONT_NAME, title_size).into_font());
            let (tw, _) = root
                .estimate_text_size(title, &style)
                .map_err(|e| plot_err(path, e))?;
            if tw + 2 * 14 <= w {
                break;
            }
            title_size -= 1;
        }
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT_NAME, title_size))
            .margin(14)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(-lim..lim, -lim..lim)
            .map_err(|e| plot_err(path, e))?;
        chart
            .configure_mesh()
            .x_desc("in-phase (I)")
            .y_desc("quadrature (Q)")
            .label_style((FONT_NAME, 16))
            .axis_desc_style((FONT_NAME, 18))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(200, 200, 200))
            .draw()
            .map_err(|e| plot_err(path, e))?;
        let blue = RGBColor(31, 119, 180).mix(0.35);
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| p.re.is_finite() && p.im.is_finite())
                    .map(|p| {
                        let (x, y) = (
                            (p.re as f64).clamp(-lim, lim),
                            (p.im as f64).clamp(-lim, lim),
                        );
                        Circle::new((x, y), 2, blue.filled())
                    }),
            )
            .map_err(|e| plot_err(path, e))?;
        let a = std::f64::consts::FRAC_1_SQRT_2;
        chart
            .draw_series(
                [(a, a), (-a, a), (-a, -a), (a, -a)]
                    .map(|c| Cross::new(c, 8, RGBColor(214, 39, 40).stroke_width(3))),
            )
            .map_err(|e| plot_err(path, e))?;
        let note = qpsk_evm(points).map_or("no symbols".to_string(), |e| {
            format!(
                "{} symbols, EVM {:.1} % ({:.1} dB)",
                e.points,
                e.percent(),
                e.db()
            )
        });
        let (x, y) = chart.backend_coord(&(-lim, lim));
        root.draw_text(
            &note,
            &TextStyle::from((FONT_NAME, 16).into_font()).color(&BLACK),
            (x + 8, y + 6),
        )
        .map_err(|e| plot_err(path, e))?;
        root.present().map_err(|e| plot_err(path, e))?;
    }
    write_png(path, &rgb, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectrogram_memory_is_bounded() {
        let mut s = Spectrogram::new(15.36e6, None, Some(64), 16);
        let block = vec![Complex32::new(1.0, 0.0); 64 * 1000];
        for _ in 0..10 {
            s.push(&block);
        }
        assert!(s.columns() >= 16 && s.columns() < 32, "{}", s.columns());
        assert_eq!(s.samples(), 640_000);
        // 10 000 frames in total, columns × frames per column covers them but for the rest.
        let covered = (s.columns() as f64 * s.column_s() * 15.36e6) as u64;
        assert!(
            covered <= 640_000 && covered > 640_000 - 64 * 1024,
            "{covered}"
        );
    }

    /// Straight from the definition, in f64: normalise to unit mean power, then the RMS
    /// distance to the nearest of the four ideal points (searched, not by sign).
    fn evm_reference(points: &[(f64, f64)]) -> f64 {
        let n = points.len() as f64;
        let power: f64 = points.iter().map(|(r, i)| r * r + i * i).sum::<f64>() / n;
        let s = 1.0 / power.sqrt();
        let a = std::f64::consts::FRAC_1_SQRT_2;
        let ideal = [(a, a), (-a, a), (-a, -a), (a, -a)];
        let sum: f64 = points
            .iter()
            .map(|(r, i)| {
                ideal
                    .iter()
                    .map(|(ir, ii)| (r * s - ir).powi(2) + (i * s - ii).powi(2))
                    .fold(f64::INFINITY, f64::min)
            })
            .sum();
        (sum / n).sqrt()
    }

    fn c32(p: &[(f64, f64)]) -> Vec<Complex32> {
        p.iter()
            .map(|&(r, i)| Complex32::new(r as f32, i as f32))
            .collect()
    }

    #[test]
    fn evm_of_ideal_points_is_zero() {
        let a = std::f32::consts::FRAC_1_SQRT_2;
        let p = [Complex32::new(a, -a), Complex32::new(-a, a)];
        let e = qpsk_evm(&p).unwrap();
        assert!(e.rms < 1e-7 && e.points == 2, "{e:?}");
        // Any common gain is normalised away.
        let p = [Complex32::new(3.0, 3.0), Complex32::new(-3.0, 3.0)];
        assert!(qpsk_evm(&p).unwrap().rms < 1e-7);
        assert!(qpsk_evm(&[]).is_none());
        assert!(qpsk_evm(&[Complex32::new(0.0, 0.0)]).is_none());
        assert!(qpsk_evm(&[Complex32::new(f32::NAN, 0.0)]).is_none());
    }

    #[test]
    fn evm_of_known_errors() {
        let a = std::f64::consts::FRAC_1_SQRT_2;
        let quads = [(a, a), (-a, a), (-a, -a), (a, -a)];
        // Every ideal point rotated by 10°: unit power kept, error |e^{jθ} − 1| = 2·sin(θ/2).
        let th = 10f64.to_radians();
        let rot: Vec<(f64, f64)> = quads
            .iter()
            .map(|(r, i)| (r * th.cos() - i * th.sin(), r * th.sin() + i * th.cos()))
            .collect();
        let e = qpsk_evm(&c32(&rot)).unwrap();
        let want = 2.0 * (th / 2.0).sin();
        assert!((e.rms - want).abs() < 1e-6, "{} vs {want}", e.rms);
        assert!((e.percent() - 100.0 * want).abs() < 1e-4);
        assert!((e.db() - 20.0 * want.log10()).abs() < 1e-4);
        assert_eq!(e.points, 4);
        // Half the points 1.2× too long, half 0.8×: mean power 1.04, normalised by √1.04.
        let mut amp = Vec::new();
        for (k, (r, i)) in quads.iter().enumerate() {
            let g = if k % 2 == 0 { 1.2 } else { 0.8 };
            amp.push((r * g, i * g));
        }
        let s = 1.04f64.sqrt();
        let want = ((((1.2 / s) - 1.0).powi(2) + ((0.8 / s) - 1.0).powi(2)) / 2.0).sqrt();
        let e = qpsk_evm(&c32(&amp)).unwrap();
        assert!((e.rms - want).abs() < 1e-6, "{} vs {want}", e.rms);
        // 10 % EVM is −20 dB.
        let e = Evm {
            rms: 0.1,
            points: 1,
        };
        assert!((e.percent() - 10.0).abs() < 1e-12 && (e.db() + 20.0).abs() < 1e-12);
        // Non-finite points are left out.
        let mut with_nan = c32(&rot);
        with_nan.push(Complex32::new(f32::INFINITY, 0.0));
        assert_eq!(qpsk_evm(&with_nan).unwrap().points, 4);
    }

    /// Pseudo-random noisy constellations (a fixed LCG; SNR from 30 to 0 dB, points crossing
    /// quadrants included) against the scalar reference.
    #[test]
    fn evm_matches_reference() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let a = std::f64::consts::FRAC_1_SQRT_2;
        for (t, sigma) in [0.03, 0.1, 0.3, 0.7, 1.0].into_iter().enumerate() {
            let gain = 0.5 + t as f64;
            let p: Vec<(f64, f64)> = (0..2000)
                .map(|_| {
                    let (u1, u2) = (uniform(), uniform());
                    // Box–Muller: two unit-variance Gaussians, σ/√2 per component.
                    let r = (-2.0 * u1.ln()).sqrt() * sigma * a;
                    let (nr, ni) = (
                        r * (2.0 * std::f64::consts::PI * u2).cos(),
                        r * (2.0 * std::f64::consts::PI * u2).sin(),
                    );
                    let q = (uniform() * 4.0) as usize;
                    let (ir, ii) = [(a, a), (-a, a), (-a, -a), (a, -a)][q];
                    (gain * (ir + nr), gain * (ii + ni))
                })
                .collect();
            // The reference on the f32-rounded points the function sees.
            let pf: Vec<(f64, f64)> = c32(&p).iter().map(|z| (z.re as f64, z.im as f64)).collect();
            let want = evm_reference(&pf);
            let got = qpsk_evm(&c32(&p)).unwrap().rms;
            assert!(
                (got - want).abs() < 1e-9 * want.max(1.0),
                "σ {sigma}: {got} vs {want}"
            );
            // Below the decision threshold, about σ (normalised by √(1 + σ²)).
            if sigma <= 0.1 {
                assert!((got - sigma).abs() < 0.1 * sigma, "σ {sigma}: {got}");
            }
        }
    }
}
