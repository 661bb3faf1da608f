//! Helpers shared by the subcommands: flag parsers and the error type that carries an exit code.

use std::path::{Path, PathBuf};

use droneid_core::parse_hz;

/// An error that ends the command: a one-line message and the process exit status.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

impl CliError {
    /// Unusable input or flags (exit 2).
    pub fn usage(e: impl std::fmt::Display) -> Self {
        Self {
            message: one_line(&e.to_string()),
            code: crate::EXIT_USAGE,
        }
    }

    /// I/O failure while running (exit 1).
    pub fn io(e: impl std::fmt::Display) -> Self {
        Self {
            message: one_line(&e.to_string()),
            code: crate::EXIT_IO,
        }
    }
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// clap value parser for rates and frequencies: `15.36e6`, `15360000`, `15.36M`.
pub fn hz(text: &str) -> Result<f64, String> {
    parse_hz(text).map_err(|e| e.to_string())
}

/// clap value parser for a sample rate: a frequency that is positive.
pub fn rate_hz(text: &str) -> Result<f64, String> {
    let v = hz(text)?;
    if v <= 0.0 {
        return Err(format!("{v} is not a positive sample rate"));
    }
    if v > droneid_io::MAX_SAMPLE_RATE_HZ {
        return Err(format!(
            "{v} Hz is above {} GS/s, the highest supported sample rate",
            droneid_io::MAX_SAMPLE_RATE_HZ / 1e9
        ));
    }
    Ok(v)
}

/// Fails unless a file can be created in `dir` (checked before any sample is read); `what`
/// names the flag in the message.
pub fn check_dir_writable(dir: &Path, what: &str) -> Result<(), CliError> {
    if !dir.is_dir() {
        return Err(CliError::usage(format!(
            "{what}: directory {} does not exist",
            dir.display()
        )));
    }
    let probe = dir.join(format!(".droneid-write-test-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(CliError::usage(format!(
            "{what}: cannot write in {}: {e}",
            dir.display()
        ))),
    }
}

/// The directory a file will be created in (`.` for a bare file name).
pub fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Fails unless the file `path` given with `flag` can be created.
pub fn check_writable(path: &Path, flag: &str) -> Result<(), CliError> {
    check_dir_writable(&parent_dir(path), &format!("{flag} {}", path.display()))
}

/// Opens a recording with the command-line overrides of its rate, format and centre frequency
/// (`decode`, `plot`); any problem is a usage error (exit 2).
pub fn open_recording(
    input: &str,
    sample_rate_hz: Option<f64>,
    format: Option<&str>,
    center_freq_hz: Option<f64>,
) -> Result<droneid_io::SampleSource, CliError> {
    let format = match format {
        Some(f) => Some(
            f.parse::<droneid_io::SampleFormat>()
                .map_err(CliError::usage)?,
        ),
        None => None,
    };
    let opts = droneid_io::InputOptions {
        sample_rate_hz,
        center_freq_hz,
        format,
    };
    droneid_io::open_input(input, &opts).map_err(CliError::usage)
}
