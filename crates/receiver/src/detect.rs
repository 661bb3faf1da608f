//! Time–frequency energy detector: finds DroneID burst candidates anywhere in the captured band.
//!
//! Two kernels, which the line-rate pipeline runs on different threads:
//!
//! * [`SpectrumAnalyzer`] — the FFT filter bank: the input is cut into non-overlapping frames of
//!   `fft_len` samples (bin width ≈ 60 kHz) and each frame becomes a power spectrum in fftshift
//!   order (bin 0 = −Fs/2). Non-finite input gives zero power (an erasure).
//! * [`EnergyDetector::process_power`] — detection on those spectra: each bin is divided by a
//!   per-bin noise floor, giving `r = min(P/N, 4) − E` (mean 0 on white noise). A box the size of
//!   the smallest burst (9.015 MHz × 530 µs) slides over the time–frequency plane in steps of
//!   [`POSITION_STEP_BINS`] bins; its sum `S` has standard deviation √(W_f·W_t·Var) on noise and
//!   grows by about `W_f·W_t·γ` for a burst at in-band SNR γ (34 σ at −3.5 dB), so detection is
//!   far more sensitive than decoding. Local maxima above `threshold_sigma` become
//!   [`Candidate`]s with a start time (± a few frames) and a centre frequency refined to one bin;
//!   the burst receiver refines both.
//!
//! [`EnergyDetector::process`] runs both on raw samples (the single-threaded file receiver).
//! Allocation-free after construction except for the caller's output vector.

use std::sync::Arc;

use droneid_core::{Complex32, OCCUPIED_BANDWIDTH_HZ};
use rustfft::{Fft, FftPlanner};

/// Box positions are evaluated every this many bins (the candidate's frequency is then refined
/// to one bin from the excess power): a 150-bin box loses < 1 % of its sum at the worst offset,
/// and the serial running sum over positions costs a quarter as much.
pub const POSITION_STEP_BINS: usize = 4;

/// Detector settings. [`DetectorConfig::new`] gives sensible defaults for a sample rate.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// Input sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Frame/FFT length; bin width = sample_rate / fft_len. A power of two ≥ 16.
    pub fft_len: usize,
    /// Detection threshold in standard deviations of the box sum on noise.
    pub threshold_sigma: f32,
    /// Box duration, seconds (a little shorter than the shortest burst, 571 µs).
    pub box_duration_s: f64,
    /// Box bandwidth, Hz (the burst's occupied bandwidth).
    pub box_bandwidth_hz: f64,
    /// Noise-floor averaging length, frames.
    pub floor_frames: usize,
}

impl DetectorConfig {
    /// Defaults for `sample_rate_hz`: ~60 kHz bins, 8 σ threshold, 530 µs × 9.015 MHz box
    /// (or 80 % of the band for captures narrower than a burst).
    pub fn new(sample_rate_hz: f64) -> Self {
        let target_bins = (sample_rate_hz / 60e3).max(16.0);
        // (Clamped: absurd rates are refused by `EnergyDetector::new`, not by a shift overflow.)
        let fft_len = 1usize << (target_bins.log2().round().clamp(4.0, 30.0) as u32);
        Self {
            sample_rate_hz,
            fft_len,
            // Noise alone crosses 6 σ a few times a second at 61.44 MS/s (each costs a demod
            // attempt); a burst at −4 dB in-band scores ~20 σ.
            threshold_sigma: 8.0,
            box_duration_s: 530e-6,
            // A capture narrower than a burst holds only part of it: the box then covers 80 %
            // of the captured band.
            box_bandwidth_hz: OCCUPIED_BANDWIDTH_HZ.min(0.8 * sample_rate_hz),
            floor_frames: 2048,
        }
    }
}

/// A region of the time–frequency plane that looks like a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Estimated first sample of the burst (input rate, absolute index; ± a few frames).
    pub start_sample: i64,
    /// Estimated burst centre relative to the capture centre, Hz (± a few bins).
    pub freq_offset_hz: f64,
    /// Box sum at the maximum, in standard deviations of noise.
    pub score_sigma: f32,
    /// Rough in-band SNR implied by the box sum, dB.
    pub snr_db_rough: f32,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    /// First frame whose box sum crossed the threshold.
    first_frame: u64,
    best_score: f32,
    best_frame: u64,
    /// Box start bin of the best position.
    best_pos: usize,
    last_frame: u64,
    /// Box start bin of the latest position.
    pos: usize,
}

/// FFT filter bank: raw samples in, one power spectrum (fftshift order) per `fft_len` samples out.
pub struct SpectrumAnalyzer {
    n: usize,
    fft: Arc<dyn Fft<f32>>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    /// Partial frame carried between calls.
    pending: Vec<Complex32>,
}

/// Frames transformed per rustfft call (one batched call is faster than many small ones).
const FFT_BATCH_FRAMES: usize = 8;

impl SpectrumAnalyzer {
    /// Plans an `fft_len`-point FFT and allocates every buffer. Panics if `fft_len` is 0.
    pub fn new(fft_len: usize) -> Self {
        assert!(fft_len > 0, "fft_len must be positive");
        let fft = FftPlanner::new().plan_fft_forward(fft_len);
        let scratch_len = fft.get_inplace_scratch_len();
        Self {
            n: fft_len,
            fft,
            buf: vec![Complex32::new(0.0, 0.0); fft_len * FFT_BATCH_FRAMES],
            scratch: vec![Complex32::new(0.0, 0.0); scratch_len],
            pending: Vec::with_capacity(fft_len),
        }
    }

    /// Frame length in samples.
    pub fn frame_len(&self) -> usize {
        self.n
    }

    /// Most power values (`frame_len` per frame) that [`analyze`](Self::analyze) can append for
    /// a block of `block_len` samples.
    pub fn max_output_len(&self, block_len: usize) -> usize {
        (block_len / self.n + 1) * self.n
    }

