//! `droneid decode`: every DroneID burst in a recording, as JSON lines.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use droneid_core::MIN_SAMPLE_RATE_HZ;
use droneid_engine::{EngineConfig, FileSource, LiveCounters, RunControl, RunSink, RunSummary};
use droneid_receiver::{Frame, ReceiverConfig};
use droneid_tracks::TrackBuilder;

use crate::annotate;
use crate::common::{check_writable, hz, open_recording, rate_hz, CliError};
use crate::outputs::{capture_attributes, OutputArgs, Sinks};
use crate::placement::Placement;
use crate::signals::StopSignals;

#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Recording to decode: X.sigmf-meta / X.sigmf-data (SigMF), a raw IQ file, or - for stdin.
    pub input: String,
    /// Sample rate of a raw input (overrides SigMF): 15.36e6, 15360000 or 15.36M.
    #[arg(long, value_parser = rate_hz)]
    pub sample_rate: Option<f64>,
    /// Raw sample format: cf32, cf64, ci16, ci8 (HackRF), cu8 (RTL-SDR). Little-endian interleaved I/Q.
    #[arg(long)]
    pub format: Option<String>,
    /// Capture centre frequency (overrides SigMF); lets frames report absolute `center_freq_hz`.
    #[arg(long, value_parser = hz)]
    pub center_freq: Option<f64>,
    /// Also print a line for every demodulated burst whose CRC24 failed ("crc24_ok": false).
    #[arg(long)]
    pub all: bool,
    /// Maximum turbo-decoder iterations (1..=16); decoding stops early once the CRC24 passes.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub iterations: u32,
    /// Never show progress (shown for recordings over 5 s: a bar on a terminal, a line every 10 s otherwise).
    #[arg(long)]
    pub no_progress: bool,
    /// Do not print the summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also print the pipeline's counters: busy time per stage, ring high-water marks, drops.
    #[arg(long, short)]
    pub verbose: bool,
    /// Threads that decode bursts (default: one per core, at most 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub decode_threads: Option<u32>,
    /// Write the JSON lines to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write every drone's track (path LineString, home and pilot Points) as GeoJSON (RFC 7946) to FILE.
    #[arg(long, value_name = "FILE")]
    pub geojson: Option<PathBuf>,
    /// SigMF input only: write a copy of its metadata to FILE (a .sigmf-meta path) with one
    /// `core:annotations` entry per decoded burst; the data file is never touched.
    #[arg(long, value_name = "FILE")]
    pub annotate: Option<PathBuf>,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// Frames → JSON lines, tracks and progress; runs on the main thread, off the hot path.
struct DecodeSink {
    out: std::io::BufWriter<Box<dyn Write>>,
    tracks: TrackBuilder,
    sinks: Sinks,
    write_error: Option<std::io::Error>,
    /// Total samples and rate, when progress is shown.
    progress: Option<(u64, f64)>,
    tty: bool,
    every_ms: u128,
    started: Instant,
    last_progress: Instant,
    /// Each frame's capture segment (centre, UTC); bursts across a retune are refused.
    placement: Placement,
    /// `--annotate`: one SigMF annotation per reported frame.
    annotations: Option<Vec<droneid_io::Annotation>>,
    sample_rate_hz: f64,
    /// The I/Q-swap warning was printed (once per run).
    warned_iq_swap: bool,
}

impl RunSink for DecodeSink {
    fn frame(&mut self, mut frame: Frame) {
        // The centre and UTC time of the frame's own capture segment; a burst straddling a
        // retune is not reported.
        let Some(utc) = self.placement.place(&mut frame) else {
            return;
        };
        if frame.iq_swapped && !self.warned_iq_swap {
            self.warned_iq_swap = true;
            eprintln!(
                "droneid decode: warning: bursts decode only with I and Q swapped: the recording's spectrum looks inverted (frames say \"iq_swapped\": true; their frequencies are given as the un-inverted spectrum has them)"
            );
        }
        self.tracks.push(&frame);
        // The line every output shows: the frame's keys plus the sensor's.
        let mut json = self.sinks.json(&frame);
        if let Some(t) = utc {
            json.insert("utc".into(), t.into());
        }
        if let Some(a) = self.annotations.as_mut() {
            a.push(droneid_io::droneid_annotation(
                &json,
                self.sample_rate_hz,
                0,
            ));
        }
        self.sinks.frame(&frame, &json);
        if self.write_error.is_none() {
            let line = serde_json::Value::Object(json).to_string();
            // Flushed per frame: a reader (or a killed run) sees every frame decoded so far.
            if let Err(e) = writeln!(self.out, "{line}").and_then(|_| self.out.flush()) {
                self.write_error = Some(e);
            }
        }
    }

