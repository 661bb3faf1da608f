//! `droneid plot`: a spectrogram PNG of a recording with every decoded burst boxed, and a
//! constellation PNG per decoded burst.
//!
//! Two passes over the input (so it must be a file, not stdin): the first runs the
//! [`Receiver`] (CRC24 failures included) and fills the [`Spectrogram`] (bounded memory: it
//! averages over time for long captures); the second re-demodulates each burst found with a
//! [`BurstReceiver`] to get its equalised data symbols.

use std::path::{Path, PathBuf};

use clap::Args;
use droneid_core::{Complex32, BASE_SAMPLE_RATE_HZ};
use droneid_io::SampleSource;
use droneid_outputs::plot::{render_constellation, render_spectrogram, BurstMark, Spectrogram};
use droneid_payload::MessageBody;
use droneid_receiver::{
    BurstOutcome, BurstReceiver, BurstReceiverConfig, Candidate, Frame, Receiver, ReceiverConfig,
    SampleHistory,
};

use crate::common::{hz, open_recording, rate_hz, CliError};

/// Samples read per block.
const BLOCK: usize = 1 << 16;
/// Occupied bandwidth of a DroneID burst, Hz (601 subcarriers × 15 kHz).
const BURST_BANDWIDTH_HZ: f64 = 9.015e6;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Recording to plot: X.sigmf-meta / X.sigmf-data (SigMF) or a raw IQ file (read twice, so
    /// not stdin).
    pub input: String,
    /// Folder for the PNG files (created if missing): spectrogram.png and
    /// constellation-NNN.png (NNN = burst index in time order).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Sample rate of a raw input (overrides SigMF): 15.36e6, 15360000 or 15.36M.
    #[arg(long, value_parser = rate_hz)]
    pub sample_rate: Option<f64>,
    /// Raw sample format: cf32, cf64, ci16, ci8 (HackRF), cu8 (RTL-SDR).
    #[arg(long)]
    pub format: Option<String>,
    /// Capture centre frequency (overrides SigMF): the frequency axis becomes absolute.
    #[arg(long, value_parser = hz)]
    pub center_freq: Option<f64>,
    /// Constellation plots at most (the first bursts in time order); 0 for none.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_constellations: usize,
    /// Frequency bins of the spectrogram (default: about 120 kHz per bin).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub fft_len: Option<u32>,
}

fn open(args: &PlotArgs) -> Result<SampleSource, CliError> {
    open_recording(
        &args.input,
        args.sample_rate,
        args.format.as_deref(),
        args.center_freq,
    )
}

/// The label of a burst: serial and sequence number, identity, or CRC failure.
fn label(f: &Frame) -> String {
    if !f.crc24_ok {
        return "CRC fail".into();
    }
    let crc16 = if f.crc16_ok() { "" } else { " (CRC16 fail)" };
    match &f.message.body {
        MessageBody::Telemetry(t) => format!("{} #{}{crc16}", t.serial_number, t.sequence_number),
        MessageBody::Identity(i) => format!("{} id{crc16}", i.serial_number),
        MessageBody::Encrypted(e) => format!("{} {}", e.marker, e.session_hex()),
        MessageBody::Unknown => format!("type 0x{:02x}{crc16}", f.message.msg_type),
    }
}

