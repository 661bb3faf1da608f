//! [`SoapySource`]: a SoapySDR receive stream as a [`BlockSource`].

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use droneid_core::Complex32;
use droneid_engine::{BlockSource, SourceDescription, SourceError, SourceRead};
use num_complex::Complex;
use soapysdr::{Device, Direction, ErrorCode, Range, RxStream};

use crate::{LiveError, ScanConfig};

/// Longest a [`SoapySource::read_block`] waits when nothing arrives, µs: the engine sees a stop
/// request at least this often.
pub const READ_TIMEOUT_US: i64 = 200_000;

/// Extra samples discarded after a retune on devices without hardware timestamps, seconds: the
/// samples still in the device's buffers were received at the old frequency.
const UNTIMED_RETUNE_FLUSH_S: f64 = 0.05;

/// Sample format on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamFormat {
    /// Complex float32 (`CF32`).
    #[default]
    Cf32,
    /// Complex int16 (`CS16`), converted to [`Complex32`] as `x / 32768`: half the bus bandwidth.
    Cs16,
}

impl StreamFormat {
    /// SoapySDR's name for it.
    pub fn soapy_name(self) -> &'static str {
        match self {
            StreamFormat::Cf32 => "CF32",
            StreamFormat::Cs16 => "CS16",
        }
    }
}

impl FromStr for StreamFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cf32" => Ok(StreamFormat::Cf32),
            "cs16" | "ci16" => Ok(StreamFormat::Cs16),
            _ => Err(format!("stream format '{s}': use cf32 or cs16")),
        }
    }
}

/// Receiver gain.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Gain {
    /// Leave the device's gain as it is.
    #[default]
    Default,
    /// Manual overall gain, dB (AGC off).
    Db(f64),
    /// Automatic gain control.
    Agc,
}

/// Everything [`SoapySource::open`] needs.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// SoapySDR device string (`driver=...,serial=...`), as `SoapySDRUtil --find` takes it.
    pub device: String,
    /// Sample rate, S/s; `None`: the device's only rate (a replay of a SigMF recording), else
    /// an error naming its ranges.
    pub sample_rate_hz: Option<f64>,
    /// Centre frequency, Hz; `None` keeps the device's (ignored in scan mode).
    pub center_freq_hz: Option<f64>,
    /// Gain setting.
    pub gain: Gain,
    /// Antenna name; `None` keeps the device's.
    pub antenna: Option<String>,
    /// Receive channel number.
    pub channel: usize,
    /// Bus format.
    pub format: StreamFormat,
    /// Scan mode: hop over centre frequencies.
    pub scan: Option<ScanConfig>,
}

impl LiveConfig {
    /// Device and rate; everything else as the device has it, CF32, channel 0, no scan.
    pub fn new(device: &str, sample_rate_hz: f64) -> Self {
        Self {
            device: device.to_string(),
            sample_rate_hz: Some(sample_rate_hz),
            center_freq_hz: None,
            gain: Gain::Default,
            antenna: None,
            channel: 0,
            format: StreamFormat::Cf32,
            scan: None,
        }
    }
}

/// Live state of a [`SoapySource`], readable from any thread (status line): the source writes,
/// others read.
#[derive(Debug, Default)]
pub struct SourceStatus {
    center_freq_bits: AtomicU64,
    overflows: AtomicU64,
    overflow_lost: AtomicU64,
    settle_lost: AtomicU64,
    retunes: AtomicU64,
    locked: AtomicBool,
}

