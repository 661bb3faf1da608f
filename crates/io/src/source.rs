//! Opening inputs and reading them in bounded blocks.

use crate::convert;
use crate::format::SampleFormat;
use crate::sigmf::{path_with_suffix, read_sigmf_meta, segment_index, CaptureSegment, SigmfMeta};
use crate::IoError;
use droneid_core::Complex32;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// Size of the internal byte buffer of a [`SampleSource`] (a multiple of every sample size).
pub const DEFAULT_BUFFER_BYTES: usize = 1 << 18;

/// Command-line values; each one given overrides the SigMF metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InputOptions {
    /// `--sample-rate`, Hz. Required for raw files and stdin.
    pub sample_rate_hz: Option<f64>,
    /// `--center-freq`, Hz.
    pub center_freq_hz: Option<f64>,
    /// `--format`. Raw inputs default to `cf32`.
    pub format: Option<SampleFormat>,
}

/// What was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// The input as given (`-` for stdin).
    pub path: String,
    /// The file the samples come from (`None` for stdin or a caller's reader).
    pub data_path: Option<PathBuf>,
    /// The SigMF metadata file, when the input is SigMF.
    pub meta_path: Option<PathBuf>,
    /// Sample format.
    pub format: SampleFormat,
    /// Sample rate, Hz (positive, finite).
    pub sample_rate_hz: f64,
    /// Capture centre frequency, Hz, when known.
    pub center_freq_hz: Option<f64>,
    /// Whole samples in the input, when known (files).
    pub total_samples: Option<u64>,
    /// Bytes at the end that do not make a whole sample (ignored; worth a warning). Known at
    /// open for files; for streams it is set when the end is reached.
    pub trailing_bytes: u64,
    /// Bytes skipped at the start (SigMF `core:header_bytes`).
    pub header_bytes: u64,
    /// SigMF `core:description`, if any.
    pub description: Option<String>,
}

/// A sample input read in blocks, straight into the caller's buffer.
pub struct SampleSource {
    reader: Box<dyn Read + Send>,
    info: SourceInfo,
    /// Capture segments (SigMF `captures`), sorted, the first at 0; one for raw inputs.
    segments: Vec<CaptureSegment>,
    /// Bytes read per read call.
    chunk_bytes: usize,
    /// cf64 only: the bytes before narrowing (the other formats are read into the caller's
    /// samples and converted in place).
    buf: Vec<u8>,
    samples_read: u64,
    nonfinite: u64,
    eof: bool,
}

