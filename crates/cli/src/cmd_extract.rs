//! `droneid extract INPUT --out DIR`: each decoded burst as its own SigMF recording, centred on
//! the burst and resampled to 15.36 MS/s (or 30.72 MS/s), with a margin before and after and
//! the decoded frame in its metadata.
//!
//! Two passes over the input: the first decodes it through the engine exactly as
//! `droneid decode` does; the second reads it again and cuts each burst's window out, mixes the
//! burst centre (channel offset plus CFO) to 0 Hz and resamples it with the receiver's own
//! polyphase `ChannelResampler`. (The polyphase channelizer crate makes fixed 15.36 MHz channels
//! on a grid at 30.72 MS/s for a whole band: a burst usually sits between two channel centres,
//! so it would still need a mix and a resample, and a continuous filter bank is the wrong tool
//! for ~1 ms around a few bursts.)

use std::path::PathBuf;

use clap::Args;
use droneid_core::{Complex32, BASE_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ};
use droneid_dsp::{ChannelResampler, ResamplerConfig};
use droneid_engine::{EngineConfig, FileSource, RunControl};
use droneid_io::{
    burst_len_samples, droneid_annotation, segment_index, SampleFormat, SampleSource, SigmfWriter,
};
use droneid_receiver::{Frame, ReceiverConfig};
use serde_json::{json, Map, Value};

use crate::common::{check_dir_writable, hz, open_recording, rate_hz, CliError};
use crate::placement::Placement;

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// Recording to cut bursts from: X.sigmf-meta / X.sigmf-data (SigMF) or a raw IQ file (not stdin).
    pub input: String,
    /// Folder for the recordings (one burst-S<start>-<MHz>.sigmf-{meta,data} pair per burst).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also extract bursts whose CRC24 failed.
    #[arg(long)]
    pub all: bool,
    /// Output sample rate: 15.36M (the burst's own rate) or 30.72M.
    #[arg(long, value_name = "HZ", default_value = "15.36M", value_parser = hz)]
    pub rate: f64,
    /// Margin kept before and after each burst, microseconds.
    #[arg(long, value_name = "US", default_value_t = 200.0)]
    pub margin_us: f64,
    /// Sample rate of a raw input (overrides SigMF): 15.36e6, 15360000 or 15.36M.
    #[arg(long, value_parser = rate_hz)]
    pub sample_rate: Option<f64>,
    /// Raw sample format: cf32, cf64, ci16, ci8, cu8.
    #[arg(long)]
    pub format: Option<String>,
    /// Capture centre frequency (overrides SigMF).
    #[arg(long, value_parser = hz)]
    pub center_freq: Option<f64>,
    /// Maximum turbo-decoder iterations (1..=16).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub iterations: u32,
    /// Do not print the summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A burst to cut: its frame's JSON line and where it sits in the input.
struct Cut {
    json: Map<String, Value>,
    /// Burst start, input samples.
    start: i64,
    /// Burst centre relative to the capture centre, Hz.
    offset_hz: f64,
    /// Absolute burst centre, when the capture centre is known.
    center_hz: Option<f64>,
    /// Input samples `[lo, hi)` to read (margins included, inside the burst's segment).
    lo: u64,
    hi: u64,
}