impl SourceStatus {
    /// Centre frequency now, Hz.
    pub fn center_freq_hz(&self) -> f64 {
        f64::from_bits(self.center_freq_bits.load(Ordering::Relaxed))
    }
    /// Overflows the device reported.
    pub fn overflows(&self) -> u64 {
        self.overflows.load(Ordering::Relaxed)
    }
    /// Samples lost to overflows (known from timestamps; 0 when the device has none).
    pub fn overflow_lost(&self) -> u64 {
        self.overflow_lost.load(Ordering::Relaxed)
    }
    /// Samples discarded while the tuner settled after retunes.
    pub fn settle_lost(&self) -> u64 {
        self.settle_lost.load(Ordering::Relaxed)
    }
    /// Retunes done by the scan.
    pub fn retunes(&self) -> u64 {
        self.retunes.load(Ordering::Relaxed)
    }
    /// The scan is locked on its current centre (frames keep arriving).
    pub fn locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }
    fn set_center(&self, f: f64) {
        self.center_freq_bits.store(f.to_bits(), Ordering::Relaxed);
    }
}

enum Stream {
    Cf32(RxStream<Complex32>),
    Cs16(RxStream<Complex<i16>>, Vec<Complex<i16>>),
}

struct ScanState {
    cfg: ScanConfig,
    index: usize,
    /// Stream index of the first settled sample on the current centre.
    segment_start: u64,
    dwell: u64,
    hold: u64,
    settle: u64,
}

/// A SoapySDR receiver as a [`BlockSource`] (see the crate docs).
///
/// Sample indices stay true: `lost_before` carries every sample the device dropped (overflow,
/// found from hardware timestamps when it has them) and every sample discarded while the tuner
/// settled after a scan retune, so stream index = samples delivered + samples lost.
pub struct SoapySource {
    device: Device,
    stream: Stream,
    label: String,
    channel: usize,
    rate: f64,
    center: f64,
    active: bool,
    eof: bool,
    /// Hardware timestamps are trusted (device has them and they advance).
    timestamps: bool,
    t_base: Option<i64>,
    last_t: Option<i64>,
    /// Stream index of the next sample the device should deliver.
    next: u64,
    /// Lost samples not yet reported.
    pending_lost: u64,
    /// Samples with stream index below this are discarded (tuner settling).
    settle_until: u64,
    scan: Option<ScanState>,
    status: Arc<SourceStatus>,
    corrupt_reads: u64,
    /// Samples read after a gap inside a block: they start the next block.
    carry: Vec<Complex32>,
    /// Samples lost just before `carry`.
    carry_lost: u64,
}

fn in_ranges(v: f64, ranges: &[Range]) -> bool {
    ranges.iter().any(|r| {
        let tol = 1e-9 * v.abs().max(1.0);
        v >= r.minimum - tol && v <= r.maximum + tol
    })
}