    /// Appends one power spectrum (`frame_len` values, fftshift order) to `power_out` per
    /// completed frame of the stream continued by `block`. Does not allocate if `power_out`
    /// has room for [`max_output_len`](Self::max_output_len) more values.
    pub fn analyze(&mut self, mut block: &[Complex32], power_out: &mut Vec<f32>) {
        let n = self.n;
        if !self.pending.is_empty() {
            let take = (n - self.pending.len()).min(block.len());
            self.pending.extend_from_slice(&block[..take]);
            block = &block[take..];
            if self.pending.len() == n {
                self.buf[..n].copy_from_slice(&self.pending);
                self.pending.clear();
                self.transform(1, power_out);
            }
        }
        let batch = n * FFT_BATCH_FRAMES;
        let mut chunks = block.chunks_exact(n);
        let mut filled = 0;
        for frame in &mut chunks {
            self.buf[filled..filled + n].copy_from_slice(frame);
            filled += n;
            if filled == batch {
                self.transform(FFT_BATCH_FRAMES, power_out);
                filled = 0;
            }
        }
        if filled > 0 {
            self.transform(filled / n, power_out);
        }
        self.pending.extend_from_slice(chunks.remainder());
    }

    /// Forgets a partial frame (after a gap in the stream the next frame starts afresh).
    pub fn reset(&mut self) {
        self.pending.clear();
    }

    /// Ends the stream (or a stretch before a gap): a partial frame is zero-padded into one
    /// last spectrum, so a burst cut by the end still counts. Returns whether one was added.
    pub fn flush(&mut self, power_out: &mut Vec<f32>) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        let m = self.pending.len();
        self.buf[..m].copy_from_slice(&self.pending);
        self.buf[m..self.n].fill(Complex32::new(0.0, 0.0));
        self.pending.clear();
        self.transform(1, power_out);
        true
    }

    fn transform(&mut self, frames: usize, power_out: &mut Vec<f32>) {
        let n = self.n;
        let data = &mut self.buf[..frames * n];
        self.fft.process_with_scratch(data, &mut self.scratch);
        let half = n / 2;
        for frame in data.chunks_exact(n) {
            // fftshift: FFT bins [half, n) are the negative frequencies.
            power_out.extend(frame[half..].iter().map(power_of));
            power_out.extend(frame[..half].iter().map(power_of));
        }
    }
}

/// `|x|²`, non-finite values as 0 (an erasure).
#[inline]
fn power_of(v: &Complex32) -> f32 {
    let p = v.re * v.re + v.im * v.im;
    if p.is_finite() {
        p
    } else {
        0.0
    }
}

/// The per-bin arrays of one detector frame (all `fft_len` long).
struct FrameBins<'a> {
    power: &'a [f32],
    floor: &'a mut [f32],
    excess: &'a mut [f32],
    /// The ratio row leaving the box (overwritten with this frame's).
    row: &'a mut [f32],
    time_sum: &'a mut [f32],
}

/// The per-bin part of one detector frame over (power, floor, excess slot, ratio row leaving
/// the box, time sums): with `UPDATE`, the clamped floor update first (a burst raises the floor
/// little; rescaled to stay unbiased on noise), then `P − N`, and the capped ratio
/// `r = min(P/N, cap) − mean` replacing the old row's in the time sums. One pass, so each bin's
/// values are loaded once; the same arithmetic per bin as separate passes.
#[inline(always)]
fn frame_pass<const UPDATE: bool>(b: FrameBins<'_>, alpha: f32, min: f32) {
    let FrameBins {
        power,
        floor,
        excess,
        row,
        time_sum,
    } = b;
    let bins = power
        .iter()
        .zip(floor.iter_mut())
        .zip(excess.iter_mut())
        .zip(row.iter_mut())
        .zip(time_sum.iter_mut());
    for ((((&p, f), e), old), t) in bins {
        if UPDATE {
            // A cell more than FLOOR_OUTLIER_REL × the floor is signal, not noise: it only
            // nudges the floor up (so that a lasting change of the noise level is followed),
            // instead of pulling it toward the signal. Clamping it to 3× instead (as before)
            // let a strong interferer on more than a third of the time (a Wi-Fi channel) raise
            // the floor without bound, and 8 dB bursts every 3 ms raised it 2.5×.
            let target = if p < FLOOR_OUTLIER_REL * *f {
                p * (1.0 / FLOOR_KEPT_MEAN)
            } else {
                *f * FLOOR_OUTLIER_LEAK
            };
            *f = (*f + alpha * (target - *f)).max(min);
        }
        *e = p - *f;
        let r = (p / *f).min(RATIO_CAP) - CAPPED_NOISE_MEAN;
        *t += r - *old;
        *old = r;
    }
}

/// Number of independent running sums in [`sliding_box_sums`].
const BOX_SUM_LANES: usize = 4;

/// `out[j] = chunk[j] + … + chunk[j + w − 1]` for every `j < out.len()` (`chunk.len() ≥
/// out.len() + w − 1`, `w ≥ 1`). Running sums, each of [`BOX_SUM_LANES`] stretches of `out`
/// started from its own exact sum: one serial chain of adds over ~1000 positions per frame was
/// a third of the detector's time (latency-bound); the stretches run in parallel. Panics if
/// `chunk` is too short.
#[inline]
fn sliding_box_sums(chunk: &[f32], w: usize, out: &mut [f32]) {
    let npos = out.len();
    if npos == 0 {
        return;
    }
    assert!(
        w >= 1 && chunk.len() >= npos + w - 1,
        "sliding_box_sums: chunk too short"
    );
    let stretch = npos.div_ceil(BOX_SUM_LANES);
    let mut start = [0usize; BOX_SUM_LANES];
    let mut acc = [0.0f32; BOX_SUM_LANES];
    let mut len = [0usize; BOX_SUM_LANES];
    for l in 0..BOX_SUM_LANES {
        start[l] = (l * stretch).min(npos);
        len[l] = stretch.min(npos - start[l]);
        if len[l] > 0 {
            acc[l] = chunk[start[l]..start[l] + w].iter().sum();
            out[start[l]] = acc[l];
        }
    }
    // The lanes advance together (independent dependency chains); the shorter last stretch
    // finishes on its own.
    let common = len.iter().copied().min().unwrap_or(0);
    for i in 1..common {
        for l in 0..BOX_SUM_LANES {
            let j = start[l] + i;
            acc[l] += chunk[j + w - 1] - chunk[j - 1];
            out[j] = acc[l];
        }
    }
    for l in 0..BOX_SUM_LANES {
        for i in common.max(1)..len[l] {
            let j = start[l] + i;
            acc[l] += chunk[j + w - 1] - chunk[j - 1];
            out[j] = acc[l];
        }
    }
}