    fn tick(&mut self, counters: &LiveCounters) {
        self.sinks.tick();
        let Some((total, fs)) = self.progress else {
            return;
        };
        if self.last_progress.elapsed().as_millis() >= self.every_ms {
            self.last_progress = Instant::now();
            progress(
                counters.snapshot().samples_in,
                total,
                self.started.elapsed().as_secs_f64(),
                fs,
                self.tty,
            );
        }
    }
}

pub fn run(args: &DecodeArgs) -> Result<(), CliError> {
    // Configuration first: nothing is read before every flag and the input's metadata check out.
    let source = open_recording(
        &args.input,
        args.sample_rate,
        args.format.as_deref(),
        args.center_freq,
    )?;
    let info = source.info().clone();
    let fs = info.sample_rate_hz;
    if fs < MIN_SAMPLE_RATE_HZ * 0.999 {
        return Err(CliError::usage(format!(
            "sample rate {:.6} MS/s of '{}' is below 4 MS/s, the lowest rate droneid decodes (narrower captures hold too few of the burst's 600 carriers) (--sample-rate)",
            fs / 1e6,
            info.path
        )));
    }
    let mut cfg = ReceiverConfig::new(fs);
    cfg.center_freq_hz = info.center_freq_hz;
    cfg.report_failed = args.all;
    cfg.max_iterations = args.iterations;
    let mut engine_cfg = EngineConfig::new(cfg);
    if let Some(t) = args.decode_threads {
        engine_cfg.decode_threads = t as usize;
    }
    if let Some(p) = &args.geojson {
        check_writable(p, "--geojson")?;
    }
    if let Some(p) = &args.annotate {
        annotate::check_target(p, &info)?;
    }
    let out: Box<dyn Write> = match &args.output {
        Some(p) => {
            check_writable(p, "--output")?;
            Box::new(
                std::fs::File::create(p)
                    .map_err(|e| CliError::usage(format!("--output {}: {e}", p.display())))?,
            )
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let sinks = Sinks::open(
        &args.outputs,
        &capture_attributes(&info.path, fs, info.center_freq_hz),
    )?;
    let signals = StopSignals::install()
        .map_err(|e| CliError::io(format!("cannot install signal handlers: {e}")))?;
    let control = RunControl {
        stop: signals.stop.clone(),
        ..RunControl::default()
    };

    let total = info.total_samples;
    // A redrawn bar on a terminal (4 Hz); a plain line every 10 s when stderr is a log file.
    let tty = std::io::stderr().is_terminal();
    let show_progress = !args.no_progress && total.is_some_and(|t| t as f64 / fs > 5.0);
    let mut sink = DecodeSink {
        out: std::io::BufWriter::new(out),
        tracks: TrackBuilder::new(),
        sinks,
        write_error: None,
        progress: show_progress.then(|| (total.unwrap_or(1), fs)),
        tty,
        every_ms: if tty { 250 } else { 10_000 },
        started: Instant::now(),
        last_progress: Instant::now(),
        placement: Placement::new(&source),
        annotations: args.annotate.as_ref().map(|_| Vec::new()),
        sample_rate_hz: fs,
        warned_iq_swap: false,
    };
    let summary = droneid_engine::run(
        &engine_cfg,
        Box::new(FileSource::new(source)),
        &control,
        &mut sink,
        None,
    )
    .map_err(CliError::usage)?;
    if show_progress && tty {
        eprint!("\r\x1b[2K");
    }
    let DecodeSink {
        mut out,
        tracks,
        sinks,
        write_error,
        placement,
        annotations,
        ..
    } = sink;
    let mut write_error = write_error;
    if let Err(e) = out.flush() {
        write_error.get_or_insert(e);
    }
    let elapsed = summary.elapsed_s;
    let stats = summary.stats.clone();
    let tracks_done = tracks.finish();
    let (sink_lines, sink_error) = sinks.finish(&tracks_done);
    let geojson_error = match &args.geojson {
        Some(p) => droneid_tracks::write_geojson(p, &tracks_done)
            .err()
            .map(|e| (p.clone(), e)),
        None => None,
    };
    if !args.quiet {
        let secs = stats.samples as f64 / fs;
        eprintln!(
            "droneid decode: {} samples ({:.3} s at {:.3} MS/s) in {:.2} s ({:.1}x real time)",
            stats.samples,
            secs,
            fs / 1e6,
            elapsed,
            if elapsed > 0.0 {
                secs / elapsed
            } else {
                f64::INFINITY
            }
        );
        eprintln!(
            "  candidates {}  no sync {}  CRC24 ok {}  CRC24 failed {}  CRC16 failed {}  duplicates {}",
            stats.candidates, stats.no_sync, stats.crc24_ok, stats.crc24_failed, stats.crc16_failed, stats.duplicates
        );
        if args.verbose {
            print_pipeline_stats(&summary);
        }
        if !tracks_done.drones.is_empty() {
            eprint!("{}", tracks_done.summary_table());
        }
        for line in &sink_lines {
            eprintln!("  {line}");
        }
        if placement.straddling > 0 {
            eprintln!(
                "  {} bursts straddled a retune between capture segments (not reported)",
                placement.straddling
            );
        }
        for (name, value) in &summary.source_counters {
            if *value > 0 {
                eprintln!("  warning: {value} {name}");
            }
        }
    }
    let annotate_error = match (&args.annotate, &annotations) {
        (Some(p), Some(a)) => annotate::write_copy(p, &info, a).err(),
        _ => None,
    };
    if let Some(code) = signals.exit_code() {
        return Err(CliError {
            message: format!(
                "stopped by {} after {} samples; every frame decoded so far was written",
                if code == 130 { "SIGINT" } else { "SIGTERM" },
                stats.samples
            ),
            code,
        });
    }
    if let Some(e) = summary.source_error {
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
    if let Some(e) = annotate_error {
        return Err(e);
    }
    if let Some((p, e)) = geojson_error {
        return Err(CliError::io(format!(
            "writing --geojson {} failed: {e}",
            p.display()
        )));
    }
    Ok(())
}

/// Ring, pool and stage counters (`--verbose`).
pub fn print_pipeline_stats(summary: &RunSummary) {
    eprintln!(
        "  pipeline: busy s  source {:.2}  analysis {:.2}  detector {:.2}  decode {:.2} (all decode threads)  (wall {:.2}); samples lost {}, blocks dropped {}",
        summary.busy_s[0],
        summary.busy_s[1],
        summary.busy_s[2],
        summary.decode_busy_s,
        summary.elapsed_s,
        summary.samples_lost,
        summary.blocks_dropped
    );
    for (name, r) in &summary.rings {
        eprintln!(
            "  ring {name:<18} capacity {:>3}  pushed {:>8}  high-water {:>3}  full {:>6}  dropped {}",
            r.capacity, r.pushed, r.high_water, r.full, r.dropped
        );
    }
}

/// Progress with ETA: a redrawn bar on a terminal, else one plain line.
fn progress(done: u64, total: u64, elapsed_s: f64, fs: f64, tty: bool) {
    let frac = (done as f64 / total.max(1) as f64).clamp(0.0, 1.0);
    let width = 30;
    let filled = (frac * width as f64) as usize;
    let eta = if frac > 0.0 {
        elapsed_s * (1.0 - frac) / frac
    } else {
        0.0
    };
    let text = format!(
        "{:5.1}%  {:.1} s of {:.1} s  ETA {:.0} s",
        frac * 100.0,
        done as f64 / fs,
        total as f64 / fs,
        eta
    );
    if tty {
        eprint!(
            "\r[{}{}] {text} ",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
    } else {
        eprintln!("droneid decode: progress {text}");
    }
}
