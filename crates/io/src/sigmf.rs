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
    /// Every `captures` entry in order (at least one: a recording without `captures` is one
    /// segment at sample 0). A scanning receiver writes one per retune.
    pub captures: Vec<CaptureSegment>,
}

/// One `captures` entry: a stretch of the recording received at one centre frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureSegment {
    /// `core:sample_start`: index in the data file of the segment's first sample.
    pub sample_start: u64,
    /// `core:frequency`, Hz, when given.
    pub frequency_hz: Option<f64>,
    /// `core:datetime` as written (ISO 8601, UTC), when given.
    pub datetime: Option<String>,
    /// `core:datetime` as nanoseconds since 1970-01-01T00:00:00Z, when given.
    pub unix_time_ns: Option<i128>,
}

impl CaptureSegment {
    /// A segment at `sample_start` with an optional centre and no time.
    pub fn new(sample_start: u64, frequency_hz: Option<f64>) -> Self {
        Self {
            sample_start,
            frequency_hz,
            datetime: None,
            unix_time_ns: None,
        }
    }

    /// UTC time (ISO 8601, microseconds, `Z`) of sample `sample` (an index in the whole data
    /// file) at `sample_rate_hz`, when the segment's `core:datetime` is known: the segment's
    /// time plus `(sample − sample_start) / sample_rate_hz`.
    pub fn utc_at(&self, sample: i64, sample_rate_hz: f64) -> Option<String> {
        let t0 = self.unix_time_ns?;
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return None;
        }
        let offset_ns = ((sample - self.sample_start as i64) as f64 / sample_rate_hz * 1e9).round();
        Some(format_utc_ns(t0 + offset_ns as i128))
    }
}

/// The index of the segment that holds sample `sample` (samples before the first segment
/// belong to it). `segments` must be sorted by `sample_start`; an empty slice gives 0.
pub fn segment_index(segments: &[CaptureSegment], sample: i64) -> usize {
    if sample < 0 {
        return 0;
    }
    segments
        .partition_point(|s| s.sample_start <= sample as u64)
        .saturating_sub(1)
}

/// The index of the segment that holds all of samples `[start, start + len)`, or `None` when
/// they straddle a segment boundary (a retune).
pub fn segment_holding(segments: &[CaptureSegment], start: i64, len: u64) -> Option<usize> {
    let first = segment_index(segments, start);
    let last = segment_index(segments, start + len.max(1) as i64 - 1);
    (first == last).then_some(first)
}

/// Length in samples, at `sample_rate_hz`, of a DroneID burst of `symbols` OFDM symbols
/// (9: 9880 samples at 15.36 MS/s; 8: 8776), rounded up.
pub fn burst_len_samples(symbols: u8, sample_rate_hz: f64) -> u64 {
    let base = if symbols >= 9 {
        droneid_core::BurstFormat::Nine.len_base()
    } else {
        droneid_core::BurstFormat::Eight.len_base()
    };
    (base as f64 * sample_rate_hz / droneid_core::BASE_SAMPLE_RATE_HZ).ceil() as u64
}