/// Ranges for humans with `scale`/`unit` (e.g. 1e6, "MS/s"): `15.36 MS/s`, `0.1–200 MS/s`.
pub fn fmt_ranges(ranges: &[Range], scale: f64, unit: &str) -> String {
    if ranges.is_empty() {
        return "nothing".into();
    }
    ranges
        .iter()
        .map(|r| {
            if (r.maximum - r.minimum).abs() <= 1e-9 * r.maximum.abs() {
                format!("{} {unit}", r.minimum / scale)
            } else {
                format!("{}–{} {unit}", r.minimum / scale, r.maximum / scale)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Frequency ranges for humans in MHz.
pub(crate) fn fmt_hz_ranges(ranges: &[Range]) -> String {
    fmt_ranges(ranges, 1e6, "MHz")
}

impl SoapySource {
    /// Finds and opens the device, checks every setting against what it offers, applies them
    /// and sets up the stream (activated on the first read). Nothing streams before every check
    /// passed.
    pub fn open(cfg: &LiveConfig) -> Result<Self, LiveError> {
        if let Some(r) = cfg.sample_rate_hz.filter(|r| !(r.is_finite() && *r > 0.0)) {
            return Err(LiveError::Config(format!(
                "sample rate {r} is not a positive rate"
            )));
        }
        let found = soapysdr::enumerate(cfg.device.as_str())
            .map_err(|e| LiveError::soapy(format!("looking for device '{}'", cfg.device), e))?;
        let Some(args) = found.into_iter().next() else {
            return Err(LiveError::NoDevice {
                args: cfg.device.clone(),
                found: describe_all_devices(),
            });
        };
        let label = match args.get("label") {
            Some(l) if !l.is_empty() => format!("{l} [{}]", cfg.device),
            _ => cfg.device.clone(),
        };
        let device = Device::new(args)
            .map_err(|e| LiveError::soapy(format!("opening device '{}'", cfg.device), e))?;
        let ctx = |what: &str| format!("{what} of '{label}'");
        let oor = |what: &'static str, value: String, offered: String| LiveError::OutOfRange {
            what,
            value,
            device: label.clone(),
            offered,
        };

        // Channel.
        let nch = device
            .num_channels(Direction::Rx)
            .map_err(|e| LiveError::soapy(ctx("reading the receive channels"), e))?;
        if cfg.channel >= nch {
            return Err(oor(
                "channel",
                cfg.channel.to_string(),
                if nch == 0 {
                    "no receive channel".into()
                } else {
                    format!("receive channels 0..={}", nch - 1)
                },
            ));
        }
        let ch = cfg.channel;

        // Sample rate.
        let rates = device
            .get_sample_rate_range(Direction::Rx, ch)
            .map_err(|e| LiveError::soapy(ctx("reading the sample-rate ranges"), e))?;
        let sample_rate_hz = match cfg.sample_rate_hz {
            Some(r) => r,
            None => match rates.as_slice() {
                [r] if (r.maximum - r.minimum).abs() <= 1e-9 * r.maximum => r.minimum,
                _ => {
                    return Err(LiveError::Config(format!(
                        "give --sample-rate: '{label}' offers {}",
                        fmt_ranges(&rates, 1e6, "MS/s")
                    )))
                }
            },
        };
        if !rates.is_empty() && !in_ranges(sample_rate_hz, &rates) {
            return Err(oor(
                "sample rate",
                format!("{} MS/s", sample_rate_hz / 1e6),
                fmt_ranges(&rates, 1e6, "MS/s"),
            ));
        }

        // Centre frequencies.
        let freqs = device
            .frequency_range(Direction::Rx, ch)
            .map_err(|e| LiveError::soapy(ctx("reading the frequency ranges"), e))?;
        let wanted: Vec<f64> = match &cfg.scan {
            Some(s) => s.centers_hz.clone(),
            None => cfg.center_freq_hz.into_iter().collect(),
        };
        if let Some(s) = &cfg.scan {
            if s.centers_hz.is_empty() {
                return Err(LiveError::Config("scan: no centre frequencies".into()));
            }
            if !(s.dwell_s > 0.0 && s.hold_s >= 0.0 && s.settle_s >= 0.0) {
                return Err(LiveError::Config(
                    "scan: dwell must be positive, hold and settle not negative".into(),
                ));
            }
        }
        for &f in &wanted {
            if !freqs.is_empty() && !in_ranges(f, &freqs) {
                return Err(oor(
                    "centre frequency",
                    format!("{} MHz", f / 1e6),
                    fmt_hz_ranges(&freqs),
                ));
            }
        }

        // Antenna.
        if let Some(a) = &cfg.antenna {
            let antennas = device
                .antennas(Direction::Rx, ch)
                .map_err(|e| LiveError::soapy(ctx("reading the antennas"), e))?;
            if !antennas.iter().any(|x| x == a) {
                return Err(oor(
                    "antenna",
                    format!("'{a}'"),
                    if antennas.is_empty() {
                        "no antenna choice".into()
                    } else {
                        antennas.join(", ")
                    },
                ));
            }
        }

        // Gain.
        match cfg.gain {
            Gain::Default => {}
            Gain::Db(g) => {
                let r = device
                    .gain_range(Direction::Rx, ch)
                    .map_err(|e| LiveError::soapy(ctx("reading the gain range"), e))?;
                if !in_ranges(g, &[r]) {
                    return Err(oor(
                        "gain",
                        format!("{g} dB"),
                        format!("{}..{} dB", r.minimum, r.maximum),
                    ));
                }
            }
            Gain::Agc => {
                let has = device.has_gain_mode(Direction::Rx, ch).unwrap_or(false);
                if !has {
                    let r = device.gain_range(Direction::Rx, ch).ok();
                    return Err(oor(
                        "gain mode",
                        "AGC".into(),
                        match r {
                            Some(r) => format!("manual gain {}..{} dB only", r.minimum, r.maximum),
                            None => "manual gain only".into(),
                        },
                    ));
                }
            }
        }

        // Stream format.
        let formats: Vec<String> = device
            .stream_formats(Direction::Rx, ch)
            .map_err(|e| LiveError::soapy(ctx("reading the stream formats"), e))?
            .iter()
            .map(|f| f.to_string())
            .collect();
        if !formats.is_empty() && !formats.iter().any(|f| f == cfg.format.soapy_name()) {
            return Err(oor(
                "stream format",
                cfg.format.soapy_name().into(),
                formats.join(", "),
            ));
        }

        // Every check passed: configure.
        device
            .set_sample_rate(Direction::Rx, ch, sample_rate_hz)
            .map_err(|e| LiveError::soapy(ctx("setting the sample rate"), e))?;
        let actual = device
            .sample_rate(Direction::Rx, ch)
            .unwrap_or(sample_rate_hz);
        if (actual - sample_rate_hz).abs() > 1e-3 * sample_rate_hz {
            return Err(LiveError::Config(format!(
                "'{label}' set its sample rate to {} MS/s when asked for {} MS/s; choose a rate it supports exactly",
                actual / 1e6,
                sample_rate_hz / 1e6
            )));
        }
        if let Ok(bw) = device.bandwidth_range(Direction::Rx, ch) {
            if let Some(r) = bw.iter().find(|r| r.maximum > 0.0) {
                let b = sample_rate_hz.clamp(r.minimum, r.maximum);
                let _ = device.set_bandwidth(Direction::Rx, ch, b);
            }
        }
        if let Some(&f) = wanted.first() {
            device
                .set_frequency(Direction::Rx, ch, f, ())
                .map_err(|e| LiveError::soapy(ctx("tuning"), e))?;
        }
        let center = device
            .frequency(Direction::Rx, ch)
            .map_err(|e| LiveError::soapy(ctx("reading the frequency"), e))?;
        if let Some(a) = &cfg.antenna {
            device
                .set_antenna(Direction::Rx, ch, a.as_str())
                .map_err(|e| LiveError::soapy(ctx("selecting the antenna"), e))?;
        }
        match cfg.gain {
            Gain::Default => {}
            Gain::Db(g) => {
                if device.has_gain_mode(Direction::Rx, ch).unwrap_or(false) {
                    device
                        .set_gain_mode(Direction::Rx, ch, false)
                        .map_err(|e| LiveError::soapy(ctx("turning AGC off"), e))?;
                }
                device
                    .set_gain(Direction::Rx, ch, g)
                    .map_err(|e| LiveError::soapy(ctx("setting the gain"), e))?;
            }
            Gain::Agc => device
                .set_gain_mode(Direction::Rx, ch, true)
                .map_err(|e| LiveError::soapy(ctx("turning AGC on"), e))?,
        }
        let stream = match cfg.format {
            StreamFormat::Cf32 => Stream::Cf32(
                device
                    .rx_stream::<Complex32>(&[ch])
                    .map_err(|e| LiveError::soapy(ctx("setting up the CF32 stream"), e))?,
            ),
            StreamFormat::Cs16 => Stream::Cs16(
                device
                    .rx_stream::<Complex<i16>>(&[ch])
                    .map_err(|e| LiveError::soapy(ctx("setting up the CS16 stream"), e))?,
                Vec::new(),
            ),
        };
        let timestamps = device.has_hardware_time(None).unwrap_or(false);
        let status = Arc::new(SourceStatus::default());
        status.set_center(center);
        let rate = actual;
        let scan = cfg.scan.clone().map(|s| {
            let n = |secs: f64| (secs * rate).round() as u64;
            ScanState {
                dwell: n(s.dwell_s).max(1),
                hold: n(s.hold_s),
                settle: n(s.settle_s),
                cfg: s,
                index: 0,
                segment_start: 0,
            }
        });
        Ok(SoapySource {
            device,
            stream,
            label,
            channel: ch,
            rate,
            center,
            active: false,
            eof: false,
            timestamps,
            t_base: None,
            last_t: None,
            next: 0,
            pending_lost: 0,
            settle_until: 0,
            scan,
            status,
            corrupt_reads: 0,
            carry: Vec::new(),
            carry_lost: 0,
        })
    }

    /// The shared live state (centre frequency, overflows, retunes, lock) for a status line.
    pub fn status(&self) -> Arc<SourceStatus> {
        Arc::clone(&self.status)
    }

    /// Whether sample positions come from the device's hardware timestamps.
    pub fn has_timestamps(&self) -> bool {
        self.timestamps
    }

    fn io_err(&self, what: &str, e: impl std::fmt::Display) -> SourceError {
        SourceError::Io(format!(
            "device '{}': {what} after {} samples: {e} (device unplugged or driver failure?)",
            self.label, self.next
        ))
    }

    fn activate(&mut self) -> Result<(), SourceError> {
        let r = match &mut self.stream {
            Stream::Cf32(s) => s.activate(None),
            Stream::Cs16(s, _) => s.activate(None),
        };
        r.map_err(|e| self.io_err("starting the stream", e))?;
        self.active = true;
        Ok(())
    }

    /// One device read into the front of `buf`; returns the count and the timestamp.
    fn read_raw(
        &mut self,
        buf: &mut [Complex32],
        timeout_us: i64,
    ) -> Result<usize, soapysdr::Error> {
        match &mut self.stream {
            Stream::Cf32(s) => s.read(&mut [buf], timeout_us),
            Stream::Cs16(s, scratch) => {
                if scratch.len() < buf.len() {
                    scratch.resize(buf.len(), Complex::new(0, 0));
                }
                let n = s.read(&mut [&mut scratch[..buf.len()]], timeout_us)?;
                const SCALE: f32 = 1.0 / 32768.0;
                for (o, i) in buf[..n].iter_mut().zip(&scratch[..n]) {
                    *o = Complex32::new(i.re as f32 * SCALE, i.im as f32 * SCALE);
                }
                Ok(n)
            }
        }
    }

    fn time_ns(&self) -> i64 {
        match &self.stream {
            Stream::Cf32(s) => s.time_ns(),
            Stream::Cs16(s, _) => s.time_ns(),
        }
    }

    /// Stream index of a hardware time.
    fn index_of(&self, t: i64, base: i64) -> i64 {
        ((t - base) as f64 * self.rate / 1e9).round() as i64
    }

    /// Places a read of `n` samples in the stream: returns its first stream index and adds any
    /// gap before it (samples the device lost) to `pending_lost`.
    fn place(&mut self, n: usize) -> u64 {
        if self.timestamps {
            let t = self.time_ns();
            let base = *self.t_base.get_or_insert(t);
            let d = self.index_of(t, base);
            let stale = self.last_t == Some(t);
            let backwards = d < self.next as i64 - 2;
            if stale || backwards || d < 0 {
                // Timestamps that do not advance with the samples cannot be trusted.
                self.timestamps = false;
            } else {
                self.last_t = Some(t);
                let d = d as u64;
                if d > self.next {
                    let gap = d - self.next;
                    self.pending_lost += gap;
                    self.status.overflow_lost.fetch_add(gap, Ordering::Relaxed);
                }
                let start = d.max(self.next);
                self.next = start + n as u64;
                return start;
            }
        }
        let start = self.next;
        self.next += n as u64;
        start
    }

    /// Scan: hop to the next centre when the dwell is over and no frame arrived lately.
    fn maybe_hop(&mut self) -> Result<(), SourceError> {
        let next = self.next;
        let Some(st) = self.scan.as_mut() else {
            return Ok(());
        };
        if st.cfg.centers_hz.len() < 2 || next < st.segment_start + st.dwell {
            return Ok(());
        }
        let hit = st
            .cfg
            .feedback
            .last_frame_sample()
            .filter(|&s| s >= 0 && s as u64 >= st.segment_start);
        if let Some(h) = hit {
            if next.saturating_sub(h as u64) < st.hold.max(st.dwell) {
                self.status.locked.store(true, Ordering::Relaxed);
                return Ok(());
            }
        }
        self.status.locked.store(false, Ordering::Relaxed);
        st.index = (st.index + 1) % st.cfg.centers_hz.len();
        let f = st.cfg.centers_hz[st.index];
        let settle = st.settle;
        let (ch, rate) = (self.channel, self.rate);
        if let Err(e) = self.device.set_frequency(Direction::Rx, ch, f, ()) {
            return Err(self.io_err(&format!("retuning to {} MHz", f / 1e6), e));
        }
        // First stream index certainly received at the new frequency.
        let tuned_at = match (self.timestamps, self.t_base) {
            (true, Some(base)) => match self.device.get_hardware_time(None) {
                Ok(t) => (self.index_of(t, base).max(0) as u64).max(next),
                Err(_) => next + (UNTIMED_RETUNE_FLUSH_S * rate) as u64,
            },
            _ => next + (UNTIMED_RETUNE_FLUSH_S * rate) as u64,
        };
        self.settle_until = tuned_at + settle;
        self.center = f;
        self.status.set_center(f);
        self.status.retunes.fetch_add(1, Ordering::Relaxed);
        if let Some(st) = self.scan.as_mut() {
            st.segment_start = self.settle_until;
        }
        Ok(())
    }
}

/// "found: ..." listing of every device SoapySDR sees, for error messages.
fn describe_all_devices() -> String {
    match soapysdr::enumerate("") {
        Ok(list) if !list.is_empty() => format!(
            "devices found: {} (see `droneid devices`)",
            list.iter()
                .map(|a| {
                    let mut s = format!("driver={}", a.get("driver").unwrap_or("?"));
                    if let Some(x) = a.get("serial").filter(|x| !x.is_empty()) {
                        s.push_str(&format!(",serial={x}"));
                    }
                    if let Some(l) = a.get("label").filter(|x| !x.is_empty()) {
                        s.push_str(&format!(" ({l})"));
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        _ => "no devices found at all (is the driver's SoapySDR module installed? SOAPY_SDR_PLUGIN_PATH adds module folders; `SoapySDRUtil --find` lists what SoapySDR sees)".into(),
    }
}

impl BlockSource for SoapySource {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            label: self.label.clone(),
            sample_rate_hz: self.rate,
            center_freq_hz: Some(self.center),
            total_samples: None,
            live: true,
        }
    }

    /// Fills as much of `buf` as the device delivers without waiting longer than the samples
    /// take to arrive (so that the pipeline gets whole blocks however small the driver's
    /// packets are), ends a block early at a gap (its samples wait in a carry buffer and start
    /// the next block, whose `lost_before` says how many were lost), and returns within ~200 ms
    /// when nothing arrives.
    fn read_block(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if buf.is_empty() {
            return Ok(SourceRead::default());
        }
        let mut filled = 0usize;
        let mut lost_before = 0u64;
        if !self.carry.is_empty() {
            let n = self.carry.len().min(buf.len());
            buf[..n].copy_from_slice(&self.carry[..n]);
            self.carry.drain(..n);
            filled = n;
            lost_before = std::mem::take(&mut self.carry_lost);
        } else if self.eof {
            return Ok(SourceRead {
                samples: 0,
                lost_before: std::mem::take(&mut self.pending_lost),
                center_freq_hz: Some(self.center),
                timed_out: false,
            });
        }
        if !self.active {
            self.activate()?;
        }
        if filled == 0 {
            self.maybe_hop()?;
        }
        let started = Instant::now();
        let deadline = started + Duration::from_micros(READ_TIMEOUT_US as u64);
        // Once samples are in hand, wait only as long as the rest of the block takes to arrive.
        let (len, rate) = (buf.len(), self.rate);
        let fill_deadline = move |filled: usize| {
            let rest = (len - filled) as f64 / rate;
            (Instant::now() + Duration::from_secs_f64(rest + 0.02)).min(deadline)
        };
        let mut wait_until = if filled > 0 {
            fill_deadline(filled)
        } else {
            deadline
        };
        while filled < buf.len() && self.carry.is_empty() && !self.eof {
            let left = wait_until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let timeout_us = (left.as_micros() as i64).clamp(1_000, READ_TIMEOUT_US);
            match self.read_raw(&mut buf[filled..], timeout_us) {
                Ok(0) => {
                    // The replay device marks its end of stream; a real radio never ends.
                    if self.device.read_setting("eof").is_ok_and(|v| v == "true") {
                        self.eof = true;
                    } else {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                Ok(n) => {
                    let start = self.place(n);
                    let mut skip = 0usize;
                    if self.settle_until > start {
                        skip = (self.settle_until - start).min(n as u64) as usize;
                        self.pending_lost += skip as u64;
                        self.status
                            .settle_lost
                            .fetch_add(skip as u64, Ordering::Relaxed);
                    }
                    let kept = n - skip;
                    if kept == 0 {
                        continue;
                    }
                    let chunk = filled + skip..filled + n;
                    if filled > 0 && self.pending_lost > 0 {
                        // A gap inside the block: these samples start the next block.
                        self.carry.extend_from_slice(&buf[chunk]);
                        self.carry_lost = std::mem::take(&mut self.pending_lost);
                        break;
                    }
                    if filled == 0 {
                        lost_before = std::mem::take(&mut self.pending_lost);
                    }
                    if skip > 0 {
                        buf.copy_within(chunk, filled);
                    }
                    filled += kept;
                    wait_until = fill_deadline(filled);
                }
                Err(e) => match e.code {
                    ErrorCode::Timeout => {}
                    ErrorCode::Overflow => {
                        // The gap shows in the next read's timestamp.
                        self.status.overflows.fetch_add(1, Ordering::Relaxed);
                    }
                    ErrorCode::Corruption | ErrorCode::TimeError => self.corrupt_reads += 1,
                    _ => {
                        if filled > 0 {
                            // Deliver what arrived; the error comes back on the next read.
                            break;
                        }
                        return Err(self.io_err("stream error", e));
                    }
                },
            }
        }
        if filled == 0 && self.eof {
            return Ok(SourceRead {
                samples: 0,
                lost_before: std::mem::take(&mut self.pending_lost),
                center_freq_hz: Some(self.center),
                timed_out: false,
            });
        }
        Ok(SourceRead {
            samples: filled,
            lost_before,
            center_freq_hz: Some(self.center),
            timed_out: filled == 0,
        })
    }

    fn counters(&self) -> Vec<(String, u64)> {
        let s = &self.status;
        let mut v = vec![
            ("device overflows".to_string(), s.overflows()),
            ("samples lost to overflows".to_string(), s.overflow_lost()),
        ];
        if self.scan.is_some() {
            v.push(("retunes".to_string(), s.retunes()));
            v.push((
                "samples discarded while settling".to_string(),
                s.settle_lost(),
            ));
        }
        if self.corrupt_reads > 0 {
            v.push(("corrupt or late reads".to_string(), self.corrupt_reads));
        }
        v
    }
}
