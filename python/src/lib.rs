//! The `droneid` Python module: DJI DroneID decoding from numpy arrays and recordings through
//! the same threaded engine as `droneid decode` (`droneid_engine::run`), a push-driven
//! `Receiver` (the engine's single-threaded `StreamDecoder`), and the synthesiser.
//!
//! * `decode(samples, sample_rate, center_freq=None, *, all=False, iterations=8,
//!   decode_threads=None) -> list[dict]`: the JSON lines of `droneid decode` as dicts.
//!   `samples`: 1-D complex64 or complex128, or interleaved I/Q as int16 / int8 / uint8, 1-D of
//!   even length or shape (N, 2); scaled exactly as the CLI's `--format cf32|cf64|ci16|ci8|cu8`.
//!   A C-contiguous array is read in place, block by block, by the engine's source thread (no
//!   copy of the whole array); any other layout is copied once.
//! * `decode_file(path, sample_rate=None, center_freq=None, format=None, *, ...)`: raw or SigMF
//!   recordings with the CLI's options, errors and per-segment frequency/UTC.
//! * `Receiver(sample_rate, center_freq=None, *, all=False, iterations=8)`: `push(block) ->
//!   list[dict]`, `flush() -> list[dict]`, `stats`.
//! * `synth(...) -> (samples, truth)`: `droneid synth` in memory (same flags as keywords).
//!
//! Errors are Python exceptions with the CLI's one-line messages: `ValueError` for unusable
//! input or options (the CLI's exit 2), `FileNotFoundError` / `IsADirectoryError` / `OSError`
//! for I/O. The CLI's warnings (NaN/Inf samples, trailing bytes, an inverted spectrum) are
//! Python `UserWarning`s. The GIL is released while samples are decoded or synthesised.
#![deny(unsafe_code)]