impl std::fmt::Debug for SampleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SampleSource")
            .field("info", &self.info)
            .field("samples_read", &self.samples_read)
            .field("nonfinite", &self.nonfinite)
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl SampleSource {
    /// Wraps any reader (a pipe, a socket, test data) with the given description. The info's
    /// sample rate must be valid.
    pub fn from_reader(reader: Box<dyn Read + Send>, info: SourceInfo) -> Result<Self, IoError> {
        check_rate(info.sample_rate_hz)?;
        Ok(SampleSource {
            reader,
            segments: vec![CaptureSegment::new(0, info.center_freq_hz)],
            buf: internal_buffer(info.format, DEFAULT_BUFFER_BYTES),
            info,
            chunk_bytes: DEFAULT_BUFFER_BYTES,
            samples_read: 0,
            nonfinite: 0,
            eof: false,
        })
    }

    /// Reads at most `samples` samples (at least 1) per read call; cf64 inputs resize their
    /// internal buffer to match. Allocates once, here.
    pub fn with_buffer_samples(mut self, samples: usize) -> Self {
        self.chunk_bytes = samples.max(1) * self.info.format.bytes_per_sample();
        self.buf = internal_buffer(self.info.format, self.chunk_bytes);
        self
    }

    /// What was opened.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The capture segments: one per SigMF `captures` entry (a scanning receiver writes one
    /// per retune), sorted by `sample_start`, the first starting at 0. Raw inputs have one.
    /// A `--center-freq` override applies to every segment.
    pub fn segments(&self) -> &[CaptureSegment] {
        &self.segments
    }

    /// Replaces the capture segments (sorted, the first at 0; an empty list is ignored).
    pub fn with_segments(mut self, mut segments: Vec<CaptureSegment>) -> Self {
        if !segments.is_empty() {
            segments[0].sample_start = 0;
            self.segments = segments;
        }
        self
    }

    /// Like [`read_block`](Self::read_block), but stops at the end of the current capture
    /// segment: the samples returned all belong to one segment, whose index it also returns
    /// (into [`segments`](Self::segments)). `(0, _)` only at the end of the input.
    pub fn read_segment_block(&mut self, out: &mut [Complex32]) -> Result<(usize, usize), IoError> {
        let pos = self.samples_read;
        let index = segment_index(&self.segments, pos as i64);
        let limit = match self.segments.get(index + 1) {
            Some(next) => ((next.sample_start - pos) as usize).min(out.len()),
            None => out.len(),
        };
        let n = self.read_block(&mut out[..limit])?;
        Ok((n, index))
    }

    /// Samples delivered so far.
    pub fn samples_read(&self) -> u64 {
        self.samples_read
    }

    /// Samples so far that had a NaN or infinite component and were replaced by 0.
    pub fn nonfinite_samples(&self) -> u64 {
        self.nonfinite
    }

    /// True once the end of the input has been reached.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Fills `out` with the next samples and returns how many were written. Returns fewer than
    /// `out.len()` only at the end of the input, and 0 once it is exhausted. Short reads from
    /// pipes are retried; a partial sample at the end is counted in `info().trailing_bytes`.
    /// No allocation, and no intermediate copy for cf32, ci16, ci8 and cu8: the bytes are read
    /// straight into `out` and converted there (SIMD where the CPU has AVX2); cf64 goes
    /// through the internal buffer.
    pub fn read_block(&mut self, out: &mut [Complex32]) -> Result<usize, IoError> {
        let format = self.info.format;
        let bps = format.bytes_per_sample();
        let chunk_samples = (self.chunk_bytes / bps).max(1);
        let mut produced = 0;
        while produced < out.len() && !self.eof {
            let n = chunk_samples.min(out.len() - produced);
            let dst = &mut out[produced..produced + n];
            let have = match format {
                SampleFormat::Cf64 => {
                    let have = self.fill(BufferTarget::Internal(n * bps))?;
                    let whole = have / bps;
                    self.nonfinite += format.decode(&self.buf[..whole * bps], &mut dst[..whole]);
                    have
                }
                SampleFormat::Cf32 => {
                    let have = self.fill(BufferTarget::Caller(convert::as_bytes_mut(dst)))?;
                    self.nonfinite += convert::sanitize_cf32(&mut dst[..have / bps]);
                    have
                }
                SampleFormat::Ci16 | SampleFormat::Ci8 | SampleFormat::Cu8 => {
                    // Packed at the back of the samples' own bytes, widened forward.
                    let offset = (8 - bps) * n;
                    let bytes = &mut convert::as_bytes_mut(dst)[offset..offset + n * bps];
                    let have = self.fill(BufferTarget::Caller(bytes))?;
                    convert::widen_in_place(format, dst, offset, have / bps);
                    have
                }
            };
            let whole = have / bps;
            if self.eof {
                self.info.trailing_bytes = (have - whole * bps) as u64;
            }
            produced += whole;
        }
        self.samples_read += produced as u64;
        Ok(produced)
    }

    /// Reads until `target` is full or the input ends (then sets `eof`); returns the bytes read.
    fn fill(&mut self, target: BufferTarget<'_>) -> Result<usize, IoError> {
        let buf = match target {
            BufferTarget::Caller(b) => b,
            BufferTarget::Internal(len) => &mut self.buf[..len],
        };
        let mut have = 0;
        while have < buf.len() {
            match self.reader.read(&mut buf[have..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => have += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(IoError::Read {
                        path: self
                            .info
                            .data_path
                            .clone()
                            .unwrap_or_else(|| self.info.path.clone().into()),
                        source,
                    })
                }
            }
        }
        Ok(have)
    }
}

/// Where [`SampleSource::fill`] reads to.
enum BufferTarget<'a> {
    /// The caller's samples, as bytes.
    Caller(&'a mut [u8]),
    /// The first bytes of the internal buffer (cf64).
    Internal(usize),
}

