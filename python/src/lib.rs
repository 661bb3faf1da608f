//! The `droneid` Python module: DJI DroneID decoding from numpy arrays and recordings through
//! the same engine as `droneid decode` (`droneid_engine::run`), a push-driven `Receiver` (the
//! engine's single-threaded `StreamDecoder`), and the synthesiser.
//!
//! * `decode(samples, sample_rate, center_freq=None, *, all=False, iterations=8,
//!   decode_threads=None) -> list[dict]`: the JSON lines of `droneid decode` as dicts.
//!   `samples`: 1-D complex64 (read in place when C-contiguous), complex128, or interleaved
//!   I/Q as int16 / int8 / uint8, 1-D of even length or shape (N, 2); scaled exactly as the
//!   CLI's `--format cf64|ci16|ci8|cu8`.
//! * `decode_file(path, sample_rate=None, center_freq=None, format=None, *, ...)`: raw or SigMF
//!   recordings with the CLI's options, errors and per-segment frequency/UTC.
//! * `Receiver(sample_rate, center_freq=None, *, all=False, iterations=8)`: `push(block) ->
//!   list[dict]`, `flush() -> list[dict]`, `stats`.
//! * `synth(...) -> (samples, truth)`: `droneid synth` in memory.
//!
//! Errors are Python exceptions with the CLI's one-line messages: `ValueError` for unusable
//! input or options (the CLI's exit 2), `FileNotFoundError` / `IsADirectoryError` / `OSError`
//! for I/O. The GIL is released while samples are decoded or synthesised.
#![deny(unsafe_code)]

use droneid_core::{BurstFormat, Complex32, BASE_SAMPLE_RATE_HZ, OCCUPIED_BANDWIDTH_HZ};
use droneid_engine::{
    BlockSource, EngineConfig, FileSource, RunControl, SourceDescription, SourceError, SourceRead,
    StreamDecoder,
};
use droneid_io::{
    burst_len_samples, segment_holding, CaptureSegment, InputOptions, IoError, SampleFormat,
};
use droneid_receiver::{Frame, ReceiverConfig};
use numpy::{
    PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString};
use serde_json::Value;

/// One line, as the CLI prints it after `droneid: `.
fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

fn value_error(msg: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(one_line(&msg.to_string()))
}

/// `IoError` → the matching Python exception, with the CLI's message.
fn io_error(e: IoError) -> PyErr {
    let msg = one_line(&e.to_string());
    match e {
        IoError::NotFound { .. } => PyFileNotFoundError::new_err(msg),
        IoError::IsDirectory { .. } => PyIsADirectoryError::new_err(msg),
        IoError::Open { .. } | IoError::Read { .. } | IoError::Write { .. } => {
            PyOSError::new_err(msg)
        }
        _ => PyValueError::new_err(msg),
    }
}

/// JSON value → Python object (dict, list, str, int, float, bool, None).
fn to_py(py: Python<'_>, v: &Value) -> PyResult<PyObject> {
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN))
                    .into_any()
                    .unbind()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any().unbind()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

/// A frame's JSON line as a dict, with `utc` when known.
fn frame_dict(py: Python<'_>, frame: &Frame, utc: Option<&str>) -> PyResult<PyObject> {
    let mut m = frame.to_json();
    if let Some(t) = utc {
        m.insert("utc".into(), Value::String(t.to_string()));
    }
    to_py(py, &Value::Object(m))
}

/// The CLI's checks of a sample rate (`--sample-rate`, SigMF `core:sample_rate`).
fn check_rate(rate: f64, what: &str) -> PyResult<()> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(io_error(IoError::InvalidSampleRate { value: rate }));
    }
    if rate > droneid_io::MAX_SAMPLE_RATE_HZ {
        return Err(io_error(IoError::SampleRateTooHigh { value: rate }));
    }
    if rate < BASE_SAMPLE_RATE_HZ * 0.999 {
        return Err(value_error(format!(
            "sample rate {:.6} MS/s of '{what}' is below 15.36 MS/s, the lowest rate that holds a 9 MHz DroneID burst (--sample-rate)",
            rate / 1e6
        )));
    }
    Ok(())
}