pub fn run(args: &PlotArgs) -> Result<(), CliError> {
    if args.input == "-" {
        return Err(CliError::usage(
            "plot reads its input twice: give a file, not - (stdin)",
        ));
    }
    let mut source = open(args)?;
    let info = source.info().clone();
    let fs = info.sample_rate_hz;
    if fs < BASE_SAMPLE_RATE_HZ * 0.999 {
        return Err(CliError::usage(format!(
            "sample rate {:.6} MS/s of '{}' is below 15.36 MS/s (--sample-rate)",
            fs / 1e6,
            info.path
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::usage(format!("--out {}: {e}", args.out.display())))?;

    // Pass 1: bursts and the spectrogram.
    let mut cfg = ReceiverConfig::new(fs);
    cfg.center_freq_hz = info.center_freq_hz;
    cfg.report_failed = true;
    let mut rx = Receiver::new(&cfg).map_err(CliError::usage)?;
    let mut spec = Spectrogram::new(
        fs,
        info.center_freq_hz,
        args.fft_len.map(|n| n as usize),
        1200,
    );
    let mut frames: Vec<Frame> = Vec::new();
    let mut block = vec![Complex32::new(0.0, 0.0); BLOCK];
    loop {
        let n = source.read_block(&mut block).map_err(CliError::io)?;
        if n == 0 {
            break;
        }
        spec.push(&block[..n]);
        rx.push(&block[..n], &mut |f| frames.push(f));
    }
    rx.finish(&mut |f| frames.push(f));
    frames.sort_by_key(|f| f.start_sample);
    let ok = frames.iter().filter(|f| f.crc24_ok).count();

    let burst_len_s = |f: &Frame| {
        let base = if f.symbols == 8 { 8776.0 } else { 9880.0 };
        base / BASE_SAMPLE_RATE_HZ
    };
    let marks: Vec<BurstMark> = frames
        .iter()
        .map(|f| BurstMark {
            start_s: f.time_s(),
            duration_s: burst_len_s(f),
            freq_offset_hz: f.freq_offset_hz,
            bandwidth_hz: BURST_BANDWIDTH_HZ,
            label: label(f),
            ok: f.crc24_ok,
        })
        .collect();
    let name = Path::new(&info.path)
        .file_name()
        .map_or(info.path.clone(), |n| n.to_string_lossy().into_owned());
    let title = format!(
        "{name}: {:.2} MS/s, {} bursts ({} CRC ok)",
        fs / 1e6,
        frames.len(),
        ok
    );
    let spec_path = args.out.join("spectrogram.png");
    render_spectrogram(&spec, &marks, &title, &spec_path).map_err(CliError::io)?;
    eprintln!("droneid plot: wrote {}", spec_path.display());

    // Pass 2: constellations.
    let wanted: Vec<&Frame> = frames.iter().take(args.max_constellations).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut burst = BurstReceiver::new(&BurstReceiverConfig {
        sample_rate_hz: fs,
        center_freq_hz: info.center_freq_hz,
        max_iterations: cfg.max_iterations,
        demod: cfg.demod.clone(),
    })
    .map_err(CliError::usage)?;
    let (before, span) = burst.input_span();
    let mut history = SampleHistory::new(span + 2 * BLOCK);
    let mut segment = vec![Complex32::new(0.0, 0.0); span];
    let mut points = Vec::new();
    let mut source = open(args)?;
    let mut next = 0;
    let mut written = 0;
    let mut at_end = false;
    while next < wanted.len() {
        let f = wanted[next];
        let seg_start = f.start_sample - before;
        if !at_end && seg_start + span as i64 > history.end() as i64 {
            let n = source.read_block(&mut block).map_err(CliError::io)?;
            if n == 0 {
                at_end = true;
            }
            history.push(&block[..n]);
            continue;
        }
        next += 1;
        history.extract(seg_start, &mut segment);
        let cand = Candidate {
            start_sample: f.start_sample,
            freq_offset_hz: f.freq_offset_hz,
            score_sigma: 0.0,
            snr_db_rough: f.snr_db,
        };
        if let BurstOutcome::Frame(_) = burst.receive(&segment, seg_start, &cand) {
            burst.last_constellation(&mut points);
        } else {
            points.clear();
        }
        let title = format!(
            "burst {next} at {:.3} ms, {:+.3} MHz: {}, SNR {:.1} dB",
            f.time_s() * 1e3,
            f.freq_offset_hz / 1e6,
            label(f),
            f.snr_db
        );
        let path = args.out.join(format!("constellation-{next:03}.png"));
        render_constellation(&points, &title, &path).map_err(CliError::io)?;
        written += 1;
    }
    eprintln!(
        "droneid plot: wrote {written} constellation plots in {}",
        args.out.display()
    );
    Ok(())
}