/// Largest value of `x` (−∞ when empty), with 8 independent maxima (vectorises; no NaN
/// handling: the detector's sums are finite).
#[inline]
fn max_f32(x: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            m[i] = if c[i] > m[i] { c[i] } else { m[i] };
        }
    }
    let mut best = f32::NEG_INFINITY;
    for &v in m.iter().chain(chunks.remainder()) {
        if v > best {
            best = v;
        }
    }
    best
}

/// Sum with 8 independent accumulators (vectorises; the order differs from a serial sum).
#[inline]
fn sum_f32(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for &v in chunks.remainder() {
        s += v;
    }
    s
}

/// Streaming energy detector. Feed samples with [`process`](Self::process), or spectra from a
/// [`SpectrumAnalyzer`] with [`process_power`](Self::process_power).
pub struct EnergyDetector {
    cfg: DetectorConfig,
    analyzer: SpectrumAnalyzer,
    spectra: Vec<f32>,
    /// Power spectra buffered until the noise floor is initialised.
    warmup: Vec<f32>,
    warm: bool,
    /// Noise floor per bin (fftshift order).
    floor: Vec<f32>,
    /// Frames detected on so far (absolute frame counter, gaps included as restarts).
    frames_seen: u64,
    /// Frames since the last restart (the time box is full after `box_frames`).
    frames_since_resync: u64,
    /// Absolute sample index of frame `base_frame`'s first sample.
    base_sample: i64,
    base_frame: u64,
    /// Ratio rows `r` of the last `box_frames` frames, per bin.
    rows: Vec<f32>,
    row_head: usize,
    /// Per-bin sum of `rows` over time.
    time_sum: Vec<f32>,
    /// Time sums gathered into `POSITION_STEP_BINS`-bin chunks.
    chunk_sum: Vec<f32>,
    /// Box sums per evaluated position (position j starts at bin j·POSITION_STEP_BINS).
    box_sum: Vec<f32>,
    box_bins: usize,
    box_chunks: usize,
    box_frames: usize,
    /// Valid box start bins: 0..positions.
    positions: usize,
    sigma: f32,
    events: Vec<Event>,
    frames_to_close: u64,
    /// Ring of recent `P − N` spectra, for the frequency estimate of a finished event.
    excess: Vec<f32>,
    excess_frames: usize,
    excess_sum: Vec<f32>,
    /// Mean capped ratio `min(P/N, cap) − E` per bin over a whole event (occupied band).
    occupancy: Vec<f32>,
    /// Mean excess power `P − N` per bin over a whole event.
    event_excess: Vec<f32>,
    floor_min: f32,
    /// Scratch for one frame's ratios over a box (median), `box_bins` long.
    median_scratch: Vec<f32>,
}

/// Frames between exact recomputations of the running time sums (bounds f32 drift).
const TIME_SUM_REFRESH_FRAMES: u64 = 4096;

impl EnergyDetector {
    /// Plans the FFT and allocates every buffer.
    ///
    /// Returns an error string if the rate is not finite and positive, the FFT length is not a
    /// multiple of 4 of at least 16, or the band is narrower than a burst.
    pub fn new(cfg: &DetectorConfig) -> Result<Self, String> {
        if !(cfg.sample_rate_hz.is_finite() && cfg.sample_rate_hz > 0.0) {
            return Err(format!(
                "sample rate {} Hz is not a positive number",
                cfg.sample_rate_hz
            ));
        }
        if cfg.sample_rate_hz > MAX_SAMPLE_RATE_HZ {
            return Err(format!(
                "sample rate {} Hz is above {} GS/s, the highest supported",
                cfg.sample_rate_hz,
                MAX_SAMPLE_RATE_HZ / 1e9
            ));
        }
        let n = cfg.fft_len;
        if n > MAX_FFT_LEN {
            return Err(format!("detector FFT length {n} is above {MAX_FFT_LEN}"));
        }
        if n < 16 || !n.is_multiple_of(POSITION_STEP_BINS) {
            return Err(format!(
                "detector FFT length {n} must be a multiple of {POSITION_STEP_BINS}, at least 16"
            ));
        }
        let bin_hz = cfg.sample_rate_hz / n as f64;
        let box_chunks =
            ((cfg.box_bandwidth_hz / bin_hz / POSITION_STEP_BINS as f64).round() as usize).max(1);
        let box_bins = box_chunks * POSITION_STEP_BINS;
        if box_bins > n {
            return Err(format!(
                "a {:.3} MHz burst does not fit a {:.3} MS/s capture",
                cfg.box_bandwidth_hz / 1e6,
                cfg.sample_rate_hz / 1e6
            ));
        }
        let frame_s = n as f64 / cfg.sample_rate_hz;
        let box_frames = ((cfg.box_duration_s / frame_s).floor() as usize).max(1);
        let positions = n - box_bins + 1;
        let chunks = n / POSITION_STEP_BINS;
        // An event lasts about burst + box frames past its best frame; long events (a burst
        // inside a Wi-Fi frame) need their whole span for the per-window occupied band.
        let excess_frames = (3 * box_frames + 16).max((EXCESS_HELD_S / frame_s).ceil() as usize);
        Ok(Self {
            cfg: cfg.clone(),
            analyzer: SpectrumAnalyzer::new(n),
            spectra: Vec::with_capacity(n * (PROCESS_CHUNK_FRAMES + 1)),
            warmup: Vec::with_capacity(WARMUP_FRAMES * n),
            warm: false,
            floor: vec![0.0; n],
            frames_seen: 0,
            frames_since_resync: 0,
            base_sample: 0,
            base_frame: 0,
            rows: vec![0.0; n * box_frames],
            row_head: 0,
            time_sum: vec![0.0; n],
            chunk_sum: vec![0.0; chunks],
            box_sum: vec![0.0; chunks - box_chunks + 1],
            box_bins,
            box_chunks,
            box_frames,
            positions,
            sigma: ((box_bins * box_frames) as f32 * CAPPED_NOISE_VAR).sqrt(),
            events: Vec::with_capacity(64),
            frames_to_close: 3,
            excess: vec![0.0; excess_frames * n],
            excess_frames,
            excess_sum: vec![0.0; n],
            occupancy: vec![0.0; n],
            event_excess: vec![0.0; n],
            floor_min: f32::MIN_POSITIVE,
            median_scratch: Vec::with_capacity(box_bins),
        })
    }

