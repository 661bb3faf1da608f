//! SigMF 1.0.0 metadata reading and recording writing.

use crate::format::SampleFormat;
use crate::IoError;
use droneid_core::Complex32;
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The parts of a `.sigmf-meta` this crate uses.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmfMeta {
    /// `global.core:datatype` as written (checked later, so `--format` can override it).
    pub datatype: String,
    /// `global.core:sample_rate`.
    pub sample_rate_hz: Option<f64>,
    /// `captures[0].core:frequency`.
    pub frequency_hz: Option<f64>,
    /// `global.core:dataset`: the data file name, relative to the meta's folder.
    pub dataset: Option<String>,
    /// `captures[0].core:header_bytes` (bytes to skip at the start of the data file).
    pub header_bytes: u64,
    /// `global.core:description`.
    pub description: Option<String>,
    /// `global.core:num_channels` (default 1).
    pub num_channels: u64,
}

fn meta_err(path: &Path, field: &str, reason: impl Into<String>) -> IoError {
    IoError::MetaField {
        path: path.to_path_buf(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn opt_f64(obj: &Map<String, Value>, key: &str, path: &Path) -> Result<Option<f64>, IoError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| meta_err(path, key, format!("must be a number, found {v}"))),
    }
}

fn opt_u64(obj: &Map<String, Value>, key: &str, path: &Path) -> Result<Option<u64>, IoError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            meta_err(
                path,
                key,
                format!("must be a non-negative integer, found {v}"),
            )
        }),
    }
}

fn opt_str(obj: &Map<String, Value>, key: &str, path: &Path) -> Result<Option<String>, IoError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(meta_err(path, key, format!("must be a string, found {v}"))),
    }
}