pub fn run(args: &ExtractArgs) -> Result<(), CliError> {
    if args.input == "-" {
        return Err(CliError::usage(
            "extract reads its input twice (decode, then cut): give a file, not stdin",
        ));
    }
    let out_rate = args.rate;
    if (out_rate - BASE_SAMPLE_RATE_HZ).abs() > 1.0
        && (out_rate - 2.0 * BASE_SAMPLE_RATE_HZ).abs() > 1.0
    {
        return Err(CliError::usage(format!(
            "--rate {out_rate} Hz: use 15.36M or 30.72M"
        )));
    }
    if !(args.margin_us.is_finite() && (0.0..=100_000.0).contains(&args.margin_us)) {
        return Err(CliError::usage(format!(
            "--margin-us {}: must be 0..=100000",
            args.margin_us
        )));
    }
    let open = || {
        open_recording(
            &args.input,
            args.sample_rate,
            args.format.as_deref(),
            args.center_freq,
        )
    };
    let source = open()?;
    let info = source.info().clone();
    let fs = info.sample_rate_hz;
    if fs < MIN_SAMPLE_RATE_HZ * 0.999 {
        return Err(CliError::usage(format!(
            "sample rate {:.6} MS/s of '{}' is below 4 MS/s, the lowest rate droneid decodes (narrower captures hold too few of the burst's 600 carriers) (--sample-rate)",
            fs / 1e6,
            info.path
        )));
    }
    if out_rate > fs * (1.0 + 1e-9) {
        return Err(CliError::usage(format!(
            "--rate {:.2} MS/s is above the input's {:.2} MS/s",
            out_rate / 1e6,
            fs / 1e6
        )));
    }
    check_dir_writable(&args.out, "--out")?;
    let segments = source.segments().to_vec();
    let mut placement = Placement::new(&source);

    // Pass 1: decode, as `droneid decode` does.
    let mut cfg = ReceiverConfig::new(fs);
    cfg.center_freq_hz = info.center_freq_hz;
    cfg.report_failed = args.all;
    cfg.max_iterations = args.iterations;
    let engine_cfg = EngineConfig::new(cfg);
    let mut frames: Vec<Frame> = Vec::new();
    let mut sink = |f: Frame| frames.push(f);
    let summary = droneid_engine::run(
        &engine_cfg,
        Box::new(FileSource::new(source)),
        &RunControl::default(),
        &mut sink,
        None,
    )
    .map_err(CliError::usage)?;
    if let Some(e) = summary.source_error {
        return Err(CliError::io(e));
    }
    let margin = (args.margin_us * 1e-6 * fs).round() as i64;
    let mut cuts = Vec::new();
    for mut frame in frames {
        let Some(utc) = placement.place(&mut frame) else {
            continue;
        };
        let mut json = frame.to_json();
        if let Some(t) = utc {
            json.insert("utc".into(), t.into());
        }
        let len = burst_len_samples(frame.symbols, fs) as i64;
        let seg = segment_index(&segments, frame.start_sample);
        let seg_lo = segments[seg].sample_start as i64;
        let seg_hi = segments
            .get(seg + 1)
            .map_or(i64::MAX, |s| s.sample_start as i64);
        let lo = (frame.start_sample - margin).max(seg_lo).max(0);
        let hi = (frame.start_sample + len + margin).min(seg_hi);
        cuts.push(Cut {
            json,
            start: frame.start_sample,
            offset_hz: frame.freq_offset_hz,
            center_hz: frame
                .capture_center_freq_hz
                .map(|c| c + frame.freq_offset_hz),
            lo: lo as u64,
            hi: hi.max(lo) as u64,
        });
    }
    cuts.sort_by_key(|c| (c.lo, c.start));

    // Pass 2: cut, mix, resample, write.
    let mut source = open()?;
    let mut window = Window::default();
    let mut written = 0usize;
    for cut in &cuts {
        let samples = window
            .take(&mut source, cut.lo, cut.hi)
            .map_err(CliError::io)?;
        if samples.is_empty() {
            continue;
        }
        let meta = write_burst(args, &info.path, fs, out_rate, cut, samples, &segments)?;
        println!("{}", meta.display());
        written += 1;
    }
    if !args.quiet {
        eprintln!(
            "droneid extract: {} burst(s) decoded, {written} recording(s) written to {} at {:.2} MS/s{}",
            cuts.len(),
            args.out.display(),
            out_rate / 1e6,
            if placement.straddling > 0 {
                format!(
                    "; {} burst(s) straddling a retune skipped",
                    placement.straddling
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Samples from `start` on, read sequentially; windows come in increasing order of `lo`.
#[derive(Default)]
struct Window {
    buf: Vec<Complex32>,
    start: u64,
    eof: bool,
}

impl Window {
    /// Samples `[lo, hi)` (fewer at the end of the input).
    fn take(&mut self, src: &mut SampleSource, lo: u64, hi: u64) -> Result<&[Complex32], String> {
        if lo > self.start {
            let drop = ((lo - self.start) as usize).min(self.buf.len());
            self.buf.drain(..drop);
            self.start += drop as u64;
        }
        let mut chunk = vec![Complex32::new(0.0, 0.0); 1 << 16];
        while self.start + (self.buf.len() as u64) < hi && !self.eof {
            let n = src.read_block(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                self.eof = true;
            }
            let skip = if self.start + (self.buf.len() as u64) < lo && self.buf.is_empty() {
                // Still before the window: skip what precedes `lo`.
                ((lo - self.start) as usize).min(n)
            } else {
                0
            };
            self.buf.extend_from_slice(&chunk[skip..n]);
            self.start += skip as u64;
        }
        let a = (lo.saturating_sub(self.start) as usize).min(self.buf.len());
        let b = ((hi - self.start) as usize).min(self.buf.len());
        Ok(&self.buf[a..b.max(a)])
    }
}

/// Mixes the burst to 0 Hz, resamples to `out_rate` and writes the recording; returns the meta
/// path.
fn write_burst(
    args: &ExtractArgs,
    input: &str,
    fs: f64,
    out_rate: f64,
    cut: &Cut,
    samples: &[Complex32],
    segments: &[droneid_io::CaptureSegment],
) -> Result<PathBuf, CliError> {
    let scale = out_rate / BASE_SAMPLE_RATE_HZ;
    let cfg = ResamplerConfig {
        input_rate_hz: fs,
        output_rate_hz: out_rate,
        center_offset_hz: cut.offset_hz,
        passband_hz: 4.6e6 * scale,
        stopband_hz: 7.0e6 * scale,
        attenuation_db: 60.0,
    };
    let mut rs = ChannelResampler::new(&cfg).map_err(CliError::usage)?;
    // Output k is the input at time lo + k·R − D: feed D samples more than the window and drop
    // the outputs before the window's start.
    let delay = rs.delay_input_samples();
    let ratio = rs.ratio();
    let skip = (delay / ratio).round() as usize;
    let mut feed = samples.to_vec();
    feed.extend(std::iter::repeat_n(
        Complex32::new(0.0, 0.0),
        delay.ceil() as usize + 1,
    ));
    let mut out = vec![Complex32::new(0.0, 0.0); rs.max_output_len(feed.len())];
    let n = rs.process(&feed, &mut out);
    let want = (samples.len() as f64 / ratio).floor() as usize;
    let end = (skip + want).min(n);
    let out = &out[skip.min(end)..end];
    // Input time of output sample 0, and the burst's start in output samples.
    let t0 = cut.lo as f64 + rs.output_to_input_index(skip as u64);
    let burst_at = ((cut.start as f64 - t0) / ratio).round().max(0.0) as u64;

    let stem = match cut.center_hz {
        Some(f) => format!("burst-S{:015}-{:.3}MHz", cut.start.max(0), f / 1e6),
        None => format!("burst-S{:015}-unknown", cut.start.max(0)),
    };
    let base = args.out.join(stem);
    let werr = |e: droneid_io::IoError| CliError::io(format!("extract: {e}"));
    let mut w = SigmfWriter::create(
        &base,
        SampleFormat::Cf32,
        out_rate,
        cut.center_hz,
        &format!(
            "DroneID burst cut from {input} at sample {} by droneid extract, centred and resampled to {:.2} MS/s",
            cut.start,
            out_rate / 1e6
        ),
    )
    .map_err(werr)?;
    let seg = &segments[segment_index(segments, cut.start)];
    if let Some(utc) = seg.utc_at(t0.round() as i64, fs) {
        w.set_datetime(&utc);
    }
    w.write(out).map_err(werr)?;
    w.set_global("droneid:source", json!(input));
    w.set_global("droneid:source_sample_rate", json!(fs));
    w.set_global("droneid:source_sample_start", json!(t0));
    w.set_global("droneid:frame", Value::Object(cut.json.clone()));
    let mut ann = droneid_annotation(&cut.json, out_rate, 0);
    ann.sample_start = burst_at;
    w.add_annotation(ann);
    let meta = w.meta_path().to_path_buf();
    w.finish().map_err(werr)?;
    Ok(meta)
}
