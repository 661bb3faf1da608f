//! Helpers shared by the subcommands: flag parsers and the error type that carries an exit code.

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