    /// Frame length in samples.
    pub fn frame_len(&self) -> usize {
        self.cfg.fft_len
    }

    /// Feeds `block` (next samples of the stream) and appends any finished candidates to `out`.
    pub fn process(&mut self, block: &[Complex32], out: &mut Vec<Candidate>) {
        let n = self.cfg.fft_len;
        for chunk in block.chunks(PROCESS_CHUNK_FRAMES * n) {
            self.spectra.clear();
            self.analyzer.analyze(chunk, &mut self.spectra);
            let spectra = std::mem::take(&mut self.spectra);
            self.process_power(&spectra, out);
            self.spectra = spectra;
        }
    }

    /// End of stream: reports every open event.
    pub fn flush(&mut self, out: &mut Vec<Candidate>) {
        self.spectra.clear();
        self.analyzer.flush(&mut self.spectra);
        let spectra = std::mem::take(&mut self.spectra);
        self.process_power(&spectra, out);
        self.spectra = spectra;
        self.flush_power(out);
    }

    /// Feeds power spectra from a [`SpectrumAnalyzer`] of the same `fft_len` (a whole number
    /// of frames, fftshift order) and appends finished candidates to `out`.
    pub fn process_power(&mut self, spectra: &[f32], out: &mut Vec<Candidate>) {
        let n = self.cfg.fft_len;
        for frame in spectra.chunks_exact(n) {
            if !self.warm {
                self.warmup.extend_from_slice(frame);
                if self.warmup.len() >= WARMUP_FRAMES * n {
                    self.finish_warmup(out);
                }
                continue;
            }
            self.detect_step(frame, true, out);
        }
    }

    /// End of the spectra (stream end, or before a gap): reports every open event.
    pub fn flush_power(&mut self, out: &mut Vec<Candidate>) {
        if !self.warm {
            self.finish_warmup(out);
        }
        let mut events = std::mem::take(&mut self.events);
        for e in &events {
            self.emit(e, out);
        }
        events.clear();
        self.events = events;
    }

    /// Restarts detection after a gap in the stream: reports open events (as
    /// [`flush_power`](Self::flush_power)), forgets the time box and the partial frame, and
    /// maps the next frame to absolute sample `next_sample`. The noise floor is kept.
    pub fn resync(&mut self, next_sample: i64, out: &mut Vec<Candidate>) {
        self.flush(out);
        self.rows.fill(0.0);
        self.time_sum.fill(0.0);
        self.row_head = 0;
        self.frames_since_resync = 0;
        self.base_frame = self.frames_seen;
        self.base_sample = next_sample;
    }

    /// Absolute sample index of the first sample of frame `frame` (frames since the start).
    fn frame_sample(&self, frame: i64) -> i64 {
        self.base_sample + (frame - self.base_frame as i64) * self.cfg.fft_len as i64
    }

    /// Initialises the floor from the buffered frames, then runs detection over them.
    fn finish_warmup(&mut self, out: &mut Vec<Candidate>) {
        let n = self.cfg.fft_len;
        let frames = self.warmup.len() / n;
        self.warm = true;
        if frames == 0 {
            return;
        }
        // Per-bin median over the frames (robust to bursts in fewer than half of them) …
        let mut column = Vec::with_capacity(frames);
        for k in 0..n {
            column.clear();
            column.extend((0..frames).map(|t| self.warmup[t * n + k]));
            column.sort_by(|a, b| a.total_cmp(b));
            self.floor[k] = column[frames / 2] / LN_2;
        }
        // … capped at 4× a low cross-bin quantile, for short captures that are all burst:
        // guard bands and empty spectrum still show the noise level there.
        let mut sorted = self.floor.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let level = sorted[n / 5];
        let warmup = std::mem::take(&mut self.warmup);
        for t in 0..frames {
            self.track_floor_min(&warmup[t * n..(t + 1) * n]);
        }
        for f in &mut self.floor {
            *f = f.min(4.0 * level).max(self.floor_min);
        }
        for t in 0..frames {
            self.detect_step(&warmup[t * n..(t + 1) * n], false, out);
        }
        self.warmup = warmup;
        self.warmup.clear();
    }

    /// One frame: (when `update_floor`) the noise-floor update, then the excess `P − N`, the
    /// capped ratio and the per-bin time sums, all in one pass over the bins (each bin's floor
    /// is updated before it is used, exactly as a separate update pass before would).
    fn detect_step(&mut self, power: &[f32], update_floor: bool, out: &mut Vec<Candidate>) {
        let frame_index = self.frames_seen;
        self.frames_seen += 1;
        self.frames_since_resync += 1;
        let n = self.cfg.fft_len;
        let alpha = 1.0 / self.cfg.floor_frames as f32;
        if update_floor {
            self.track_floor_min(power);
        }
        let min = self.floor_min;
        let slot = (frame_index % self.excess_frames as u64) as usize;
        let excess = &mut self.excess[slot * n..(slot + 1) * n];
        // The row being overwritten holds the frame leaving the box (zeros while it fills).
        let row = &mut self.rows[self.row_head * n..(self.row_head + 1) * n];
        let bins = FrameBins {
            power,
            floor: &mut self.floor,
            excess,
            row,
            time_sum: &mut self.time_sum,
        };
        if update_floor {
            frame_pass::<true>(bins, alpha, min);
        } else {
            frame_pass::<false>(bins, alpha, min);
        }
        self.row_head = (self.row_head + 1) % self.box_frames;
        if self.frames_seen.is_multiple_of(TIME_SUM_REFRESH_FRAMES) {
            self.refresh_time_sum();
        }
        if self.frames_since_resync < self.box_frames as u64 {
            return;
        }
        // … gathered into chunks of POSITION_STEP_BINS bins, and box-summed over frequency.
        for (c, bins) in self
            .chunk_sum
            .iter_mut()
            .zip(self.time_sum.chunks_exact(POSITION_STEP_BINS))
        {
            *c = bins.iter().sum();
        }
        sliding_box_sums(&self.chunk_sum, self.box_chunks, &mut self.box_sum);
        let max = max_f32(&self.box_sum);
        self.track_events(frame_index, max, out);
    }

