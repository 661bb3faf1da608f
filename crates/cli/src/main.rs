//! `droneid`: DJI DroneID from IQ samples. See `droneid --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod annotate;
mod bench;
mod cmd_decode;
mod cmd_devices;
mod cmd_extract;
mod cmd_live;
mod cmd_plot;
mod cmd_synth;
mod common;
mod outputs;
mod placement;
mod signals;

/// Exit status for unusable input or bad flags (clap also uses 2 for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Exit status for an I/O failure during a run (outputs are flushed first).
pub const EXIT_IO: u8 = 1;

#[derive(Parser, Debug)]
#[command(
    name = "droneid",
    version,
    about = "Decode DJI DroneID bursts from IQ recordings at any sample rate, and synthesise test captures.",
    long_about = "droneid finds DJI DroneID bursts (the OcuSync 2 'O2' OFDM broadcast, ~9 MHz wide, every ~600 ms) \
anywhere in a recorded band, demodulates them with soft decisions, turbo-decodes them and prints one JSON \
object per burst on stdout.\n\n\
Inputs: SigMF recordings (X.sigmf-meta + X.sigmf-data) bring their own rate, format and centre frequency; \
raw files need --sample-rate and take --format cf32|cf64|ci16|ci8|cu8 (default cf32). Any rate from 4 MS/s works (below 15.36 MS/s the carriers outside the captured band are erasures).",
    after_help = "Examples:\n  droneid decode signals/real-0x11-15m36.sigmf-meta\n  droneid decode capture.cf32 --sample-rate 50M --center-freq 2.4445G\n  hackrf_transfer -r - -s 20000000 | droneid decode - --format ci8 --sample-rate 20M\n  droneid synth --output /tmp/test --sample-rate 61.44M --bursts 4 --snr-db 0\n  droneid decode /tmp/test.sigmf-meta --all"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode every DroneID burst in a recording; JSON lines on stdout, summary on stderr.
    Decode(cmd_decode::DecodeArgs),
    /// Measure receiver sensitivity or throughput on synthetic captures.
    Bench(bench::BenchArgs),
    /// Write a SigMF recording of synthetic DroneID bursts plus a ground-truth file.
    Synth(cmd_synth::SynthArgs),
    /// Decode DroneID live from a SoapySDR receiver (or the replay device); same output as decode.
    Live(cmd_live::LiveArgs),
    /// List the SoapySDR devices this machine sees, with their rates, frequencies, gains, antennas.
    Devices(cmd_devices::DevicesArgs),
    /// Cut each decoded burst out as its own SigMF recording, centred, at 15.36 (or 30.72) MS/s.
    Extract(cmd_extract::ExtractArgs),
    /// Draw a spectrogram PNG of a recording with every burst boxed, and a constellation PNG per burst.
    Plot(cmd_plot::PlotArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Decode(args) => cmd_decode::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Synth(args) => cmd_synth::run(args).map_err(common::CliError::usage),
        Command::Live(args) => cmd_live::run(args),
        Command::Devices(args) => cmd_devices::run(args),
        Command::Plot(args) => cmd_plot::run(args),
        Command::Extract(args) => cmd_extract::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("droneid: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