/// The internal buffer a format needs: `bytes` for cf64, none for the others.
fn internal_buffer(format: SampleFormat, bytes: usize) -> Vec<u8> {
    if format == SampleFormat::Cf64 {
        vec![0u8; bytes]
    } else {
        Vec::new()
    }
}

fn check_rate(rate: f64) -> Result<f64, IoError> {
    if !(rate.is_finite() && rate > 0.0) {
        Err(IoError::InvalidSampleRate { value: rate })
    } else if rate > crate::MAX_SAMPLE_RATE_HZ {
        Err(IoError::SampleRateTooHigh { value: rate })
    } else {
        Ok(rate)
    }
}

fn check_freq(f: Option<f64>) -> Result<Option<f64>, IoError> {
    match f {
        Some(v) if !v.is_finite() => Err(IoError::InvalidCenterFreq { value: v }),
        other => Ok(other),
    }
}

/// Finds the SigMF metadata for `path`, if the input is SigMF.
fn find_meta(path: &Path) -> Result<Option<PathBuf>, IoError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    for ext in [".sigmf-meta", ".sigmf-data"] {
        if let Some(stem) = name.strip_suffix(ext) {
            let meta = path.with_file_name(format!("{stem}.sigmf-meta"));
            // A .sigmf-data without its meta is read as raw.
            return Ok(if ext == ".sigmf-meta" || meta.is_file() {
                Some(meta)
            } else {
                None
            });
        }
    }
    if let Some(stem) = name.strip_suffix(".sigmf") {
        let meta = path.with_file_name(format!("{stem}.sigmf-meta"));
        if meta.is_file() {
            return Ok(Some(meta));
        }
        if path.is_file() {
            return Err(IoError::SigmfArchive {
                path: path.to_path_buf(),
            });
        }
        return Err(IoError::NotFound { path: meta });
    }
    // A base path X with X.sigmf-meta beside it.
    let base_meta = path_with_suffix(path, ".sigmf-meta");
    if !path.exists() && base_meta.is_file() {
        return Ok(Some(base_meta));
    }
    // A raw file X.ext whose sibling X.sigmf-meta names it as `core:dataset`.
    if path.is_file() {
        let sibling = path.with_extension("sigmf-meta");
        if sibling != path && sibling.is_file() {
            if let Ok(meta) = read_sigmf_meta(&sibling) {
                if meta.dataset.as_deref() == Some(name) {
                    return Ok(Some(sibling));
                }
            }
        }
    }
    Ok(None)
}