    /// Exact per-bin time sums from the stored rows (the running sums drift in f32).
    fn refresh_time_sum(&mut self) {
        let n = self.cfg.fft_len;
        self.time_sum.fill(0.0);
        for row in self.rows.chunks_exact(n) {
            for (t, &r) in self.time_sum.iter_mut().zip(row) {
                *t += r;
            }
        }
    }

    /// Lower bound of the floor: 50 dB below the loudest recent frame. Real receivers always
    /// have noise above it; noise-free (synthetic, zero-padded) captures would otherwise get a
    /// zero floor and every bin with any leakage would look like signal.
    fn track_floor_min(&mut self, power: &[f32]) {
        let mean = sum_f32(power) / power.len() as f32;
        let decay = 1.0 - 1.0 / self.cfg.floor_frames as f32;
        self.floor_min = (self.floor_min * decay)
            .max(FLOOR_MIN_REL * mean)
            .max(f32::MIN_POSITIVE);
    }

    /// `max` is the largest box sum of this frame: below the threshold, no position needs
    /// looking at (only open events may close).
    fn track_events(&mut self, frame_index: u64, max: f32, out: &mut Vec<Candidate>) {
        let thr = self.cfg.threshold_sigma * self.sigma;
        let half_box = self.box_bins / 2;
        // Local maxima above threshold, at least half a box apart: two bursts on neighbouring
        // channels at the same time make one contiguous run with two peaks.
        let h = (self.box_chunks / 2).max(1);
        let npos = self.box_sum.len();
        let mut j = if max > thr { 0 } else { npos };
        while j < npos {
            let v = self.box_sum[j];
            if v <= thr {
                j += 1;
                continue;
            }
            let lo = j.saturating_sub(h);
            let hi = (j + h).min(npos - 1);
            let is_peak =
                (lo..=hi).all(|q| q == j || self.box_sum[q] < v || (self.box_sum[q] == v && q > j));
            if !is_peak {
                j += 1;
                continue;
            }
            // A flat top (saturated ratios on a noise-free capture): take its middle.
            let mut q = j;
            while q + 1 < npos && self.box_sum[q + 1] == v {
                q += 1;
            }
            let best = (j + q) / 2 * POSITION_STEP_BINS;
            j = q + 1;
            let score = v / self.sigma;
            match self
                .events
                .iter_mut()
                .find(|e| e.pos.abs_diff(best) <= half_box)
            {
                Some(e) => {
                    e.last_frame = frame_index;
                    e.pos = best;
                    if score > e.best_score {
                        e.best_score = score;
                        e.best_frame = frame_index;
                        e.best_pos = best;
                    }
                }
                None => self.events.push(Event {
                    first_frame: frame_index,
                    best_score: score,
                    best_frame: frame_index,
                    best_pos: best,
                    last_frame: frame_index,
                    pos: best,
                }),
            }
        }
        let close = self.frames_to_close;
        let mut i = 0;
        while i < self.events.len() {
            if frame_index >= self.events[i].last_frame + close {
                let e = self.events.swap_remove(i);
                self.emit(&e, out);
            } else {
                i += 1;
            }
        }
    }

    /// Box start bin (within half a box of the event's) holding the most uncapped excess power
    /// over the event's best frames: the capped ratio saturates on clean, noise-free signals and
    /// then says little about where the burst sits in frequency.
    fn refine_position(&mut self, e: &Event) -> usize {
        let n = self.cfg.fft_len;
        self.excess_sum.fill(0.0);
        let first = (e.best_frame + 1).saturating_sub(self.box_frames as u64);
        let oldest_held = self.frames_seen.saturating_sub(self.excess_frames as u64);
        let (from, to) = (
            first.max(oldest_held),
            e.best_frame.min(self.frames_seen.saturating_sub(1)),
        );
        if from > to {
            return e.best_pos;
        }
        let (box_lo, box_hi) = (e.best_pos, (e.best_pos + self.box_bins).min(n));
        for t in from..=to {
            let slot = (t % self.excess_frames as u64) as usize;
            let row = &self.excess[slot * n..(slot + 1) * n];
            // Cells far above the frame's typical level in the best box are a narrowband
            // interferer (a Bluetooth hop 20 dB up), not the flat burst: left out, they cannot
            // pull the box toward themselves by up to half its width.
            self.median_scratch.clear();
            self.median_scratch.extend(
                row[box_lo..box_hi]
                    .iter()
                    .zip(&self.floor[box_lo..box_hi])
                    .map(|(&v, &f)| v / f + 1.0),
            );
            let limit = if self.median_scratch.is_empty() {
                f32::INFINITY
            } else {
                let mid = self.median_scratch.len() / 2;
                let (_, m, _) = self
                    .median_scratch
                    .select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
                (*m).max(1.0) * INTERFERER_REL_MEDIAN
            };
            for ((acc, &v), &f) in self.excess_sum.iter_mut().zip(row).zip(&self.floor) {
                if v < (limit - 1.0) * f {
                    *acc += v;
                }
            }
        }
        // A bin with negative summed excess holds no signal: a steady spur (a HackRF DC spike)
        // drives its floor a few per cent above its power (the floor update is rescaled for
        // noise), and that deficit, 10 dB over the noise, would push the box off the burst.
        for v in &mut self.excess_sum {
            *v = v.max(0.0);
        }
        let lo = e.best_pos.saturating_sub(self.box_bins / 2);
        let hi = (e.best_pos + self.box_bins / 2).min(self.positions - 1);
        let mut acc: f32 = self.excess_sum[lo..lo + self.box_bins].iter().sum();
        let mut best = (acc, lo);
        for p in lo + 1..=hi {
            acc += self.excess_sum[p + self.box_bins - 1] - self.excess_sum[p - 1];
            if acc > best.0 {
                best = (acc, p);
            }
        }
        best.1
    }