/// The SigMF annotation of one decoded burst, from its JSON line (`frame_json`, the keys of
/// `droneid decode`): `core:sample_start`/`core:sample_count` (`sample_start`, the burst
/// length at `sample_rate_hz`), the occupied 9.015 MHz around the absolute `center_freq_hz`
/// as `core:freq_lower_edge`/`core:freq_upper_edge` (left out when the centre is unknown),
/// `core:label` "DroneID", a `core:comment` with serial number and message type, and every
/// non-null key of the line as `droneid:<key>`. `sample_offset` is subtracted from the
/// start (0 for the recording the line came from).
pub fn droneid_annotation(
    frame_json: &Map<String, Value>,
    sample_rate_hz: f64,
    sample_offset: i64,
) -> Annotation {
    let start = frame_json
        .get("start_sample")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        - sample_offset;
    let symbols = frame_json
        .get("symbols")
        .and_then(Value::as_u64)
        .unwrap_or(9) as u8;
    let center = frame_json.get("center_freq_hz").and_then(Value::as_f64);
    let half_bw = 0.5 * droneid_core::OCCUPIED_BANDWIDTH_HZ;
    let serial = frame_json
        .get("serial_number")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let msg_type = frame_json.get("msg_type").and_then(Value::as_u64);
    let mut comment = format!("serial {serial}");
    if let Some(t) = msg_type {
        comment.push_str(&format!(", message type 0x{t:02x}"));
    }
    if frame_json.get("crc24_ok") == Some(&Value::Bool(false)) {
        comment.push_str(", CRC24 failed");
    }
    let extra = frame_json
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (format!("droneid:{k}"), v.clone()))
        .collect();
    Annotation {
        sample_start: start.max(0) as u64,
        sample_count: burst_len_samples(symbols, sample_rate_hz),
        label: "DroneID".into(),
        freq_lower_edge_hz: center.map(|c| c - half_bw),
        freq_upper_edge_hz: center.map(|c| c + half_bw),
        comment: Some(comment),
        extra,
    }
}