fn check_center(center: Option<f64>) -> PyResult<()> {
    match center {
        Some(c) if !c.is_finite() => Err(io_error(IoError::InvalidCenterFreq { value: c })),
        _ => Ok(()),
    }
}

/// The engine configuration `droneid decode` would build from these options.
fn engine_config(
    sample_rate: f64,
    center: Option<f64>,
    all: bool,
    iterations: u32,
    decode_threads: Option<u32>,
) -> PyResult<EngineConfig> {
    if !(1..=16).contains(&iterations) {
        return Err(value_error(format!(
            "iterations: {iterations} is not in 1..=16"
        )));
    }
    let mut cfg = ReceiverConfig::new(sample_rate);
    cfg.center_freq_hz = center;
    cfg.report_failed = all;
    cfg.max_iterations = iterations;
    let mut engine = EngineConfig::new(cfg);
    if let Some(t) = decode_threads {
        if !(1..=64).contains(&t) {
            return Err(value_error(format!("decode_threads: {t} is not in 1..=64")));
        }
        engine.decode_threads = t as usize;
    }
    Ok(engine)
}

/// Samples from a numpy array: borrowed in place (C-contiguous finite complex64) or converted
/// (every other accepted dtype, through the CLI's own format decoders).
enum Samples<'py> {
    Borrowed(numpy::PyReadonlyArray1<'py, Complex32>),
    Owned(Vec<Complex32>),
}

impl Samples<'_> {
    fn as_slice(&self) -> &[Complex32] {
        match self {
            Samples::Borrowed(a) => a.as_slice().unwrap_or(&[]),
            Samples::Owned(v) => v,
        }
    }
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Elements of a typed array in C order, as little-endian bytes.
fn array_bytes<'py, T, const B: usize>(
    a: &Bound<'py, PyUntypedArray>,
    to_le: fn(T) -> [u8; B],
) -> PyResult<Vec<u8>>
where
    T: numpy::Element + Copy,
{
    let typed = a.downcast::<PyArrayDyn<T>>()?.readonly();
    let view = typed.as_array();
    let mut out = Vec::with_capacity(view.len() * B);
    match view.as_slice() {
        Some(s) => s.iter().for_each(|&x| out.extend_from_slice(&to_le(x))),
        None => view.iter().for_each(|&x| out.extend_from_slice(&to_le(x))),
    }
    Ok(out)
}

/// Checks and converts `obj` (see the module docs for the accepted dtypes and shapes).
fn samples_from<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Samples<'py>> {
    let py = obj.py();
    let arr = obj.downcast::<PyUntypedArray>().map_err(|_| {
        let t = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        value_error(format!(
            "samples must be a numpy array (complex64, complex128, or interleaved int16/int8/uint8), got {t}"
        ))
    })?;
    let dtype = arr.dtype();
    let shape = arr.shape().to_vec();
    let is = |d: Bound<'py, numpy::PyArrayDescr>| dtype.is_equiv_to(&d);
    if is(numpy::dtype::<Complex32>(py)) || is(numpy::dtype::<num_complex_c64::C64>(py)) {
        if shape.len() != 1 {
            return Err(value_error(format!(
                "complex samples must be a 1-D array of shape (N,), got shape {}",
                shape_text(&shape)
            )));
        }
        if is(numpy::dtype::<Complex32>(py)) {
            let typed = arr.downcast::<PyArray1<Complex32>>()?.readonly();
            let finite = match typed.as_slice() {
                Ok(s) => s.iter().all(|c| c.re.is_finite() && c.im.is_finite()),
                Err(_) => false,
            };
            if finite {
                return Ok(Samples::Borrowed(typed));
            }
            let bytes = array_bytes::<Complex32, 8>(arr, |c| {
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&c.re.to_le_bytes());
                b[4..].copy_from_slice(&c.im.to_le_bytes());
                b
            })?;
            return Ok(Samples::Owned(decode_bytes(SampleFormat::Cf32, &bytes)));
        }
        let bytes = array_bytes::<num_complex_c64::C64, 16>(arr, |c| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&c.re.to_le_bytes());
            b[8..].copy_from_slice(&c.im.to_le_bytes());
            b
        })?;
        return Ok(Samples::Owned(decode_bytes(SampleFormat::Cf64, &bytes)));
    }
    let format = if is(numpy::dtype::<i16>(py)) {
        SampleFormat::Ci16
    } else if is(numpy::dtype::<i8>(py)) {
        SampleFormat::Ci8
    } else if is(numpy::dtype::<u8>(py)) {
        SampleFormat::Cu8
    } else {
        let name = dtype.str().map(|s| s.to_string()).unwrap_or_default();
        return Err(value_error(format!(
            "unsupported sample dtype {name}: use complex64, complex128, or interleaved I/Q as int16, int8 or uint8"
        )));
    };
    let interleaved_ok = match shape.as_slice() {
        [n] => n % 2 == 0,
        [_, 2] => true,
        _ => false,
    };
    if !interleaved_ok {
        return Err(value_error(format!(
            "interleaved {} I/Q samples must be 1-D of even length (I0, Q0, I1, Q1, ...) or of shape (N, 2), got shape {}",
            format.name(),
            shape_text(&shape)
        )));
    }
    let bytes = match format {
        SampleFormat::Ci16 => array_bytes::<i16, 2>(arr, i16::to_le_bytes)?,
        SampleFormat::Ci8 => array_bytes::<i8, 1>(arr, i8::to_le_bytes)?,
        _ => array_bytes::<u8, 1>(arr, |x| [x])?,
    };
    Ok(Samples::Owned(decode_bytes(format, &bytes)))
}