    /// Turns a finished event into candidates: normally one, at the best box position. An
    /// event longer than one burst (back-to-back bursts whose boxes ran together, or a burst
    /// inside a long Wi-Fi frame) gets one candidate every [`LONG_EVENT_STEP_S`] from its start,
    /// so that the burst receiver's segments cover all of it. An event whose occupied band is
    /// much wider than one burst (bursts on channels a few MHz apart at the same time, or a
    /// burst beside a Wi-Fi edge) also gets one candidate at each edge of that band; for a long
    /// event the band is measured per time window, so a burst that fills only part of the
    /// event's time still shows its edge.
    fn emit(&mut self, e: &Event, out: &mut Vec<Candidate>) {
        let pos = self.refine_position(e);
        let best_freq = self.centre_of(pos);
        // Box sum per cell ≈ in-band SNR (linear) below the cap.
        let gamma = e.best_score * self.sigma / (self.box_bins * self.box_frames) as f32;
        let snr_db_rough = 10.0 * gamma.max(1e-6).log10();
        let first_frame = (e.first_frame + 1).saturating_sub(self.box_frames as u64);
        let best_start = self.frame_sample(e.best_frame as i64 + 1 - self.box_frames as i64);
        let region_start = self.frame_sample(first_frame as i64);
        let region_end = self.frame_sample(e.last_frame as i64 + 1);
        let step = (LONG_EVENT_STEP_S * self.cfg.sample_rate_hz) as i64;
        let burst = (BURST_9_S * self.cfg.sample_rate_hz) as i64;
        let candidate = |start_sample: i64, freq_offset_hz: f64| Candidate {
            start_sample,
            freq_offset_hz,
            score_sigma: e.best_score,
            snr_db_rough,
        };
        let region_len = region_end - region_start;
        if region_len <= step + burst {
            // The best box position, plus one at each edge of an occupied band much wider than
            // a burst (kept in addition: a strong burst's spectral leakage can look wide too).
            // An event longer than a burst (two bursts back to back) is centred in the burst
            // receiver's segment, so that the first burst's symbol 0 lies inside it too
            // (without it the format, and so the start, of that burst is unknown).
            let start = if region_len > burst {
                region_start + (region_len - burst) / 2
            } else {
                best_start
            };
            let edges = self.edge_freqs(first_frame, e.last_frame, pos, OCCUPIED_RATIO);
            for f in std::iter::once(best_freq).chain(edges.into_iter().flatten()) {
                out.push(candidate(start, f));
            }
            return;
        }
        let n = self.cfg.fft_len as i64;
        let mut start = region_start;
        while start < region_end {
            let from = self.base_frame as i64 + (start - self.base_sample) / n;
            let to = (from + (step + burst) / n).min(e.last_frame as i64);
            let edges = self.edge_freqs(
                from.max(0) as u64,
                to.max(0) as u64,
                pos,
                WINDOW_OCCUPIED_RATIO,
            );
            for f in std::iter::once(best_freq).chain(edges.into_iter().flatten()) {
                out.push(candidate(start, f));
            }
            start += step;
        }
    }

    /// Centre frequency (Hz from the capture centre) of a box starting at bin `pos`.
    fn centre_of(&self, pos: usize) -> f64 {
        let n = self.cfg.fft_len;
        let bin_hz = self.cfg.sample_rate_hz / n as f64;
        (pos as f64 + (self.box_bins as f64 - 1.0) / 2.0 - (n / 2) as f64) * bin_hz
    }

    /// Extra candidate centres from the occupied band around box position `pos` over frames
    /// `first..=last` (held ones only), when that band is at least 0.75 boxes wide: the box
    /// aligned with its lower edge and the box aligned with its upper edge, each when at least
    /// an eighth of a box (a quarter of the burst's width, more than the burst receiver
    /// corrects) from `pos`'s box and from each other. A band much wider than a burst holds
    /// bursts on channels a few MHz apart, or a burst beside a Wi-Fi edge; a band about one
    /// burst wide whose box the excess power placed elsewhere is a burst pulled at by a strong
    /// neighbour, and the edge away from the neighbour is the one that its raised floor did not
    /// cut short.
    fn edge_freqs(&mut self, first: u64, last: u64, pos: usize, ratio: f32) -> [Option<f64>; 2] {
        let mut edges = [None, None];
        if !self.event_profile(first, last) {
            return edges;
        }
        let Some((lo, hi)) = self.occupied_run(pos, ratio) else {
            return edges;
        };
        let eighth = self.box_bins / 8;
        if 4 * (hi - lo) < 3 * self.box_bins {
            return edges;
        }
        let upper = hi.saturating_sub(self.box_bins);
        if lo.abs_diff(pos) >= eighth {
            edges[0] = Some(self.centre_of(lo));
        }
        if upper.abs_diff(pos) >= eighth && upper.abs_diff(lo) >= eighth {
            edges[1] = Some(self.centre_of(upper));
        }
        edges
    }