const NS_PER_S: i128 = 1_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of day `z` since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses an ISO 8601 time as SigMF writes it, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`
/// (a missing zone is read as UTC), into nanoseconds since the Unix epoch. `None` if malformed.
pub fn parse_datetime_ns(text: &str) -> Option<i128> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut frac_ns: i128 = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in r[..digits].bytes().enumerate().take(9) {
            frac_ns += (c - b'0') as i128 * 10i128.pow(8 - i as u32);
        }
        rest = &r[digits..];
    }
    let zone_s: i64 = match rest {
        "" | "Z" | "z" => 0,
        z if (z.starts_with('+') || z.starts_with('-')) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let zh: i64 = digits[..2].parse().ok()?;
            let zm: i64 = digits[2..].parse().ok()?;
            sign * (zh * 3600 + zm * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - zone_s;
    Some(secs as i128 * NS_PER_S + frac_ns)
}

/// Formats nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds,
/// rounded).
pub fn format_utc_ns(ns: i128) -> String {
    let us = (ns + 500).div_euclid(1000);
    let secs = us.div_euclid(1_000_000) as i64;
    let frac = us.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
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
    let entries: &[Value] = match v.get("captures") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(meta_err(path, "captures", "must be an array")),
    };
    let mut captures = Vec::with_capacity(entries.len().max(1));
    let mut header_bytes = 0;
    for (i, entry) in entries.iter().enumerate() {
        let Value::Object(c) = entry else {
            return Err(meta_err(path, "captures", "entries must be objects"));
        };
        let sample_start = opt_u64(c, "core:sample_start", path)?;
        let sample_start = match (i, sample_start) {
            (_, Some(s)) => s,
            (0, None) => 0,
            (_, None) => {
                return Err(meta_err(
                    path,
                    &format!("captures[{i}].core:sample_start"),
                    "is missing (every capture segment after the first needs one)",
                ))
            }
        };
        if let Some(prev) = captures.last().map(|p: &CaptureSegment| p.sample_start) {
            if sample_start <= prev {
                return Err(meta_err(
                    path,
                    &format!("captures[{i}].core:sample_start"),
                    format!("is {sample_start}, not after the previous segment's {prev}; captures must be in increasing sample order"),
                ));
            }
        }
        if i == 0 {
            header_bytes = opt_u64(c, "core:header_bytes", path)?.unwrap_or(0);
        }
        let datetime = opt_str(c, "core:datetime", path)?;
        let unix_time_ns = match &datetime {
            None => None,
            Some(d) => Some(parse_datetime_ns(d).ok_or_else(|| {
                meta_err(
                    path,
                    &format!("captures[{i}].core:datetime"),
                    format!("{d:?} is not an ISO 8601 UTC time like 2026-11-25T12:00:00.000Z"),
                )
            })?),
        };
        captures.push(CaptureSegment {
            sample_start,
            frequency_hz: opt_f64(c, "core:frequency", path)?,
            datetime,
            unix_time_ns,
        });
    }
    if captures.is_empty() {
        captures.push(CaptureSegment::new(0, None));
    }
    let frequency_hz = captures[0].frequency_hz;
    Ok(SigmfMeta {
        datatype,
        sample_rate_hz: opt_f64(global, "core:sample_rate", path)?,
        frequency_hz,
        dataset: opt_str(global, "core:dataset", path)?,
        header_bytes,
        description: opt_str(global, "core:description", path)?,
        num_channels: opt_u64(global, "core:num_channels", path)?.unwrap_or(1),
        captures,
    })
}

/// One SigMF annotation.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// `core:comment`, if any.
    pub comment: Option<String>,
    /// More keys, each namespaced (e.g. `droneid:serial_number`); a `droneid:` key makes the
    /// document declare the `droneid` extension in `global.core:extensions`.
    pub extra: Map<String, Value>,
}

impl Annotation {
    /// The annotation as a SigMF `annotations` entry (non-finite edges left out).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("core:sample_start".into(), json!(self.sample_start));
        m.insert("core:sample_count".into(), json!(self.sample_count));
        if let Some(f) = self.freq_lower_edge_hz.filter(|f| f.is_finite()) {
            m.insert("core:freq_lower_edge".into(), json!(f));
        }
        if let Some(f) = self.freq_upper_edge_hz.filter(|f| f.is_finite()) {
            m.insert("core:freq_upper_edge".into(), json!(f));
        }
        m.insert("core:label".into(), json!(self.label));
        if let Some(c) = &self.comment {
            m.insert("core:comment".into(), json!(c));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// The `droneid` SigMF extension as declared in `global.core:extensions`.
pub const DRONEID_EXTENSION: &str = "droneid";
/// Version of the `droneid` extension's keys.
pub const DRONEID_EXTENSION_VERSION: &str = "1.0.0";

/// Adds `{"name": "droneid", "version": …, "optional": true}` to `global.core:extensions`
/// if the document uses a `droneid:` key anywhere and does not declare it yet.
fn declare_droneid_extension(doc: &mut Value) {
    let uses = |m: &Map<String, Value>| m.keys().any(|k| k.starts_with("droneid:"));
    let used = doc
        .get("global")
        .and_then(Value::as_object)
        .is_some_and(uses)
        || ["captures", "annotations"].iter().any(|section| {
            doc.get(*section)
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().filter_map(Value::as_object).any(uses))
        });
    let Some(global) = doc.get_mut("global").and_then(Value::as_object_mut) else {
        return;
    };
    if !used {
        return;
    }
    let ext = global
        .entry("core:extensions")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !ext.is_array() {
        *ext = Value::Array(Vec::new());
    }
    let list = ext.as_array_mut().expect("array");
    if !list
        .iter()
        .any(|e| e.get("name").and_then(Value::as_str) == Some(DRONEID_EXTENSION))
    {
        list.push(json!({
            "name": DRONEID_EXTENSION,
            "version": DRONEID_EXTENSION_VERSION,
            "optional": true
        }));
    }
}

fn capture_json(c: &CaptureSegment) -> Value {
    let mut capture = Map::new();
    capture.insert("core:sample_start".into(), json!(c.sample_start));
    if let Some(f) = c.frequency_hz.filter(|f| f.is_finite()) {
        capture.insert("core:frequency".into(), json!(f));
    }
    if let Some(d) = &c.datetime {
        capture.insert("core:datetime".into(), json!(d));
    }
    Value::Object(capture)
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
    sigmf_meta_json_segments(
        format,
        sample_rate_hz,
        &[CaptureSegment::new(0, center_freq_hz)],
        description,
        annotations,
        extra_global,
    )
}

/// Like [`sigmf_meta_json`] with several capture segments (sorted by `sample_start`, the
/// first at 0), each with its own `core:frequency` and `core:datetime`; declares the
/// `droneid` extension when a `droneid:` key is used.
pub fn sigmf_meta_json_segments(
    format: SampleFormat,
    sample_rate_hz: f64,
    captures: &[CaptureSegment],
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
    let mut sorted: Vec<&Annotation> = annotations.iter().collect();
    sorted.sort_by_key(|a| a.sample_start);
    let annotations: Vec<Value> = sorted.into_iter().map(Annotation::to_json).collect();
    let captures: Vec<Value> = captures.iter().map(capture_json).collect();
    let mut doc = json!({ "global": global, "captures": captures, "annotations": annotations });
    declare_droneid_extension(&mut doc);
    doc
}

/// Writes a copy of the SigMF metadata `in_meta` to `out_meta` with `annotations` added to
/// its `annotations` (existing entries kept, all sorted by `core:sample_start`) and the
/// `droneid` extension declared. Every other key is kept as it was. `dataset`, if given,
/// becomes `global.core:dataset` (so a copy elsewhere still names its data file). The data
/// file is never opened; `out_meta` is written through a temporary file and a rename.
pub fn write_annotated_copy(
    in_meta: &Path,
    out_meta: &Path,
    annotations: &[Annotation],
    dataset: Option<&str>,
) -> Result<(), IoError> {
    let text = std::fs::read(in_meta).map_err(|source| IoError::Open {
        path: in_meta.to_path_buf(),
        source,
    })?;
    let mut doc: Value = serde_json::from_slice(&text).map_err(|e| IoError::MetaJson {
        path: in_meta.to_path_buf(),
        message: e.to_string(),
    })?;
    let Some(obj) = doc.as_object_mut() else {
        return Err(meta_err(in_meta, "global", "is missing or not an object"));
    };
    let mut all: Vec<Value> = match obj.remove("annotations") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    all.extend(annotations.iter().map(Annotation::to_json));
    all.sort_by_key(|a| {
        a.get("core:sample_start")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    });
    obj.insert("annotations".into(), Value::Array(all));
    if let (Some(d), Some(g)) = (
        dataset,
        obj.get_mut("global").and_then(Value::as_object_mut),
    ) {
        g.insert("core:dataset".into(), json!(d));
    }
    declare_droneid_extension(&mut doc);
    write_json_atomic(out_meta, &doc)
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
    description: String,
    captures: Vec<CaptureSegment>,
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
            description: description.to_string(),
            captures: vec![CaptureSegment::new(0, center_freq_hz)],
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
            ..Annotation::default()
        });
    }

    /// Adds a complete annotation (comment and namespaced keys included).
    pub fn add_annotation(&mut self, annotation: Annotation) {
        self.annotations.push(annotation);
    }

    /// Sets the first capture segment's `core:datetime` (ISO 8601 UTC).
    pub fn set_datetime(&mut self, datetime: &str) {
        self.captures[0].datetime = Some(datetime.to_string());
        self.captures[0].unix_time_ns = parse_datetime_ns(datetime);
    }

    /// Starts a new capture segment at sample `sample_start` (a retune): its own
    /// `core:frequency` and `core:datetime`. Segments must be added in increasing order, after
    /// the first (at 0); a `sample_start` not after the last segment's is ignored.
    pub fn add_capture(
        &mut self,
        sample_start: u64,
        frequency_hz: Option<f64>,
        datetime: Option<&str>,
    ) {
        if self
            .captures
            .last()
            .is_some_and(|c| sample_start <= c.sample_start)
        {
            return;
        }
        self.captures.push(CaptureSegment {
            sample_start,
            frequency_hz: frequency_hz.filter(|f| f.is_finite()),
            datetime: datetime.map(str::to_string),
            unix_time_ns: datetime.and_then(parse_datetime_ns),
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
        let meta = sigmf_meta_json_segments(
            self.format,
            self.sample_rate_hz,
            &self.captures,
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