/// Reads and checks a `.sigmf-meta` file.
pub fn read_sigmf_meta(path: &Path) -> Result<SigmfMeta, IoError> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(IoError::NotFound {
                path: path.to_path_buf(),
            })
        }
        Err(_) if path.is_dir() => {
            return Err(IoError::IsDirectory {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(IoError::Open {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    parse_sigmf_meta(&text, path)
}

/// Parses and checks the text of a `.sigmf-meta` file. `path` only names the file in errors.
/// Never panics, whatever the bytes: anything that is not JSON, or lacks `global` /
/// `core:datatype`, or has a field of the wrong type, is an [`IoError`].
pub fn parse_sigmf_meta(text: &[u8], path: &Path) -> Result<SigmfMeta, IoError> {
    let v: Value = serde_json::from_slice(text).map_err(|e| IoError::MetaJson {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let global = v
        .get("global")
        .and_then(Value::as_object)
        .ok_or_else(|| meta_err(path, "global", "is missing or not an object"))?;
    let datatype = opt_str(global, "core:datatype", path)?
        .ok_or_else(|| meta_err(path, "core:datatype", "is missing from `global`"))?;
    let first_capture = match v.get("captures") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => match a.first() {
            None => None,
            Some(Value::Object(c)) => Some(c),
            Some(_) => return Err(meta_err(path, "captures", "entries must be objects")),
        },
        Some(_) => return Err(meta_err(path, "captures", "must be an array")),
    };
    let (frequency_hz, header_bytes) = match first_capture {
        Some(c) => (
            opt_f64(c, "core:frequency", path)?,
            opt_u64(c, "core:header_bytes", path)?.unwrap_or(0),
        ),
        None => (None, 0),
    };
    Ok(SigmfMeta {
        datatype,
        sample_rate_hz: opt_f64(global, "core:sample_rate", path)?,
        frequency_hz,
        dataset: opt_str(global, "core:dataset", path)?,
        header_bytes,
        description: opt_str(global, "core:description", path)?,
        num_channels: opt_u64(global, "core:num_channels", path)?.unwrap_or(1),
    })
}

/// One SigMF annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// First sample.
    pub sample_start: u64,
    /// Number of samples.
    pub sample_count: u64,
    /// `core:label`.
    pub label: String,
    /// `core:freq_lower_edge`, Hz (absolute, per SigMF).
    pub freq_lower_edge_hz: Option<f64>,
    /// `core:freq_upper_edge`, Hz.
    pub freq_upper_edge_hz: Option<f64>,
}

/// The SigMF 1.0.0 metadata document: `global` (datatype, sample rate, version, description,
/// recorder `droneid`, plus `extra_global`), one capture at sample 0 (with `core:frequency`
/// when known) and the annotations sorted by start. Non-finite numbers are left out.
pub fn sigmf_meta_json(
    format: SampleFormat,
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
    description: &str,
    annotations: &[Annotation],
    extra_global: &Map<String, Value>,
) -> Value {
    let mut global = Map::new();
    global.insert("core:datatype".into(), json!(format.sigmf_datatype()));
    global.insert("core:sample_rate".into(), json!(sample_rate_hz));
    global.insert("core:version".into(), json!("1.0.0"));
    global.insert("core:description".into(), json!(description));
    global.insert("core:recorder".into(), json!("droneid"));
    for (k, v) in extra_global {
        global.insert(k.clone(), v.clone());
    }
    let mut capture = Map::new();
    capture.insert("core:sample_start".into(), json!(0));
    if let Some(f) = center_freq_hz.filter(|f| f.is_finite()) {
        capture.insert("core:frequency".into(), json!(f));
    }
    let mut sorted: Vec<&Annotation> = annotations.iter().collect();
    sorted.sort_by_key(|a| a.sample_start);
    let annotations: Vec<Value> = sorted
        .into_iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("core:sample_start".into(), json!(a.sample_start));
            m.insert("core:sample_count".into(), json!(a.sample_count));
            if let Some(f) = a.freq_lower_edge_hz.filter(|f| f.is_finite()) {
                m.insert("core:freq_lower_edge".into(), json!(f));
            }
            if let Some(f) = a.freq_upper_edge_hz.filter(|f| f.is_finite()) {
                m.insert("core:freq_upper_edge".into(), json!(f));
            }
            m.insert("core:label".into(), json!(a.label));
            Value::Object(m)
        })
        .collect();
    json!({ "global": global, "captures": [capture], "annotations": annotations })
}

/// Writes `meta` as pretty JSON to `path` via `path.tmp` + rename (no partial file on error).
fn write_json_atomic(path: &Path, meta: &Value) -> Result<(), IoError> {
    let tmp = tmp_path(path);
    let werr = |source| IoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        let mut f = BufWriter::new(File::create(&tmp)?);
        serde_json::to_writer_pretty(&mut f, meta).map_err(std::io::Error::from)?;
        f.write_all(b"\n")?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(werr)
}

/// Writes a SigMF 1.0.0 `.sigmf-meta` file (see [`sigmf_meta_json`]) atomically.
pub fn write_sigmf_meta(
    meta_path: &Path,
    format: SampleFormat,
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
    description: &str,
    annotations: &[Annotation],
    extra_global: &Map<String, Value>,
) -> Result<(), IoError> {
    if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
        return Err(IoError::InvalidSampleRate {
            value: sample_rate_hz,
        });
    }
    let meta = sigmf_meta_json(
        format,
        sample_rate_hz,
        center_freq_hz,
        description,
        annotations,
        extra_global,
    );
    write_json_atomic(meta_path, &meta)
}

fn tmp_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Strips a trailing `.sigmf-meta`, `.sigmf-data` or `.sigmf` from a base path.
pub fn sigmf_base_path(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    for ext in [".sigmf-meta", ".sigmf-data", ".sigmf"] {
        if let Some(stem) = s.strip_suffix(ext) {
            return PathBuf::from(stem);
        }
    }
    p.to_path_buf()
}

/// `base` with `suffix` appended to its last component (`x` + `.sigmf-meta` → `x.sigmf-meta`).
pub fn path_with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes a SigMF recording `BASE.sigmf-data` + `BASE.sigmf-meta`.
///
/// Samples go to `BASE.sigmf-data.tmp` through a `BufWriter`; [`finish`](Self::finish) flushes
/// it, renames it to `BASE.sigmf-data` and then writes the metadata (also via a temporary file).
/// If the writer is dropped without `finish`, or `finish` fails, the temporary file is removed:
/// no partial recording is left behind (an older recording at the same path is replaced only by
/// a complete one).
#[derive(Debug)]
pub struct SigmfWriter {
    data_path: PathBuf,
    tmp_path: PathBuf,
    meta_path: PathBuf,
    writer: Option<BufWriter<File>>,
    format: SampleFormat,
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
    description: String,
    annotations: Vec<Annotation>,
    extra_global: Map<String, Value>,
    scratch: Vec<u8>,
    samples_written: u64,
}

impl SigmfWriter {
    /// Creates `BASE.sigmf-data.tmp`. `base_path` may end in `.sigmf-meta`/`.sigmf-data`/`.sigmf`
    /// (stripped). The sample rate must be positive and finite.
    pub fn create(
        base_path: &Path,
        format: SampleFormat,
        sample_rate_hz: f64,
        center_freq_hz: Option<f64>,
        description: &str,
    ) -> Result<Self, IoError> {
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(IoError::InvalidSampleRate {
                value: sample_rate_hz,
            });
        }
        if let Some(f) = center_freq_hz.filter(|f| !f.is_finite()) {
            return Err(IoError::InvalidCenterFreq { value: f });
        }
        let base = sigmf_base_path(base_path);
        let data_path = path_with_suffix(&base, ".sigmf-data");
        let meta_path = path_with_suffix(&base, ".sigmf-meta");
        let tmp_path = tmp_path(&data_path);
        if data_path.is_dir() {
            return Err(IoError::IsDirectory { path: data_path });
        }
        let file = File::create(&tmp_path).map_err(|source| IoError::Write {
            path: tmp_path.clone(),
            source,
        })?;
        Ok(SigmfWriter {
            data_path,
            tmp_path,
            meta_path,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            format,
            sample_rate_hz,
            center_freq_hz,
            description: description.to_string(),
            annotations: Vec::new(),
            extra_global: Map::new(),
            scratch: Vec::new(),
            samples_written: 0,
        })
    }

    /// Appends samples (encoded in the writer's format).
    pub fn write(&mut self, samples: &[Complex32]) -> Result<(), IoError> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        // Encode in bounded pieces so the scratch buffer stays small.
        for piece in samples.chunks(8192) {
            self.scratch.clear();
            self.format.encode(piece, &mut self.scratch);
            w.write_all(&self.scratch)
                .map_err(|source| IoError::Write {
                    path: self.tmp_path.clone(),
                    source,
                })?;
        }
        self.samples_written += samples.len() as u64;
        Ok(())
    }

    /// Adds an annotation (`freq_*` are absolute edges in Hz, per SigMF).
    pub fn annotate(
        &mut self,
        sample_start: u64,
        sample_count: u64,
        label: &str,
        freq_lower_edge_hz: Option<f64>,
        freq_upper_edge_hz: Option<f64>,
    ) {
        self.annotations.push(Annotation {
            sample_start,
            sample_count,
            label: label.to_string(),
            freq_lower_edge_hz,
            freq_upper_edge_hz,
        });
    }

    /// Adds a key to `global` (e.g. `"droneid:seed"`); SigMF wants extension keys namespaced.
    pub fn set_global(&mut self, key: &str, value: Value) {
        self.extra_global.insert(key.to_string(), value);
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }

    /// `BASE.sigmf-data` (the final name).
    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// `BASE.sigmf-meta`.
    pub fn meta_path(&self) -> &Path {
        &self.meta_path
    }

    /// Flushes the data, renames it into place and writes the metadata.
    pub fn finish(mut self) -> Result<(), IoError> {
        let Some(w) = self.writer.take() else {
            return Ok(());
        };
        let tmp = self.tmp_path.clone();
        let flushed = w
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all());
        if let Err(source) = flushed {
            let _ = std::fs::remove_file(&tmp);
            return Err(IoError::Write { path: tmp, source });
        }
        let meta = sigmf_meta_json(
            self.format,
            self.sample_rate_hz,
            self.center_freq_hz,
            &self.description,
            &self.annotations,
            &self.extra_global,
        );
        // Meta first to its own temp file, then both renames, so a failure leaves no new pair.
        let meta_tmp = tmp_path(&self.meta_path);
        if let Err(e) = write_json_atomic(&meta_tmp, &meta) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Err(source) = std::fs::rename(&tmp, &self.data_path) {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(&meta_tmp);
            return Err(IoError::Write {
                path: self.data_path.clone(),
                source,
            });
        }
        std::fs::rename(&meta_tmp, &self.meta_path).map_err(|source| {
            let _ = std::fs::remove_file(&meta_tmp);
            IoError::Write {
                path: self.meta_path.clone(),
                source,
            }
        })
    }
}

impl Drop for SigmfWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}
