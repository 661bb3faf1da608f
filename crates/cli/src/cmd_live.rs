//! `droneid live`: decode DroneID from a SoapySDR receiver, as `decode` does from a file.

use std::collections::{HashSet, VecDeque};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Args;
use droneid_core::{Complex32, MIN_SAMPLE_RATE_HZ};
use droneid_engine::{
    BurstTap, EngineConfig, FrameTiming, LatencyHistogram, LiveCounters, RunControl, RunSink,
};
use droneid_live::{
    BlockSource, BurstAnnotation, Gain, LiveConfig, ScanConfig, ScanFeedback, SoapySource,
    SourceStatus, StreamFormat,
};
use droneid_receiver::{Candidate, Frame, ReceiverConfig};
use droneid_tracks::TrackBuilder;

use crate::common::{check_dir_writable, hz, parent_dir, rate_hz, CliError};
use crate::outputs::{capture_attributes, OutputArgs, Sinks};

/// Candidate bursts kept for `--record-bursts` until their frame is decoded.
const RECORD_PENDING_MAX: usize = 32;
/// Burst lengths, seconds (spec §2.3): 9 and 8 symbols.
const BURST_9_S: f64 = 643.2e-6;
const BURST_8_S: f64 = 571.4e-6;
/// DroneID occupied bandwidth, Hz.
const BURST_BW_HZ: f64 = 9.015e6;

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// SoapySDR device string, as `SoapySDRUtil --find` takes it: "driver=hackrf",
    /// "driver=uhd,serial=3150A12", "driver=replay,file=capture.sigmf-meta" (see `droneid devices`).
    #[arg(long, value_name = "ARGS")]
    pub device: String,
    /// Sample rate (>= 15.36 MS/s): 15.36e6, 15360000 or 15.36M. Omitted: the device's only rate
    /// (a replayed SigMF recording).
    #[arg(long, value_parser = rate_hz)]
    pub sample_rate: Option<f64>,
    /// Centre frequency (e.g. 2444.5M). Omitted: the device's current one.
    #[arg(long, value_parser = hz, conflicts_with = "scan")]
    pub center_freq: Option<f64>,
    /// Manual receiver gain, dB (checked against the device's range).
    #[arg(
        long,
        value_name = "DB",
        allow_negative_numbers = true,
        conflicts_with = "agc"
    )]
    pub gain: Option<f64>,
    /// Automatic gain control.
    #[arg(long)]
    pub agc: bool,
    /// Antenna (see `droneid devices` for the names).
    #[arg(long, value_name = "NAME")]
    pub antenna: Option<String>,
    /// Receive channel of the device.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub channel: usize,
    /// Bus format: cf32, or cs16 (half the USB bandwidth, converted to float here).
    #[arg(long, default_value = "cf32")]
    pub format: String,
    /// Scan: 2.4, 5.8 or both (the DroneID channel centres, several per dwell at wide sample
    /// rates), or a comma-separated list of centre frequencies. Dwells on each, stays while
    /// frames keep arriving.
    #[arg(long, value_name = "2.4|5.8|both|F1,F2,..")]
    pub scan: Option<String>,
    /// Scan dwell per centre frequency, milliseconds (more than twice the ~600 ms burst interval).
    #[arg(long, value_name = "MS", default_value_t = 1300)]
    pub dwell_ms: u64,
    /// Scan lock: stay while the last frame on this centre is younger than this, milliseconds
    /// [default: the dwell].
    #[arg(long, value_name = "MS")]
    pub hold_ms: Option<u64>,
    /// Scan: samples this long after each retune are discarded (tuner settling), milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5.0)]
    pub settle_ms: f64,
    /// Write one SigMF recording per decoded burst (with margins and an annotation) into DIR.
    #[arg(long, value_name = "DIR")]
    pub record_bursts: Option<PathBuf>,
    /// Write the JSON lines to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write every drone's track as GeoJSON (RFC 7946) to FILE at exit.
    #[arg(long, value_name = "FILE")]
    pub geojson: Option<PathBuf>,
    /// Stop after this many seconds of signal.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Also print a line for every demodulated burst whose CRC24 failed ("crc24_ok": false).
    #[arg(long)]
    pub all: bool,
    /// Maximum turbo-decoder iterations (1..=16).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub iterations: u32,
    /// Seconds between status lines on stderr (redrawn in place on a terminal); 0: none.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub status_interval: f64,
    /// Samples the pipeline can queue while it catches up after a slow moment, milliseconds;
    /// beyond that, blocks are dropped and counted (memory: about 50 MB per 100 ms at 61.44 MS/s).
    #[arg(long, value_name = "MS", default_value_t = 200.0)]
    pub buffer_ms: f64,
    /// Samples per pipeline block: each stage hands on whole blocks, so a frame waits for a
    /// few of them (0.5 ms each at 61.44 MS/s by default); larger blocks cost a little less CPU.
    #[arg(long, value_name = "N", default_value_t = 1 << 15, value_parser = clap::value_parser!(u32).range(4096..=(1 << 22)))]
    pub block_samples: u32,
    /// No status line and no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also show SoapySDR's and its modules' informational log lines (warnings and errors are
    /// always shown), and in the summary each frame's latency (p50/p99/max from the moment the
    /// device delivered the sample ending its burst to its JSON line written).
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// A candidate's samples, kept until its frame is decoded.
struct Captured {
    candidate_start: i64,
    candidate_freq_hz: f64,
    segment_start: i64,
    samples: Vec<Complex32>,
    center_freq_hz: Option<f64>,
}

