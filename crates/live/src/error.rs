//! The crate's error type.

use std::path::PathBuf;

/// Why a device could not be listed, opened or configured, or a burst not recorded.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// No device matches the device string.
    #[error("no SoapySDR device matches '{args}'; {found}")]
    NoDevice {
        /// The device string given.
        args: String,
        /// What was found instead (or how to load modules).
        found: String,
    },
    /// A setting outside what the device offers.
    #[error("{what} {value} is not offered by '{device}': it offers {offered}")]
    OutOfRange {
        /// "sample rate", "centre frequency", "gain", "antenna", "channel", "stream format".
        what: &'static str,
        /// The value asked for, formatted.
        value: String,
        /// The device (label or device string).
        device: String,
        /// The device's ranges or choices, formatted.
        offered: String,
    },
    /// A SoapySDR call failed.
    #[error("{context}: {message}")]
    Soapy {
        /// What was being done.
        context: String,
        /// SoapySDR's message.
        message: String,
    },
    /// A flag value that makes no sense.
    #[error("{0}")]
    Config(String),
    /// Writing a recording failed.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl LiveError {
    pub(crate) fn soapy(context: impl Into<String>, e: soapysdr::Error) -> Self {
        LiveError::Soapy {
            context: context.into(),
            message: e.to_string(),
        }
    }
}
