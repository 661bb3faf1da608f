//! `droneid plot`: a spectrogram PNG of a recording with every decoded burst boxed, and a
//! constellation PNG per decoded burst.
//!
//! One pass over the input: the engine's single-threaded [`StreamDecoder`] decodes every burst
//! (CRC24 failures included) and hands over each frame's equalised data symbols (`Y/Ĥ`, the
//! received carrier over the estimated channel, so a faded carrier is noisier but not pulled
//! toward the origin), while the [`Spectrogram`] fills (bounded memory: it averages over time
//! for long captures).
//!
//! Each constellation's EVM ([`qpsk_evm`]: RMS error to the nearest ideal QPSK point after
//! normalising the points to unit mean power) goes into its plot title and onto stdout, one
//! line per file: `constellation-001.png: EVM 2.31 % (-32.7 dB), 3600 symbols, burst 1 …`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use droneid_core::{Complex32, BASE_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ};
use droneid_engine::{EngineConfig, StreamDecoder};
use droneid_io::SampleSource;
use droneid_outputs::plot::{
    qpsk_evm, render_constellation, render_spectrogram, BurstMark, Spectrogram,
};
use droneid_payload::MessageBody;
use droneid_receiver::{Frame, ReceiverConfig};

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
    if fs < MIN_SAMPLE_RATE_HZ * 0.999 {
        return Err(CliError::usage(format!(
            "sample rate {:.6} MS/s of '{}' is below 4 MS/s, the lowest rate droneid decodes (narrower captures hold too few of the burst's 600 carriers) (--sample-rate)",
            fs / 1e6,
            info.path
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::usage(format!("--out {}: {e}", args.out.display())))?;

    let mut cfg = ReceiverConfig::new(fs);
    cfg.center_freq_hz = info.center_freq_hz;
    cfg.report_failed = true;
    let mut rx = StreamDecoder::new(&EngineConfig::new(cfg)).map_err(|e| CliError::usage(e.0))?;
    rx.keep_constellations();
    let mut spec = Spectrogram::new(
        fs,
        info.center_freq_hz,
        args.fft_len.map(|n| n as usize),
        1200,
    );
    let mut frames: Vec<Frame> = Vec::new();
    // Constellations of the first `max_constellations` frames in time order, by start sample.
    let mut points: BTreeMap<(i64, usize), Vec<Complex32>> = BTreeMap::new();
    let max = args.max_constellations;
    let mut keep = |f: Frame, c: &[Complex32]| {
        if max > 0 {
            points.insert((f.start_sample, frames.len()), c.to_vec());
            if points.len() > max {
                points.pop_last();
            }
        }
        frames.push(f);
    };
    let mut block = vec![Complex32::new(0.0, 0.0); BLOCK];
    loop {
        let n = source.read_block(&mut block).map_err(CliError::io)?;
        if n == 0 {
            break;
        }
        spec.push(&block[..n]);
        rx.push_with_constellations(&block[..n], &mut keep);
    }
    rx.finish_with_constellations(&mut keep);
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

    // Constellations, in time order.
    let mut written = 0;
    for (k, ((_, index), points)) in points.iter().enumerate() {
        let f = &frames[*index];
        let n = k + 1;
        let evm = qpsk_evm(points);
        let evm_title = evm.map_or(String::new(), |e| format!(", EVM {:.1} %", e.percent()));
        let burst = format!(
            "burst {n} at {:.3} ms, {:+.3} MHz: {}, SNR {:.1} dB",
            f.time_s() * 1e3,
            f.freq_offset_hz / 1e6,
            label(f),
            f.snr_db
        );
        let title = format!("{burst}{evm_title}");
        let file = format!("constellation-{n:03}.png");
        let path = args.out.join(&file);
        render_constellation(points, &title, &path).map_err(CliError::io)?;
        match evm {
            Some(e) => println!(
                "{file}: EVM {:.2} % ({:.1} dB), {} symbols, {burst}",
                e.percent(),
                e.db(),
                e.points
            ),
            None => println!("{file}: EVM n/a (no symbols), {burst}"),
        }
        written += 1;
    }
    if written > 0 {
        eprintln!(
            "droneid plot: wrote {written} constellation plots in {}",
            args.out.display()
        );
    }
    Ok(())
}