/// complex128 as numpy stores it.
mod num_complex_c64 {
    pub type C64 = droneid_core::Complex64;
}

fn decode_bytes(format: SampleFormat, bytes: &[u8]) -> Vec<Complex32> {
    let mut out = vec![Complex32::new(0.0, 0.0); bytes.len() / format.bytes_per_sample()];
    format.decode(&bytes[..out.len() * format.bytes_per_sample()], &mut out);
    out
}

/// A slice of samples served to the engine like a file.
struct SliceSource {
    data: &'static [Complex32],
    pos: usize,
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
}

impl BlockSource for SliceSource {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            label: "samples".into(),
            sample_rate_hz: self.sample_rate_hz,
            center_freq_hz: self.center_freq_hz,
            total_samples: Some(self.data.len() as u64),
            live: false,
        }
    }

    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(SourceRead {
            samples: n,
            ..SourceRead::default()
        })
    }
}

/// Runs the engine over `samples` without copying them first.
#[allow(unsafe_code)]
fn run_on_slice(
    cfg: &EngineConfig,
    samples: &[Complex32],
    center: Option<f64>,
) -> Result<Vec<Frame>, String> {
    // SAFETY: `droneid_engine::run` takes its source as a `Box<dyn BlockSource>` (so 'static),
    // but only uses it during the call (its threads are scoped) and drops it before returning;
    // nothing derived from the source outlives the call. `samples` is borrowed for the whole of
    // this function, so the extended reference is never used after the borrow ends.
    let data: &'static [Complex32] =
        unsafe { std::mem::transmute::<&[Complex32], &'static [Complex32]>(samples) };
    let source = SliceSource {
        data,
        pos: 0,
        sample_rate_hz: cfg.receiver.sample_rate_hz,
        center_freq_hz: center,
    };
    let mut frames = Vec::new();
    let mut sink = |f: Frame| frames.push(f);
    droneid_engine::run(
        cfg,
        Box::new(source),
        &RunControl::default(),
        &mut sink,
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok(frames)
}

/// Decodes every DroneID burst in `samples`; returns one dict per frame with the keys of
/// `droneid decode`'s JSON lines.
#[pyfunction]
#[pyo3(signature = (samples, sample_rate, center_freq=None, *, all=false, iterations=8, decode_threads=None))]
fn decode(
    py: Python<'_>,
    samples: &Bound<'_, PyAny>,
    sample_rate: f64,
    center_freq: Option<f64>,
    all: bool,
    iterations: u32,
    decode_threads: Option<u32>,
) -> PyResult<Vec<PyObject>> {
    check_rate(sample_rate, "samples")?;
    check_center(center_freq)?;
    let cfg = engine_config(sample_rate, center_freq, all, iterations, decode_threads)?;
    let samples = samples_from(samples)?;
    let slice = samples.as_slice();
    let frames = py
        .allow_threads(|| run_on_slice(&cfg, slice, center_freq))
        .map_err(value_error)?;
    frames.iter().map(|f| frame_dict(py, f, None)).collect()
}

/// The centre and UTC time of a frame's capture segment; `None` if the burst straddles a
/// retune (it is then not reported, as in `droneid decode`).
fn place(frame: &mut Frame, segments: &[CaptureSegment], rate: f64) -> Option<Option<String>> {
    let len = burst_len_samples(frame.symbols, rate);
    let seg = &segments[segment_holding(segments, frame.start_sample, len)?];
    if let Some(f) = seg.frequency_hz {
        frame.capture_center_freq_hz = Some(f);
    }
    Some(seg.utc_at(frame.start_sample, rate))
}

/// Decodes a recording: raw IQ (`sample_rate` needed, `format` cf32 by default) or SigMF (rate,
/// format and centre from its metadata; options override them), like `droneid decode`.
#[pyfunction]
#[pyo3(signature = (path, sample_rate=None, center_freq=None, format=None, *, all=false, iterations=8, decode_threads=None))]
#[allow(clippy::too_many_arguments)]
fn decode_file(
    py: Python<'_>,
    path: std::path::PathBuf,
    sample_rate: Option<f64>,
    center_freq: Option<f64>,
    format: Option<&str>,
    all: bool,
    iterations: u32,
    decode_threads: Option<u32>,
) -> PyResult<Vec<PyObject>> {
    let format = match format {
        Some(f) => Some(f.parse::<SampleFormat>().map_err(value_error)?),
        None => None,
    };
    let opts = InputOptions {
        sample_rate_hz: sample_rate,
        center_freq_hz: center_freq,
        format,
    };
    let path_text = path.to_string_lossy().into_owned();
    let source = droneid_io::open_input(&path_text, &opts).map_err(io_error)?;
    let info = source.info().clone();
    check_rate(info.sample_rate_hz, &info.path)?;
    let cfg = engine_config(
        info.sample_rate_hz,
        info.center_freq_hz,
        all,
        iterations,
        decode_threads,
    )?;
    let segments = source.segments().to_vec();
    let result = py.allow_threads(move || {
        let mut frames = Vec::new();
        let mut sink = |f: Frame| frames.push(f);
        droneid_engine::run(
            &cfg,
            Box::new(FileSource::new(source)),
            &RunControl::default(),
            &mut sink,
            None,
        )
        .map(|summary| (frames, summary.source_error))
        .map_err(|e| e.to_string())
    });
    let (frames, source_error) = result.map_err(value_error)?;
    if let Some(e) = source_error {
        return Err(PyOSError::new_err(one_line(&e)));
    }
    let mut out = Vec::with_capacity(frames.len());
    for mut f in frames {
        if let Some(utc) = place(&mut f, &segments, info.sample_rate_hz) {
            out.push(frame_dict(py, &f, utc.as_deref())?);
        }
    }
    Ok(out)
}

/// A push-driven receiver (the engine's single-threaded configuration): feed it blocks of any
/// size as they arrive (a GNU Radio block, a SoapySDR loop); each call returns the frames
/// finished meanwhile. Frames are those `decode` finds in the concatenated blocks.
#[pyclass(module = "droneid")]
struct Receiver {
    decoder: StreamDecoder,
    finished: bool,
}

#[pymethods]
impl Receiver {
    #[new]
    #[pyo3(signature = (sample_rate, center_freq=None, *, all=false, iterations=8))]
    fn new(
        sample_rate: f64,
        center_freq: Option<f64>,
        all: bool,
        iterations: u32,
    ) -> PyResult<Self> {
        check_rate(sample_rate, "samples")?;
        check_center(center_freq)?;
        let cfg = engine_config(sample_rate, center_freq, all, iterations, None)?;
        let decoder = StreamDecoder::new(&cfg).map_err(value_error)?;
        Ok(Self {
            decoder,
            finished: false,
        })
    }

    /// Pushes the next samples (same dtypes and shapes as `decode`); returns finished frames.
    fn push(&mut self, py: Python<'_>, block: &Bound<'_, PyAny>) -> PyResult<Vec<PyObject>> {
        if self.finished {
            return Err(PyRuntimeError::new_err(
                "Receiver.push after flush(): make a new Receiver for a new stream",
            ));
        }
        let samples = samples_from(block)?;
        let slice = samples.as_slice();
        let decoder = &mut self.decoder;
        let frames = py.allow_threads(|| {
            let mut frames = Vec::new();
            decoder.push(slice, &mut |f| frames.push(f));
            frames
        });
        frames.iter().map(|f| frame_dict(py, f, None)).collect()
    }

    /// End of stream: decodes what is left and returns those frames.
    fn flush(&mut self, py: Python<'_>) -> PyResult<Vec<PyObject>> {
        if self.finished {
            return Ok(Vec::new());
        }
        self.finished = true;
        let decoder = &mut self.decoder;
        let frames = py.allow_threads(|| {
            let mut frames = Vec::new();
            decoder.finish(&mut |f| frames.push(f));
            frames
        });
        frames.iter().map(|f| frame_dict(py, f, None)).collect()
    }

    /// Counters so far: samples, candidates, no_sync, crc24_ok, crc24_failed, crc16_failed,
    /// duplicates.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.decoder.stats();
        let d = PyDict::new(py);
        d.set_item("samples", s.samples)?;
        d.set_item("candidates", s.candidates)?;
        d.set_item("no_sync", s.no_sync)?;
        d.set_item("crc24_ok", s.crc24_ok)?;
        d.set_item("crc24_failed", s.crc24_failed)?;
        d.set_item("crc16_failed", s.crc16_failed)?;
        d.set_item("duplicates", s.duplicates)?;
        Ok(d)
    }
}

/// Synthesises a capture like `droneid synth` (same options, defaults and seed, so the same
/// samples): returns `(samples, truth)`, a complex64 array and one dict per burst.
#[pyfunction]
#[pyo3(signature = (
    sample_rate=15.36e6, *, bursts=None, symbols=9, cp_schedule="kz", snr_db=None, cfo_hz=0.0,
    freq_offset_hz=0.0, seed=1, drones=1, random_offsets=false, interval_ms=600.0,
    jitter_ms=None, duration_s=None, lead_in_ms=1.0, tail_ms=1.0, center_freq=None, ppm=0.0,
    identity_every=0, zero_phase=false
))]
#[allow(clippy::too_many_arguments)]
fn synth<'py>(
    py: Python<'py>,
    sample_rate: f64,
    bursts: Option<u64>,
    symbols: u32,
    cp_schedule: &str,
    snr_db: Option<f64>,
    cfo_hz: f64,
    freq_offset_hz: f64,
    seed: u64,
    drones: u32,
    random_offsets: bool,
    interval_ms: f64,
    jitter_ms: Option<f64>,
    duration_s: Option<f64>,
    lead_in_ms: f64,
    tail_ms: f64,
    center_freq: Option<f64>,
    ppm: f64,
    identity_every: u32,
    zero_phase: bool,
) -> PyResult<(Bound<'py, PyArray1<Complex32>>, Vec<PyObject>)> {
    if !(15.36e6..=10e9).contains(&sample_rate) {
        return Err(value_error(format!(
            "sample_rate: {sample_rate} Hz is outside the allowed range 15.36e6..=10e9 Hz"
        )));
    }
    let format = match (symbols, cp_schedule) {
        (9, _) => BurstFormat::Nine,
        (8, "kz") => BurstFormat::Eight,
        (8, "rub") => BurstFormat::EightLongFirstCp,
        (8, other) => {
            return Err(value_error(format!(
                "cp_schedule: {other:?} is not kz or rub"
            )))
        }
        (n, _) => {
            return Err(value_error(format!(
                "symbols: {n} is not allowed; use 9 or 8"
            )))
        }
    };
    let mut sc = droneid_synth::Scenario::new(sample_rate);
    sc.format = format;
    sc.seed = seed;
    sc.center_freq_hz = center_freq;
    if drones == 0 || drones > 1000 {
        return Err(value_error(format!("drones: {drones} is outside 1..=1000")));
    }
    sc.drones = drones as usize;
    if let Some(n) = bursts {
        if n > 10_000_000 {
            return Err(value_error(format!("bursts: {n} is outside 0..=10000000")));
        }
        sc.bursts_per_drone = Some(n as usize);
    }
    if let Some(d) = duration_s {
        if !(d.is_finite() && d > 0.0) {
            return Err(value_error(format!(
                "duration_s: {d} must be a finite number of seconds > 0"
            )));
        }
        sc.duration_s = Some(d);
    }
    let ms = |name: &str, v: f64| -> PyResult<f64> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(value_error(format!(
                "{name}: {v} must be a finite number of milliseconds >= 0"
            )));
        }
        Ok(v * 1e-3)
    };
    sc.interval_s = ms("interval_ms", interval_ms)?;
    sc.jitter_s = ms("jitter_ms", jitter_ms.unwrap_or(0.02 * interval_ms))?;
    sc.lead_in_s = ms("lead_in_ms", lead_in_ms)?;
    sc.tail_s = ms("tail_ms", tail_ms)?;
    if let Some(snr) = snr_db {
        if !(snr.is_finite() && (-100.0..=200.0).contains(&snr)) {
            return Err(value_error(format!(
                "snr_db: {snr} is outside -100..=200 dB"
            )));
        }
        sc.snr_db = Some(snr);
    }
    if random_offsets && freq_offset_hz != 0.0 {
        return Err(value_error(
            "freq_offset_hz: cannot be combined with random_offsets",
        ));
    }
    sc.cfo_hz = cfo_hz;
    sc.freq_offset_hz = freq_offset_hz;
    let edge = (freq_offset_hz + cfo_hz).abs() + OCCUPIED_BANDWIDTH_HZ / 2.0;
    if !edge.is_finite() || edge > sample_rate / 2.0 {
        return Err(value_error(format!(
            "freq_offset_hz/cfo_hz: |offset + cfo| must be <= {:.0} Hz at {sample_rate} S/s (the 9.015 MHz burst must fit inside ±Fs/2)",
            sample_rate / 2.0 - OCCUPIED_BANDWIDTH_HZ / 2.0
        )));
    }
    sc.random_offsets = random_offsets;
    if !(ppm.is_finite() && ppm.abs() <= 1000.0) {
        return Err(value_error(format!("ppm: {ppm} is outside -1000..=1000")));
    }
    sc.sample_clock_ppm = ppm;
    sc.identity_every = identity_every as usize;
    sc.random_phase = !zero_phase;
    let spec = sc.build().map_err(value_error)?;
    if spec.total_samples == 0 {
        return Err(value_error("duration_s: the capture would hold no samples"));
    }
    let rendered = py.allow_threads(|| {
        let mut samples = Vec::with_capacity(spec.total_samples as usize);
        droneid_synth::render_capture(
            &spec,
            droneid_synth::DEFAULT_BLOCK_LEN,
            &mut |b: &[Complex32]| -> Result<(), droneid_synth::SynthError> {
                samples.extend_from_slice(b);
                Ok(())
            },
        )
        .map(|truth| (samples, truth))
    });
    let (samples, truth) = rendered.map_err(value_error)?;
    let truth = truth
        .iter()
        .map(|t| {
            let v = serde_json::to_value(t).map_err(value_error)?;
            to_py(py, &v)
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((PyArray1::from_vec(py, samples), truth))
}

/// DJI DroneID decoding from IQ samples (numpy arrays, raw and SigMF recordings).
#[pymodule]
fn droneid(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(decode_file, m)?)?;
    m.add_function(wrap_pyfunction!(synth, m)?)?;
    m.add_class::<Receiver>()?;
    Ok(())
}