use droneid_core::{Complex32, Complex64, MIN_SAMPLE_RATE_HZ};
use droneid_engine::{
    BlockSource, EngineConfig, FileSource, RunControl, RunSummary, SourceDescription, SourceError,
    SourceRead, StreamDecoder,
};
use droneid_io::{
    burst_len_samples, segment_holding, CaptureSegment, InputOptions, IoError, SampleFormat,
};
use droneid_receiver::{Frame, ReceiverConfig};
use droneid_synth::{
    ChannelsArg, CpSchedule, HzArg, OptionError, OptionNames, RecordArg, SynthError, SynthOptions,
    ToneArg,
};
use numpy::{
    PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyRuntimeError, PyUserWarning,
    PyValueError,
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

/// A `UserWarning` with the CLI's stderr text.
fn warn(py: Python<'_>, msg: &str) -> PyResult<()> {
    let category = py.get_type::<PyUserWarning>();
    let text = std::ffi::CString::new(msg).unwrap_or_default();
    PyErr::warn(py, &category, &text, 2)
}

/// The CLI's warnings after a run: source counters (`warning: N NaN/Inf samples ...`) and, once,
/// bursts that decode only with I and Q swapped.
fn run_warnings(py: Python<'_>, counters: &[(String, u64)], frames: &[Frame]) -> PyResult<()> {
    if frames.iter().any(|f| f.iq_swapped) {
        warn(
            py,
            "droneid decode: warning: bursts decode only with I and Q swapped: the recording's spectrum looks inverted (frames say \"iq_swapped\": true; their frequencies are given as the un-inverted spectrum has them)",
        )?;
    }
    for (name, value) in counters {
        if *value > 0 {
            warn(py, &format!("droneid decode: warning: {value} {name}"))?;
        }
    }
    Ok(())
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
    if rate < MIN_SAMPLE_RATE_HZ * 0.999 {
        return Err(value_error(format!(
            "sample rate {:.6} MS/s of '{what}' is below 4 MS/s, the lowest rate droneid decodes (narrower captures hold too few of the burst's 600 carriers) (--sample-rate)",
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

// ---------------------------------------------------------------------------------------------
// numpy arrays in

/// The elements of an accepted array, contiguous, in C order: complex values (one per sample)
/// or interleaved I/Q integers (two per sample).
#[derive(Clone, Copy)]
enum ArrayData<'a> {
    C64(&'a [Complex32]),
    C128(&'a [Complex64]),
    I16(&'a [i16]),
    I8(&'a [i8]),
    U8(&'a [u8]),
}

impl ArrayData<'_> {
    /// Samples (complex values or I/Q pairs).
    fn len(&self) -> usize {
        match self {
            ArrayData::C64(d) => d.len(),
            ArrayData::C128(d) => d.len(),
            ArrayData::I16(d) => d.len() / 2,
            ArrayData::I8(d) => d.len() / 2,
            ArrayData::U8(d) => d.len() / 2,
        }
    }

    /// Converts samples `start..start + out.len()` into `out` exactly as the CLI reads the
    /// matching `--format` (`SampleFormat::decode`: scaling, NaN/Inf → 0); returns how many
    /// samples were not finite. `scratch` holds the little-endian bytes of the integer and
    /// complex128 formats, one block at a time.
    fn convert(&self, start: usize, out: &mut [Complex32], scratch: &mut Vec<u8>) -> u64 {
        let n = out.len();
        scratch.clear();
        let format = match self {
            ArrayData::C64(d) => {
                // The CLI's cf32 decoding without the byte round trip: same values, and a
                // sample with a non-finite I or Q becomes 0.
                // One branch-free pass (copy and count, vectorised); the fix-up pass only runs
                // for a block that holds a NaN or an infinity.
                const EXP: u32 = 0x7f80_0000; // all exponent bits set: Inf or NaN
                let bad = |c: &Complex32| {
                    ((c.re.to_bits() & EXP == EXP) | (c.im.to_bits() & EXP == EXP)) as u64
                };
                let mut nonfinite = 0;
                for (o, c) in out.iter_mut().zip(&d[start..start + n]) {
                    *o = *c;
                    nonfinite += bad(c);
                }
                if nonfinite > 0 {
                    for o in out.iter_mut().filter(|o| bad(o) == 1) {
                        *o = Complex32::new(0.0, 0.0);
                    }
                }
                return nonfinite;
            }
            ArrayData::C128(d) => {
                for c in &d[start..start + n] {
                    scratch.extend_from_slice(&c.re.to_le_bytes());
                    scratch.extend_from_slice(&c.im.to_le_bytes());
                }
                SampleFormat::Cf64
            }
            ArrayData::I16(d) => {
                for x in &d[2 * start..2 * (start + n)] {
                    scratch.extend_from_slice(&x.to_le_bytes());
                }
                SampleFormat::Ci16
            }
            ArrayData::I8(d) => {
                scratch.extend(d[2 * start..2 * (start + n)].iter().map(|&x| x as u8));
                SampleFormat::Ci8
            }
            ArrayData::U8(d) => {
                scratch.extend_from_slice(&d[2 * start..2 * (start + n)]);
                SampleFormat::Cu8
            }
        };
        format.decode(scratch, out)
    }

    /// The whole array as samples: borrowed when it is complex64 and finite, else converted.
    fn samples(&self) -> std::borrow::Cow<'_, [Complex32]> {
        if let ArrayData::C64(d) = self {
            if d.iter().all(|c| c.re.is_finite() && c.im.is_finite()) {
                return std::borrow::Cow::Borrowed(d);
            }
        }
        let mut out = vec![Complex32::new(0.0, 0.0); self.len()];
        self.convert(0, &mut out, &mut Vec::new());
        std::borrow::Cow::Owned(out)
    }
}

/// A typed, contiguous view of an accepted array: borrowed in place when C-contiguous, else a
/// copy in C order.
enum Elements<'py, T: numpy::Element> {
    Borrowed(numpy::PyReadonlyArrayDyn<'py, T>),
    Owned(Vec<T>),
}

impl<'py, T: numpy::Element + Copy> Elements<'py, T> {
    fn of(a: &Bound<'py, PyUntypedArray>) -> PyResult<Self> {
        let typed = a.downcast::<PyArrayDyn<T>>()?.readonly();
        if typed.as_slice().is_ok() {
            return Ok(Elements::Borrowed(typed));
        }
        let owned = typed.as_array().iter().copied().collect();
        Ok(Elements::Owned(owned))
    }

    fn slice(&self) -> &[T] {
        match self {
            Elements::Borrowed(a) => a.as_slice().unwrap_or(&[]),
            Elements::Owned(v) => v,
        }
    }
}

/// Samples of an accepted numpy array, held for as long as the engine reads them.
enum ArraySamples<'py> {
    C64(Elements<'py, Complex32>),
    C128(Elements<'py, Complex64>),
    I16(Elements<'py, i16>),
    I8(Elements<'py, i8>),
    U8(Elements<'py, u8>),
}

impl ArraySamples<'_> {
    fn data(&self) -> ArrayData<'_> {
        match self {
            ArraySamples::C64(e) => ArrayData::C64(e.slice()),
            ArraySamples::C128(e) => ArrayData::C128(e.slice()),
            ArraySamples::I16(e) => ArrayData::I16(e.slice()),
            ArraySamples::I8(e) => ArrayData::I8(e.slice()),
            ArraySamples::U8(e) => ArrayData::U8(e.slice()),
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

/// Checks `obj` (see the module docs for the accepted dtypes and shapes) and holds its samples.
fn array_samples<'py>(obj: &Bound<'py, PyAny>) -> PyResult<ArraySamples<'py>> {
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
    let c64 = is(numpy::dtype::<Complex32>(py));
    if c64 || is(numpy::dtype::<Complex64>(py)) {
        if shape.len() != 1 {
            return Err(value_error(format!(
                "complex samples must be a 1-D array of shape (N,), got shape {}",
                shape_text(&shape)
            )));
        }
        return Ok(if c64 {
            ArraySamples::C64(Elements::of(arr)?)
        } else {
            ArraySamples::C128(Elements::of(arr)?)
        });
    }
    let name = if is(numpy::dtype::<i16>(py)) {
        "ci16"
    } else if is(numpy::dtype::<i8>(py)) {
        "ci8"
    } else if is(numpy::dtype::<u8>(py)) {
        "cu8"
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
            "interleaved {name} I/Q samples must be 1-D of even length (I0, Q0, I1, Q1, ...) or of shape (N, 2), got shape {}",
            shape_text(&shape)
        )));
    }
    Ok(match name {
        "ci16" => ArraySamples::I16(Elements::of(arr)?),
        "ci8" => ArraySamples::I8(Elements::of(arr)?),
        _ => ArraySamples::U8(Elements::of(arr)?),
    })
}

/// An array served to the engine like a file: each block converted on the source thread.
struct ArraySource {
    data: ArrayData<'static>,
    pos: usize,
    scratch: Vec<u8>,
    nonfinite: u64,
    sample_rate_hz: f64,
    center_freq_hz: Option<f64>,
}

impl BlockSource for ArraySource {
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
        self.nonfinite += self
            .data
            .convert(self.pos, &mut buf[..n], &mut self.scratch);
        self.pos += n;
        Ok(SourceRead {
            samples: n,
            ..SourceRead::default()
        })
    }

    fn counters(&self) -> Vec<(String, u64)> {
        vec![("NaN/Inf samples treated as erasures".into(), self.nonfinite)]
    }
}

/// Frames collected by the engine's sink (stage 4 runs on the calling thread).
fn collect(
    cfg: &EngineConfig,
    source: Box<dyn BlockSource>,
) -> Result<(Vec<Frame>, RunSummary), String> {
    let mut frames = Vec::new();
    let mut sink = |f: Frame| frames.push(f);
    let summary = droneid_engine::run(cfg, source, &RunControl::default(), &mut sink, None)
        .map_err(|e| e.to_string())?;
    Ok((frames, summary))
}

/// Runs the threaded engine over an array without copying it first.
#[allow(unsafe_code)]
fn run_on_array(
    cfg: &EngineConfig,
    data: ArrayData<'_>,
    center: Option<f64>,
) -> Result<(Vec<Frame>, RunSummary), String> {
    // SAFETY: `droneid_engine::run` takes its source as a `Box<dyn BlockSource>`, so 'static,
    // but it moves the source into a scoped thread (`std::thread::scope`) that ends, dropping
    // the source, before `run` returns or unwinds; nothing else keeps a reference to it. `data`
    // is borrowed for the whole of this function, so the widened reference is never used
    // after the borrow ends. (A `Box<dyn BlockSource + '_>` parameter would make this safe.)
    let data = unsafe { std::mem::transmute::<ArrayData<'_>, ArrayData<'static>>(data) };
    let source = ArraySource {
        data,
        pos: 0,
        scratch: Vec::new(),
        nonfinite: 0,
        sample_rate_hz: cfg.receiver.sample_rate_hz,
        center_freq_hz: center,
    };
    collect(cfg, Box::new(source))
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
    let held = array_samples(samples)?;
    let data = held.data();
    let (frames, summary) = py
        .allow_threads(|| run_on_array(&cfg, data, center_freq))
        .map_err(value_error)?;
    drop(held);
    run_warnings(py, &summary.source_counters, &frames)?;
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
    let (frames, summary) = py
        .allow_threads(move || collect(&cfg, Box::new(FileSource::new(source))))
        .map_err(value_error)?;
    let mut placed = Vec::with_capacity(frames.len());
    for mut f in frames {
        if let Some(utc) = place(&mut f, &segments, info.sample_rate_hz) {
            placed.push((f, utc));
        }
    }
    let frames: Vec<Frame> = placed.iter().map(|(f, _)| f.clone()).collect();
    run_warnings(py, &summary.source_counters, &frames)?;
    if let Some(e) = summary.source_error {
        return Err(PyOSError::new_err(one_line(&format!(
            "{e}; frames decoded so far were written"
        ))));
    }
    placed
        .iter()
        .map(|(f, utc)| frame_dict(py, f, utc.as_deref()))
        .collect()
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
        let held = array_samples(block)?;
        let data = held.data();
        let decoder = &mut self.decoder;
        let frames = py.allow_threads(|| {
            let samples = data.samples();
            let mut frames = Vec::new();
            decoder.push(&samples, &mut |f| frames.push(f));
            frames
        });
        drop(held);
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

// ---------------------------------------------------------------------------------------------
// synth: `droneid synth`'s flags as keywords. Both go through `droneid_synth::SynthOptions`,
// checked in the same order with the same messages, naming the keyword instead of the flag.

/// A frequency or rate: a number of hertz, or text as the CLI takes it (`"61.44M"`, `"-3.5M"`).
#[derive(FromPyObject)]
enum Hz {
    Number(f64),
    Text(String),
}

impl Hz {
    fn arg(&self) -> HzArg {
        match self {
            Hz::Number(x) => HzArg::Number(*x),
            Hz::Text(t) => HzArg::Text(t.clone()),
        }
    }
}

/// A CW tone: `"FREQ_HZ:LEVEL_DB"` as `--tone` takes it, or a `(freq_hz, level_db)` pair.
#[derive(FromPyObject)]
enum Tone {
    Text(String),
    Pair(Hz, f64),
}

/// Hopper channels: MHz from the capture centre, a list or `"-1,0,1"`.
#[derive(FromPyObject)]
enum Channels {
    Text(String),
    List(Vec<f64>),
}

/// Record contents as JSON text: the text itself, or a dict / list of dicts (a RecordSpec
/// object or array) as JSON.
fn record_json(py: Python<'_>, record: &Bound<'_, PyAny>) -> PyResult<String> {
    match record.extract::<String>() {
        Ok(t) => Ok(t),
        Err(_) => py
            .import("json")?
            .call_method1("dumps", (record,))?
            .extract::<String>(),
    }
}

/// Synthesises a capture like `droneid synth` (same options as keywords, same defaults and
/// seed, so the same samples): returns `(samples, truth)`, the samples as `droneid synth`
/// writes them (complex64 of shape (N,), or with `format="ci8"` int8 of shape (N, 2)) and one
/// dict per burst (the lines of its `.truth.jsonl`).
#[pyfunction]
#[pyo3(signature = (
    sample_rate=Hz::Number(15.36e6), *, bursts=None, symbols=9, cp_schedule="kz", snr_db=None,
    cfo_hz=None, freq_offset_hz=None, seed=1, record=None, drones=1, random_offsets=false,
    interval_ms=600.0, jitter_ms=None, duration_s=None, lead_in_ms=1.0, tail_ms=1.0,
    center_freq=None, ppm=0.0, multipath=None, identity_every=0, zero_phase=false,
    format="cf32", clip_db=None, dc_db=None, dc_drift_hz=None, tones=None, hopper_db=None,
    hopper_channels_mhz=None, wifi_db=None, wifi_center_hz=None, wifi_overlap_hz=None,
    wifi_on_ms=None, wifi_period_ms=None, iq_swap=false, pair_delay_us=None, pair_offset_hz=None
))]
#[allow(clippy::too_many_arguments)]
fn synth<'py>(
    py: Python<'py>,
    sample_rate: Hz,
    bursts: Option<u64>,
    symbols: u32,
    cp_schedule: &str,
    snr_db: Option<f64>,
    cfo_hz: Option<Hz>,
    freq_offset_hz: Option<Hz>,
    seed: u64,
    record: Option<&Bound<'py, PyAny>>,
    drones: u32,
    random_offsets: bool,
    interval_ms: f64,
    jitter_ms: Option<f64>,
    duration_s: Option<f64>,
    lead_in_ms: f64,
    tail_ms: f64,
    center_freq: Option<Hz>,
    ppm: f64,
    multipath: Option<&str>,
    identity_every: u32,
    zero_phase: bool,
    format: &str,
    clip_db: Option<f64>,
    dc_db: Option<f64>,
    dc_drift_hz: Option<Hz>,
    tones: Option<Vec<Tone>>,
    hopper_db: Option<f64>,
    hopper_channels_mhz: Option<Channels>,
    wifi_db: Option<f64>,
    wifi_center_hz: Option<Hz>,
    wifi_overlap_hz: Option<Hz>,
    wifi_on_ms: Option<f64>,
    wifi_period_ms: Option<f64>,
    iq_swap: bool,
    pair_delay_us: Option<f64>,
    pair_offset_hz: Option<Hz>,
) -> PyResult<(PyObject, Vec<PyObject>)> {
    let ci8 = match format {
        "cf32" => false,
        "ci8" => true,
        other => return Err(value_error(format!("format: '{other}' is not cf32 or ci8"))),
    };
    let cp_schedule = match cp_schedule {
        "kz" => CpSchedule::Kz,
        "rub" => CpSchedule::Rub,
        other => {
            return Err(value_error(format!(
                "cp_schedule: '{other}' is not kz or rub"
            )))
        }
    };
    let record = match record {
        Some(r) if !r.is_none() => Some(RecordArg::Json(record_json(py, r)?)),
        _ => None,
    };
    let hz = |v: Option<Hz>| v.as_ref().map(Hz::arg);
    let options = SynthOptions {
        sample_rate: sample_rate.arg(),
        bursts,
        symbols,
        cp_schedule,
        snr_db,
        cfo_hz: hz(cfo_hz),
        freq_offset_hz: hz(freq_offset_hz),
        seed,
        record,
        drones,
        random_offsets,
        interval_ms,
        jitter_ms,
        duration_s,
        lead_in_ms,
        tail_ms,
        center_freq: hz(center_freq),
        ppm,
        multipath: multipath.map(str::to_string),
        identity_every,
        zero_phase,
        ci8,
        clip_db,
        dc_db,
        dc_drift_hz: hz(dc_drift_hz),
        tones: tones
            .unwrap_or_default()
            .into_iter()
            .map(|t| match t {
                Tone::Text(s) => ToneArg::Text(s),
                Tone::Pair(f, l) => ToneArg::Pair(f.arg(), l),
            })
            .collect(),
        hopper_db,
        hopper_channels_mhz: hopper_channels_mhz.map(|c| match c {
            Channels::Text(s) => ChannelsArg::Text(s),
            Channels::List(v) => ChannelsArg::List(v),
        }),
        wifi_db,
        wifi_center_hz: hz(wifi_center_hz),
        wifi_overlap_hz: hz(wifi_overlap_hz),
        wifi_on_ms,
        wifi_period_ms,
        iq_swap,
        pair_delay_us,
        pair_offset_hz: hz(pair_offset_hz),
    };
    let (spec, imp) = options.plan(OptionNames::Keywords).map_err(value_error)?;
    let rendered = py.allow_threads(|| {
        let mut samples = Vec::with_capacity(spec.total_samples as usize);
        droneid_synth::render_capture_with(
            &spec,
            &imp,
            droneid_synth::DEFAULT_BLOCK_LEN,
            &mut |b: &[Complex32]| -> Result<(), SynthError> {
                samples.extend_from_slice(b);
                Ok(())
            },
        )
        .map(|truth| (samples, truth))
    });
    let (samples, truth) =
        rendered.map_err(|e| value_error(OptionError::from_synth(e, OptionNames::Keywords)))?;
    let truth = truth
        .iter()
        .map(|t| {
            let v = serde_json::to_value(t).map_err(value_error)?;
            to_py(py, &v)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let array = if ci8 {
        // As the CLI writes its ci8 data file (`SampleFormat::encode`).
        let n = samples.len();
        let mut bytes = Vec::with_capacity(2 * n);
        SampleFormat::Ci8.encode(&samples, &mut bytes);
        drop(samples);
        let codes: Vec<i8> = bytes.into_iter().map(|b| b as i8).collect();
        PyArray1::from_vec(py, codes)
            .reshape([n, 2])?
            .into_any()
            .unbind()
    } else {
        PyArray1::from_vec(py, samples).into_any().unbind()
    };
    Ok((array, truth))
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