/// The detector-thread side: counts each candidate for the scan's per-centre summary and, for
/// `--record-bursts`, copies its samples; nothing more.
struct LiveTap {
    /// Scan mode: candidates per tuned centre.
    scan: Option<Arc<ScanFeedback>>,
    /// `--record-bursts`: candidates' samples until their frame is decoded.
    pending: Option<Arc<Mutex<VecDeque<Captured>>>>,
}

impl BurstTap for LiveTap {
    fn burst(
        &mut self,
        candidate: &Candidate,
        segment_start: i64,
        samples: &[Complex32],
        center_freq_hz: Option<f64>,
    ) {
        if let (Some(fb), Some(f)) = (&self.scan, center_freq_hz) {
            fb.note_candidate(f);
        }
        let Some(pending) = &self.pending else {
            return;
        };
        let c = Captured {
            candidate_start: candidate.start_sample,
            candidate_freq_hz: candidate.freq_offset_hz,
            segment_start,
            samples: samples.to_vec(),
            center_freq_hz,
        };
        if let Ok(mut q) = pending.lock() {
            if q.len() >= RECORD_PENDING_MAX {
                q.pop_front();
            }
            q.push_back(c);
        }
    }
}

/// The caller-thread side: frames to JSON, tracks, scan feedback, recordings, status line.
struct LiveSink {
    out: std::io::BufWriter<Box<dyn Write>>,
    sinks: Sinks,
    write_error: Option<std::io::Error>,
    tracks: TrackBuilder,
    serials: HashSet<String>,
    feedback: Arc<ScanFeedback>,
    record: Option<(PathBuf, Arc<Mutex<VecDeque<Captured>>>)>,
    recorded: u64,
    record_errors: u64,
    first_record_error: Option<String>,
    fs: f64,
    status: Arc<SourceStatus>,
    stop_after: Option<u64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    status_every_s: f64,
    tty: bool,
    started: Instant,
    last_status: Instant,
    last_in: u64,
    status_shown: bool,
    /// Per frame: burst end delivered by the device → JSON line written and flushed.
    latency: LatencyHistogram,
}

