//! Sample sources (raw cf32/cf64/ci16/ci8/cu8, SigMF, stdin) read in bounded blocks, and SigMF
//! writing.
//!
//! * [`open_input`] resolves a path (`-` for stdin, a SigMF recording by its `.sigmf-meta`,
//!   `.sigmf-data`, `.sigmf` or base path, or a raw file) into a [`SampleSource`]. Command-line
//!   values in [`InputOptions`] override SigMF metadata.
//! * [`SampleSource::read_block`] reads straight into a caller buffer of [`Complex32`] and
//!   converts there (cf32/ci16/ci8/cu8; AVX2 where the CPU has it, module `convert`, the
//!   crate's only `unsafe`); cf64 goes through one fixed internal buffer. No allocation after
//!   `open_input`. NaN/Inf samples become 0 and are counted
//!   ([`SampleSource::nonfinite_samples`]).
//! * [`read_sigmf_meta`] / [`parse_sigmf_meta`] check a `.sigmf-meta` (file / bytes): any bytes
//!   give a value or a one-line [`IoError`], never a panic (fuzzed: `fuzz/`, target `sigmf_meta`).
//!   Sample rates must be positive, finite and at most [`MAX_SAMPLE_RATE_HZ`].
//! * [`SigmfWriter`] writes `BASE.sigmf-data` + `BASE.sigmf-meta` (SigMF 1.0.0), through a
//!   temporary file renamed on [`SigmfWriter::finish`], so a failed or abandoned write leaves
//!   no partial recording. Several capture segments ([`SigmfWriter::add_capture`]) describe a
//!   recording retuned mid-file; [`write_annotated_copy`] adds annotations to a copy of a
//!   recording's metadata without touching its data.
//! * Multi-segment SigMF (a scanning receiver's recording): [`SampleSource::segments`] lists
//!   every `captures` entry with its own `core:frequency` and `core:datetime`;
//!   [`SampleSource::read_segment_block`] never returns samples of two segments at once, and
//!   [`segment_holding`] tells whether a burst lies inside one segment.
//!
//! ```no_run
//! use droneid_io::{open_input, InputOptions};
//! use droneid_core::Complex32;
//!
//! let mut src = open_input("capture.sigmf-meta", &InputOptions::default())?;
//! println!("{} at {} S/s", src.info().format, src.info().sample_rate_hz);
//! let mut block = vec![Complex32::default(); 65536];
//! loop {
//!     let n = src.read_block(&mut block)?;
//!     if n == 0 { break; }
//!     // process &block[..n]
//! }
//! # Ok::<(), droneid_io::IoError>(())
//! ```
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod convert;
mod format;
mod sigmf;
mod source;

pub use droneid_core::Complex32;
pub use format::{SampleFormat, SUPPORTED_FORMATS, SUPPORTED_SIGMF_DATATYPES};
pub use sigmf::{
    burst_len_samples, droneid_annotation, format_utc_ns, parse_datetime_ns, parse_sigmf_meta,
    path_with_suffix, read_sigmf_meta, segment_holding, segment_index, sigmf_base_path,
    sigmf_meta_json, sigmf_meta_json_segments, write_annotated_copy, write_sigmf_meta, Annotation,
    CaptureSegment, SigmfMeta, SigmfWriter, DRONEID_EXTENSION, DRONEID_EXTENSION_VERSION,
};
pub use source::{open_input, InputOptions, SampleSource, SourceInfo, DEFAULT_BUFFER_BYTES};

use std::path::PathBuf;

/// The highest sample rate an input may declare, Hz (10 GS/s). Buffers downstream scale with
/// the rate, so a rate like `1e300` from a corrupt SigMF file or a typo must be refused here,
/// with a message, rather than end in a failed allocation.
pub const MAX_SAMPLE_RATE_HZ: f64 = 10e9;

/// Errors of this crate. Messages are one line and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The input file does not exist.
    #[error("input not found: {path}")]
    NotFound { path: PathBuf },
    /// The input path is a directory.
    #[error("{path} is a directory, not a sample file or SigMF recording")]
    IsDirectory { path: PathBuf },
    /// The file exists but cannot be opened (permissions, …).
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A read failed part-way.
    #[error("read error on {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A write (or rename/remove of an output file) failed.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A `.sigmf-meta` file that is not JSON.
    #[error("SigMF metadata {path} is not valid JSON: {message}")]
    MetaJson { path: PathBuf, message: String },
    /// A `.sigmf-meta` field missing or of the wrong type.
    #[error("SigMF metadata {path}: `{field}` {reason}")]
    MetaField {
        path: PathBuf,
        field: String,
        reason: String,
    },
    /// No sample rate in the metadata (or a raw input) and none given.
    #[error(
        "{path}: {what} has no sample rate; pass --sample-rate HZ (e.g. --sample-rate 15.36M)"
    )]
    MissingSampleRate { path: String, what: &'static str },
    /// A sample rate that is NaN, infinite or not positive.
    #[error("sample rate {value} Hz is invalid: it must be a positive finite number")]
    InvalidSampleRate { value: f64 },
    /// A sample rate above [`MAX_SAMPLE_RATE_HZ`] (a typo or a lying SigMF file: nothing
    /// sized for it is allocated).
    #[error("sample rate {value:e} Hz is above {max_gs} GS/s, the highest supported; check --sample-rate or the SigMF core:sample_rate", max_gs = MAX_SAMPLE_RATE_HZ / 1e9)]
    SampleRateTooHigh { value: f64 },
    /// A centre frequency that is NaN or infinite.
    #[error("centre frequency {value} Hz is invalid: it must be a finite number")]
    InvalidCenterFreq { value: f64 },
    /// A datatype (SigMF `core:datatype` or `--format`) this crate does not read.
    #[error("unsupported sample datatype `{datatype}`{reason}; supported: {supported} (--format cf32|cf64|ci16|ci8|cu8)", supported = SUPPORTED_SIGMF_DATATYPES)]
    UnsupportedDatatype { datatype: String, reason: String },
    /// A SigMF archive (`.sigmf`, a tar file).
    #[error("{path} is a SigMF archive (tar); extract it (tar xf) and pass the .sigmf-meta file")]
    SigmfArchive { path: PathBuf },
    /// A recording with more than one channel.
    #[error(
        "{path}: {channels} interleaved channels; only single-channel recordings are supported"
    )]
    MultiChannel { path: PathBuf, channels: u64 },
}