    /// Fills `occupancy` (mean capped ratio `min(P/N, cap) − E` per bin) and `event_excess`
    /// (mean excess power `P − N` per bin) over the held frames among `first..=last`; false
    /// when none of them is held.
    fn event_profile(&mut self, first: u64, last: u64) -> bool {
        let n = self.cfg.fft_len;
        self.occupancy.fill(0.0);
        self.event_excess.fill(0.0);
        let oldest_held = self.frames_seen.saturating_sub(self.excess_frames as u64);
        let (from, to) = (
            first.max(oldest_held),
            last.min(self.frames_seen.saturating_sub(1)),
        );
        if from > to || self.frames_seen == 0 {
            return false;
        }
        for t in from..=to {
            let slot = (t % self.excess_frames as u64) as usize;
            let row = &self.excess[slot * n..(slot + 1) * n];
            for (((o, x), &v), &f) in self
                .occupancy
                .iter_mut()
                .zip(self.event_excess.iter_mut())
                .zip(row)
                .zip(&self.floor)
            {
                *o += (v / f + 1.0).min(RATIO_CAP) - CAPPED_NOISE_MEAN;
                *x += v;
            }
        }
        let frames = (to - from + 1) as f32;
        for (o, x) in self.occupancy.iter_mut().zip(self.event_excess.iter_mut()) {
            *o /= frames;
            *x /= frames;
        }
        true
    }

    /// The run of bins around box position `pos` (through the most occupied bin within half a
    /// box of the box) whose mean capped ratio (from
    /// [`Self::event_profile`], smoothed over [`OCCUPIED_SMOOTH_BINS`]) is at least `ratio` and
    /// whose excess power is within 30 dB of the strongest, bridging gaps of up to
    /// [`OCCUPIED_SMOOTH_BINS`]: `(first bin, one past the last)`.
    /// Capped ratios make a strong neighbour (a Wi-Fi burst 20 dB up) and a weak burst beside
    /// it count alike.
    fn occupied_run(&self, pos: usize, ratio: f32) -> Option<(usize, usize)> {
        let n = self.cfg.fft_len;
        let w = OCCUPIED_SMOOTH_BINS.min(n);
        let smooth = |v: &[f32], k: usize| -> f32 {
            let a = k.saturating_sub(w / 2);
            let b = (a + w).min(n);
            v[a..b].iter().sum::<f32>() / (b - a) as f32
        };
        let peak_excess = (0..n)
            .step_by(w.max(1))
            .map(|k| smooth(&self.event_excess, k))
            .fold(0.0f32, f32::max);
        let min_excess = OCCUPIED_MIN_EXCESS_REL * peak_excess;
        let occupied = |k: usize| {
            smooth(&self.occupancy, k) >= ratio && smooth(&self.event_excess, k) >= min_excess
        };
        // The most occupied bin of the box or within half a box beside it: an interferer's
        // tail can hold the box while the burst's own bins lie just outside it.
        let half = self.box_bins / 2;
        let (lo, hi) = (
            pos.saturating_sub(half),
            (pos + self.box_bins + half).min(n),
        );
        let mid = (lo..hi)
            .max_by(|&a, &b| smooth(&self.occupancy, a).total_cmp(&smooth(&self.occupancy, b)))?;
        if !occupied(mid) {
            return None;
        }
        // Gaps up to the smoothing width are bridged: where a strong neighbour overlaps a burst
        // it raises the floor there, and the burst's own bins beside it read low for a few bins.
        let mut a = mid;
        while let Some(k) = (a.saturating_sub(w)..a).rev().find(|&k| occupied(k)) {
            a = k;
        }
        let mut b = mid;
        while let Some(k) = (b + 1..(b + 1 + w).min(n)).find(|&k| occupied(k)) {
            b = k;
        }
        Some((a, b + 1))
    }
}

/// Span of recent excess spectra held for the occupied band of a finished event, seconds (a
/// Wi-Fi frame lasts up to about 5.5 ms).
const EXCESS_HELD_S: f64 = 6e-3;
/// Spacing of the candidates of an event longer than one burst, seconds: the burst
/// receiver searches about ±0.75 ms around each, so consecutive segments overlap.
pub const LONG_EVENT_STEP_S: f64 = 1.2e-3;
/// Duration of a 9-symbol burst, seconds (9880 samples at 15.36 MS/s).
const BURST_9_S: f64 = 9880.0 / 15.36e6;
/// Smoothing (bins) of the excess-power profile used to find an event's occupied band.
const OCCUPIED_SMOOTH_BINS: usize = 8;
/// An event's occupied band: bins whose mean capped ratio is at least this (a burst at
/// −3 dB in-band scores ≈ 0.5, noise 0 ± 0.05 after smoothing).
const OCCUPIED_RATIO: f32 = 0.3;
/// The same over one [`LONG_EVENT_STEP_S`] + burst window of a long event, where a burst fills
/// about a third of the window's time (noise: 0 ± 0.03 after smoothing over ~100 frames).
const WINDOW_OCCUPIED_RATIO: f32 = 0.15;
/// … and whose excess power is at least this fraction of the event's strongest (−30 dB): on a
/// (nearly) noise-free capture a burst's spectral leakage saturates the capped ratios far
/// beyond its band, but stays tens of dB below it.
const OCCUPIED_MIN_EXCESS_REL: f32 = 1e-3;