impl LiveSink {
    fn record(&mut self, frame: &Frame, json: &serde_json::Map<String, serde_json::Value>) {
        let Some((dir, pending)) = &self.record else {
            return;
        };
        let tol = (0.001 * self.fs) as i64;
        let cap = {
            let Ok(mut q) = pending.lock() else { return };
            let best = q
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    (c.candidate_start - frame.start_sample).abs() <= tol
                        && (c.candidate_freq_hz - frame.freq_offset_hz).abs() <= 3e6
                        && frame.start_sample >= c.segment_start
                })
                .min_by_key(|(_, c)| (c.candidate_start - frame.start_sample).abs())
                .map(|(i, _)| i);
            best.and_then(|i| q.remove(i))
        };
        let Some(c) = cap else { return };
        let burst_s = if frame.symbols == 8 {
            BURST_8_S
        } else {
            BURST_9_S
        };
        let msg_type = json
            .get("msg_type")
            .and_then(|v| v.as_u64())
            .map_or("?".to_string(), |t| format!("0x{t:02x}"));
        let serial = json
            .get("serial_number")
            .and_then(|v| v.as_str())
            .unwrap_or("-");
        let ann = BurstAnnotation {
            offset: (frame.start_sample - c.segment_start).max(0) as u64,
            count: (burst_s * self.fs).round() as u64,
            label: format!(
                "DroneID {msg_type} {serial} crc24 {} snr {:.1} dB",
                if frame.crc24_ok { "ok" } else { "failed" },
                frame.snr_db
            ),
            freq_offset_hz: frame.freq_offset_hz,
            bandwidth_hz: BURST_BW_HZ,
        };
        match droneid_live::write_burst_sigmf(
            dir,
            &c.samples,
            self.fs,
            c.center_freq_hz.or(frame.capture_center_freq_hz),
            c.segment_start.max(0) as u64,
            &ann,
        ) {
            Ok(_) => self.recorded += 1,
            Err(e) => {
                self.record_errors += 1;
                self.first_record_error.get_or_insert(e.to_string());
            }
        }
    }

    fn status_line(&mut self, counters: &LiveCounters, final_line: bool) {
        let now = Instant::now();
        let dt = now.duration_since(self.last_status).as_secs_f64();
        let c = counters.snapshot();
        let rate = if dt > 0.0 {
            (c.samples_in - self.last_in) as f64 / dt
        } else {
            0.0
        };
        self.last_in = c.samples_in;
        self.last_status = now;
        let freq = c
            .center_freq_hz
            .unwrap_or_else(|| self.status.center_freq_hz());
        let text = format!(
            "{:7.1} s  in {:6.2} MS/s  lost {} ({} overflows)  bursts {}  frames {}  drones {}  {:.3} MHz{}",
            self.started.elapsed().as_secs_f64(),
            rate / 1e6,
            c.samples_lost,
            self.status.overflows(),
            c.candidates,
            c.frames,
            self.serials.len(),
            freq / 1e6,
            if self.status.locked() { " locked" } else { "" }
        );
        if self.tty {
            eprint!("\r\x1b[2K{text}");
            if final_line {
                eprintln!();
            }
        } else {
            eprintln!("droneid live: {text}");
        }
        self.status_shown = true;
    }
}

impl RunSink for LiveSink {
    fn frame_timed(&mut self, frame: Frame, timing: FrameTiming) {
        self.frame(frame);
        // After the line is written and flushed (and the other outputs were handed the frame).
        if let Some(t) = timing.burst_end_delivered {
            self.latency.record(t.elapsed());
        }
    }

    fn frame(&mut self, frame: Frame) {
        if frame.crc24_ok {
            self.feedback.note_frame(frame.start_sample);
        }
        let json = self.sinks.json(&frame);
        self.sinks.frame(&frame, &json);
        if let Some(s) = json.get("serial_number").and_then(|v| v.as_str()) {
            if frame.crc24_ok && !self.serials.contains(s) {
                self.serials.insert(s.to_string());
            }
        }
        self.record(&frame, &json);
        self.tracks.push(&frame);
        if self.write_error.is_none() {
            let line = serde_json::Value::Object(json).to_string();
            if let Err(e) = writeln!(self.out, "{line}").and_then(|_| self.out.flush()) {
                self.write_error = Some(e);
                // Nothing can be delivered any more: stop the receiver.
                self.stop.store(true, Ordering::Relaxed);
            }
        }
    }

    fn tick(&mut self, counters: &LiveCounters) {
        self.sinks.tick();
        if let Some(limit) = self.stop_after {
            if counters.snapshot().samples_in >= limit {
                self.stop.store(true, Ordering::Relaxed);
            }
        }
        if self.status_every_s > 0.0
            && self.last_status.elapsed().as_secs_f64() >= self.status_every_s
        {
            self.status_line(counters, false);
        }
    }
}