fn open_file(path: &Path) -> Result<(File, u64), IoError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(IoError::NotFound {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(IoError::Open {
                path: path.to_path_buf(),
                source,
            })
        }
        Ok(m) if m.is_dir() => {
            return Err(IoError::IsDirectory {
                path: path.to_path_buf(),
            })
        }
        Ok(_) => {}
    }
    let file = File::open(path).map_err(|source| IoError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| IoError::Open {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    Ok((file, len))
}

/// Opens an input: `-` (stdin, raw), a SigMF recording (`X.sigmf-meta`, `X.sigmf-data`,
/// `X.sigmf` or base path `X` with `X.sigmf-meta` beside it; also a raw file `X.ext` whose
/// sibling `X.sigmf-meta` names it in `core:dataset`), or a raw file.
///
/// SigMF: `global.core:datatype`, `global.core:sample_rate`, `global.core:dataset` (data file,
/// relative to the meta's folder; default `X.sigmf-data`), `captures[0].core:frequency` and
/// `captures[0].core:header_bytes`. Every field of `opts` that is set overrides the metadata.
/// Raw inputs need `opts.sample_rate_hz` and default to cf32.
pub fn open_input(path: &str, opts: &InputOptions) -> Result<SampleSource, IoError> {
    if let Some(rate) = opts.sample_rate_hz {
        check_rate(rate)?;
    }
    let center_freq_hz = check_freq(opts.center_freq_hz)?;
    if path == "-" {
        let sample_rate_hz = opts.sample_rate_hz.ok_or(IoError::MissingSampleRate {
            path: "stdin".into(),
            what: "raw input",
        })?;
        let info = SourceInfo {
            path: path.into(),
            data_path: None,
            meta_path: None,
            format: opts.format.unwrap_or(SampleFormat::Cf32),
            sample_rate_hz,
            center_freq_hz,
            total_samples: None,
            trailing_bytes: 0,
            header_bytes: 0,
            description: None,
        };
        return SampleSource::from_reader(Box::new(std::io::stdin()), info);
    }
    let p = Path::new(path);
    let (meta_path, meta) = match find_meta(p)? {
        Some(m) => {
            let meta = read_sigmf_meta(&m)?;
            (Some(m), Some(meta))
        }
        None => (None, None),
    };
    let mut segments: Vec<CaptureSegment> = Vec::new();
    let (data_path, format, sample_rate_hz, center, header_bytes, description) =
        match (&meta_path, meta) {
            (
                Some(mp),
                Some(SigmfMeta {
                    datatype,
                    sample_rate_hz,
                    frequency_hz,
                    dataset,
                    header_bytes,
                    description,
                    num_channels,
                    captures,
                }),
            ) => {
                for c in &captures {
                    check_freq(c.frequency_hz)?;
                }
                segments = captures;
                if num_channels > 1 {
                    return Err(IoError::MultiChannel {
                        path: mp.clone(),
                        channels: num_channels,
                    });
                }
                let format = match opts.format {
                    Some(f) => f,
                    None => SampleFormat::from_sigmf_datatype(&datatype)?,
                };
                let rate = opts.sample_rate_hz.or(sample_rate_hz).ok_or_else(|| {
                    IoError::MissingSampleRate {
                        path: mp.display().to_string(),
                        what: "the SigMF metadata (no core:sample_rate)",
                    }
                })?;
                let data = match dataset {
                    Some(d) if d.trim().is_empty() || d.ends_with(['/', '\\']) => {
                        return Err(IoError::MetaField {
                            path: mp.clone(),
                            field: "core:dataset".into(),
                            reason: format!("{d:?} does not name a file"),
                        })
                    }
                    Some(d) => mp.with_file_name(d),
                    None => {
                        let name = mp.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        mp.with_file_name(format!(
                            "{}.sigmf-data",
                            name.trim_end_matches(".sigmf-meta")
                        ))
                    }
                };
                (
                    data,
                    format,
                    check_rate(rate)?,
                    center_freq_hz.or(check_freq(frequency_hz)?),
                    header_bytes,
                    description,
                )
            }
            _ => {
                if opts.sample_rate_hz.is_none() {
                    open_file(p)?; // a missing file or a directory is the first thing to report
                }
                let rate = opts
                    .sample_rate_hz
                    .ok_or_else(|| IoError::MissingSampleRate {
                        path: path.to_string(),
                        what: "a raw sample file",
                    })?;
                (
                    p.to_path_buf(),
                    opts.format.unwrap_or(SampleFormat::Cf32),
                    rate,
                    center_freq_hz,
                    0,
                    None,
                )
            }
        };
    let (mut file, len) = open_file(&data_path)?;
    if header_bytes > 0 {
        let skipped = std::io::copy(&mut (&mut file).take(header_bytes), &mut std::io::sink())
            .map_err(|source| IoError::Read {
                path: data_path.clone(),
                source,
            })?;
        if skipped < header_bytes {
            return Err(IoError::MetaField {
                path: meta_path.clone().unwrap_or_default(),
                field: "core:header_bytes".into(),
                reason: format!("is {header_bytes} but the data file has only {len} bytes"),
            });
        }
    }
    let body = len - header_bytes;
    let bps = format.bytes_per_sample() as u64;
    let info = SourceInfo {
        path: path.into(),
        data_path: Some(data_path),
        meta_path,
        format,
        sample_rate_hz,
        center_freq_hz: center,
        total_samples: Some(body / bps),
        trailing_bytes: body % bps,
        header_bytes,
        description,
    };
    if let Some(f) = center_freq_hz {
        // The command line's centre holds for the whole recording.
        segments.iter_mut().for_each(|s| s.frequency_hz = Some(f));
    }
    Ok(SampleSource::from_reader(Box::new(file), info)?.with_segments(segments))
}