/// Highest input rate the detector accepts (matches `droneid_io::MAX_SAMPLE_RATE_HZ`).
pub const MAX_SAMPLE_RATE_HZ: f64 = 10e9;
/// Largest detector FFT (~60 kHz bins at 10 GS/s need 2¹⁷).
const MAX_FFT_LEN: usize = 1 << 20;
/// Frames analysed per step of [`EnergyDetector::process`].
const PROCESS_CHUNK_FRAMES: usize = 32;
/// Per-bin ratio cap: keeps narrow spurs (a HackRF DC spike) from dominating the box sum.
const RATIO_CAP: f32 = 4.0;
/// E[min(X, 4)] for X ~ Exp(1): the mean of a capped noise bin.
const CAPPED_NOISE_MEAN: f32 = 0.981_684;
/// Var[min(X, 4)] for X ~ Exp(1).
const CAPPED_NOISE_VAR: f32 = 0.560_2;
/// Frequency refinement: a cell above this multiple of its frame's median power ratio over the
/// event's best box is left out. A flat burst plus noise exceeds it with chance 2^−4 ≈ 6 %,
/// evenly over the band (no pull); a Bluetooth hop 20 dB over the noise beside a burst at 0 dB
/// exceeds it in most of its cells. (Measured, 100 bursts per point: the hopper row 91 % at
/// −2 dB with it, 94 % without, the same within noise; Wi-Fi over 1.5 MHz 91 % at +4 dB with
/// it, 86 % without.)
const INTERFERER_REL_MEDIAN: f32 = 4.0;
/// Floor update: a cell above this multiple of its bin's floor counts as signal (noise alone:
/// e^−3 ≈ 5 % of cells).
const FLOOR_OUTLIER_REL: f32 = 3.0;
/// … and moves the floor toward this multiple of itself (a lasting 10× rise of the noise is
/// followed in about ln 10 / (0.25·α) frames, 0.3 s at 60 kHz bins). An interferer on a
/// fraction d of the time biases the floor by 1.05 (d = 0.1), 1.11 (0.2), 1.31 (0.4).
const FLOOR_OUTLIER_LEAK: f32 = 1.25;
/// Scale that makes the floor update unbiased on noise (X ~ Exp(1), T = FLOOR_OUTLIER_REL,
/// c = FLOOR_OUTLIER_LEAK): E[X·1{X<T}] / (1 − c·P(X ≥ T)) = (1 − e^−T(T+1)) / (1 − c·e^−T).
const FLOOR_KEPT_MEAN: f32 = 0.853_999_4;
/// ln 2: median of Exp(1), to turn a median power into a mean.
const LN_2: f32 = std::f32::consts::LN_2;
/// Floor lower bound relative to the mean bin power of the loudest recent frame (−50 dB).
const FLOOR_MIN_REL: f32 = 1e-5;
/// Frames used to initialise the noise floor (fewer if the stream is shorter).
const WARMUP_FRAMES: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;
    use droneid_core::BurstFormat;
    use droneid_ofdm::BaseRateModulator;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    const SEED: u64 = 0xD7EC7;

    /// Scalar reference of `sliding_box_sums`: every window summed directly.
    fn box_sums_reference(chunk: &[f32], w: usize, npos: usize) -> Vec<f32> {
        (0..npos).map(|j| chunk[j..j + w].iter().sum()).collect()
    }

    #[test]
    fn sliding_box_sums_match_direct_sums_on_seeded_input() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        for &(nchunks, w) in &[
            (1024, 150),
            (64, 1),
            (17, 17),
            (40, 38),
            (5, 3),
            (1000, 999),
        ] {
            let chunk: Vec<f32> = (0..nchunks).map(|_| rng.gen_range(-2.0..6.0)).collect();
            let npos = nchunks - w + 1;
            let mut out = vec![f32::NAN; npos];
            sliding_box_sums(&chunk, w, &mut out);
            let want = box_sums_reference(&chunk, w, npos);
            let scale: f32 = chunk.iter().map(|v| v.abs()).sum();
            for (j, (&a, &b)) in out.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 * scale,
                    "nchunks {nchunks} w {w} position {j}: {a} vs {b}"
                );
            }
            let m = max_f32(&out);
            let m_ref = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(m, m_ref);
        }
        assert_eq!(max_f32(&[]), f32::NEG_INFINITY);
    }

    fn noise(rng: &mut ChaCha8Rng, n: usize, var: f32) -> Vec<Complex32> {
        let s = (var / 2.0).sqrt();
        (0..n)
            .map(|_| {
                let re: f32 = StandardNormal.sample(rng);
                let im: f32 = StandardNormal.sample(rng);
                Complex32::new(re * s, im * s)
            })
            .collect()
    }

    /// A 9-symbol burst at 15.36 MS/s, mixed to `offset_hz`, at in-band SNR `snr_db` over unit noise.
    fn capture(rng: &mut ChaCha8Rng, start: usize, offset_hz: f64, snr_db: f32) -> Vec<Complex32> {
        let fs = 15.36e6;
        let mut x = noise(rng, 60_000, 1.0);
        let bits: Vec<u8> = (0..7200).map(|_| rng.gen_range(0..2)).collect();
        let bits: [u8; 7200] = bits.try_into().unwrap();
        let burst = BaseRateModulator::new().modulate(BurstFormat::Nine, &bits, &[0u8; 1200]);
        // In-band noise power = 1 · 9.015/15.36.
        let amp = (10f32.powf(snr_db / 10.0) * (9.015 / 15.36)).sqrt();
        for (i, b) in burst.iter().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * offset_hz * (i as f64) / fs;
            let rot = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            x[start + i] += b * rot * amp;
        }
        x
    }

    #[test]
    fn finds_low_snr_burst_with_time_and_frequency() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let x = capture(&mut rng, 30_000, 1.2e6, -4.0);
        let mut det = EnergyDetector::new(&DetectorConfig::new(15.36e6)).unwrap();
        let mut out = Vec::new();
        for block in x.chunks(1000) {
            det.process(block, &mut out);
        }
        det.flush(&mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let c = out[0];
        // Start within a few frames (256 samples each); frequency within a few 60 kHz bins.
        assert!((c.start_sample - 30_000).abs() < 1500, "{c:?}");
        assert!((c.freq_offset_hz - 1.2e6).abs() < 300e3, "{c:?}");
    }

    #[test]
    fn noise_and_zeros_give_no_candidates() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
        let x = noise(&mut rng, 400_000, 1.0);
        let mut det = EnergyDetector::new(&DetectorConfig::new(15.36e6)).unwrap();
        let mut out = Vec::new();
        det.process(&x, &mut out);
        det.flush(&mut out);
        assert!(out.is_empty(), "{out:?}");
        let mut det = EnergyDetector::new(&DetectorConfig::new(15.36e6)).unwrap();
        det.process(&vec![Complex32::new(0.0, 0.0); 100_000], &mut out);
        det.flush(&mut out);
        assert!(out.is_empty(), "{out:?}");
        let mut det = EnergyDetector::new(&DetectorConfig::new(15.36e6)).unwrap();
        det.process(
            &vec![Complex32::new(f32::NAN, f32::INFINITY); 10_000],
            &mut out,
        );
        det.flush(&mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