pub fn run(args: &LiveArgs) -> Result<(), CliError> {
    // SoapySDR's log through ours before any module loads.
    droneid_live::route_soapy_log(args.verbose);
    // Every flag and the device's ranges are checked before a sample streams.
    let format: StreamFormat = args.format.parse().map_err(CliError::usage)?;
    if let Some(d) = args.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(CliError::usage(format!(
                "--duration {d}: give a positive number of seconds"
            )));
        }
    }
    if !(args.settle_ms.is_finite() && args.settle_ms >= 0.0) {
        return Err(CliError::usage("--settle-ms must be 0 or more"));
    }
    if args.dwell_ms == 0 {
        return Err(CliError::usage("--dwell-ms must be positive"));
    }
    if let Some(p) = &args.output {
        check_dir_writable(&parent_dir(p), &format!("--output {}", p.display()))?;
    }
    if let Some(p) = &args.geojson {
        check_dir_writable(&parent_dir(p), &format!("--geojson {}", p.display()))?;
    }
    if let Some(dir) = &args.record_bursts {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::usage(format!("--record-bursts {}: {e}", dir.display())))?;
        check_dir_writable(dir, "--record-bursts")?;
    }
    let feedback = ScanFeedback::new();
    let mut cfg = LiveConfig::new(&args.device, 0.0);
    cfg.sample_rate_hz = args.sample_rate;
    cfg.center_freq_hz = args.center_freq;
    cfg.gain = match (args.gain, args.agc) {
        (Some(g), _) => Gain::Db(g),
        (None, true) => Gain::Agc,
        (None, false) => Gain::Default,
    };
    cfg.antenna = args.antenna.clone();
    cfg.channel = args.channel;
    cfg.format = format;
    if let Some(text) = &args.scan {
        let Some(fs) = args.sample_rate else {
            return Err(CliError::usage(
                "--scan needs --sample-rate (it decides how many channels one centre covers)",
            ));
        };
        let centers = droneid_live::parse_scan(text, fs).map_err(CliError::usage)?;
        let mut scan = ScanConfig::new(centers, feedback.clone());
        scan.dwell_s = args.dwell_ms as f64 * 1e-3;
        scan.hold_s = args.hold_ms.unwrap_or(args.dwell_ms) as f64 * 1e-3;
        scan.settle_s = args.settle_ms * 1e-3;
        cfg.scan = Some(scan);
    }
    let source = SoapySource::open(&cfg).map_err(CliError::usage)?;
    let desc = source.description();
    let fs = desc.sample_rate_hz;
    if fs < MIN_SAMPLE_RATE_HZ * 0.999 {
        return Err(CliError::usage(format!(
            "sample rate {:.6} MS/s is below 4 MS/s, the lowest rate droneid decodes (narrower captures hold too few of the burst's 600 carriers) (--sample-rate)",
            fs / 1e6
        )));
    }
    let status = source.status();
    // Outputs open (broker connected, files created) before a sample streams.
    let sinks = Sinks::open(
        &args.outputs,
        &capture_attributes(&desc.label, fs, desc.center_freq_hz),
    )?;
    if !args.quiet {
        eprintln!(
            "droneid live: {} at {} MS/s, {}{}",
            desc.label,
            fs / 1e6,
            match &cfg.scan {
                Some(s) => format!(
                    "scanning {} MHz (dwell {} ms)",
                    s.centers_hz
                        .iter()
                        .map(|f| format!("{:.3}", f / 1e6))
                        .collect::<Vec<_>>()
                        .join(", "),
                    args.dwell_ms
                ),
                None => format!("{:.3} MHz", desc.center_freq_hz.unwrap_or(f64::NAN) / 1e6),
            },
            if source.has_timestamps() {
                ""
            } else {
                " (device has no timestamps: overflow losses are not counted exactly)"
            }
        );
    }

    let mut rcfg = ReceiverConfig::new(fs);
    rcfg.report_failed = args.all;
    rcfg.max_iterations = args.iterations;
    let mut ecfg = EngineConfig::new(rcfg);
    ecfg.block_samples = args.block_samples as usize;
    // Two rings (source→analysis→detector) share the buffering.
    let queued = args.buffer_ms.max(0.0) * 1e-3 * fs;
    ecfg.ring_blocks =
        ((queued / ecfg.block_samples as f64 / 2.0).ceil() as usize).max(ecfg.ring_blocks);
    let signals = crate::signals::StopSignals::install()
        .map_err(|e| CliError::io(format!("installing the signal handlers: {e}")))?;
    let control = RunControl {
        stop: signals.stop.clone(),
        counters: Arc::default(),
    };
    let sink_out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .map_err(|e| CliError::usage(format!("--output {}: {e}", p.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let pending = Arc::new(Mutex::new(VecDeque::new()));
    let mut tap = (cfg.scan.is_some() || args.record_bursts.is_some()).then(|| LiveTap {
        scan: cfg.scan.as_ref().map(|_| feedback.clone()),
        pending: args.record_bursts.as_ref().map(|_| pending.clone()),
    });
    let mut sink = LiveSink {
        out: std::io::BufWriter::new(sink_out),
        sinks,
        write_error: None,
        tracks: TrackBuilder::new(),
        serials: HashSet::new(),
        feedback,
        record: args.record_bursts.clone().map(|d| (d, pending)),
        recorded: 0,
        record_errors: 0,
        first_record_error: None,
        fs,
        status: status.clone(),
        stop_after: args.duration.map(|d| (d * fs).ceil() as u64),
        stop: control.stop.clone(),
        status_every_s: if args.quiet {
            0.0
        } else {
            args.status_interval
        },
        tty: std::io::stderr().is_terminal(),
        started: Instant::now(),
        last_status: Instant::now(),
        last_in: 0,
        status_shown: false,
        latency: LatencyHistogram::new(),
    };
    let summary = droneid_engine::run(
        &ecfg,
        Box::new(source),
        &control,
        &mut sink,
        tap.as_mut().map(|t| t as &mut dyn BurstTap),
    )
    .map_err(CliError::usage)?;
    let _ = sink.out.flush();
    if sink.status_shown && sink.tty {
        sink.status_line(&control.counters, true);
    }

    let tracks = std::mem::take(&mut sink.tracks).finish();
    let LiveSink {
        sinks,
        record,
        recorded,
        record_errors,
        first_record_error,
        write_error,
        latency,
        feedback,
        ..
    } = sink;
    let (sink_lines, sink_error) = sinks.finish(&tracks);
    let geojson_error = match &args.geojson {
        Some(p) => droneid_tracks::write_geojson(p, &tracks)
            .err()
            .map(|e| (p.clone(), e)),
        None => None,
    };
    if !args.quiet {
        let secs = summary.samples_in as f64 / fs;
        let st = &summary.stats;
        eprintln!(
            "droneid live: {} samples ({:.3} s at {:.3} MS/s) in {:.2} s; processed {}, lost {} ({:.3} %), {} blocks dropped by back-pressure",
            summary.samples_in,
            secs,
            fs / 1e6,
            summary.elapsed_s,
            summary.stats.samples,
            summary.samples_lost,
            if summary.samples_in > 0 {
                100.0 * summary.samples_lost as f64 / summary.samples_in as f64
            } else {
                0.0
            },
            summary.blocks_dropped
        );
        eprintln!(
            "  candidates {}  no sync {}  CRC24 ok {}  CRC24 failed {}  CRC16 failed {}  duplicates {}",
            st.candidates, st.no_sync, st.crc24_ok, st.crc24_failed, st.crc16_failed, st.duplicates
        );
        if let Some(scan) = &cfg.scan {
            let counts = feedback.candidates_per_center(&scan.centers_hz);
            eprintln!(
                "  scan candidates per centre: {}",
                scan.centers_hz
                    .iter()
                    .zip(&counts)
                    .map(|(f, n)| format!("{:.3} MHz {n}", f / 1e6))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        // Ring fill and per-stage load: what a soak run watches.
        crate::cmd_decode::print_pipeline_stats(&summary);
        if args.verbose {
            eprintln!(
                "  frame latency (burst end delivered by the device → JSON line written): {}",
                latency.summary()
            );
        }
        if !summary.source_counters.is_empty() {
            eprintln!(
                "  device: {}",
                summary
                    .source_counters
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
        }
        if let Some((dir, _)) = &record {
            eprintln!(
                "  recorded {} burst(s) to {}{}",
                recorded,
                dir.display(),
                match &first_record_error {
                    Some(e) => format!(" ({} failed, first: {e})", record_errors),
                    None => String::new(),
                }
            );
        }
        if !tracks.drones.is_empty() {
            eprint!("{}", tracks.summary_table());
        }
        for line in &sink_lines {
            eprintln!("  {line}");
        }
    }
    if let Some(e) = &summary.source_error {
        return Err(CliError::io(format!(
            "{e}; frames decoded so far were written"
        )));
    }
    if let Some(e) = write_error {
        return Err(CliError::io(format!("writing frames failed: {e}")));
    }
    if let Some(e) = sink_error {
        return Err(CliError::io(format!("writing outputs failed: {e}")));
    }
    if let Some((p, e)) = geojson_error {
        return Err(CliError::io(format!(
            "writing --geojson {} failed: {e}",
            p.display()
        )));
    }
    if let Some(code) = signals.exit_code() {
        return Err(CliError {
            message: "stopped by signal; outputs flushed".into(),
            code,
        });
    }
    Ok(())
}
