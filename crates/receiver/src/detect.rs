//! Time–frequency energy detector: finds DroneID burst candidates anywhere in the captured band.
//!
//! The input is cut into non-overlapping frames of `fft_len` samples (bin width ≈ 60 kHz). Each
//! frame's power spectrum is divided by a per-bin noise floor, giving `r = P/N − 1` (mean 0 and
//! variance 1 on white noise). A box the size of the smallest burst (9.015 MHz × 560 µs) slides over
//! the time–frequency plane; its sum `S` has standard deviation √(W_f·W_t) on noise and grows by
//! `W_f·W_t·γ` for a burst at in-band SNR γ (34 σ at −3.5 dB), so detection is far more sensitive
//! than decoding. Local maxima above `threshold_sigma` become [`Candidate`]s with a start time
//! (± a few frames) and a centre frequency (± a few bins); the burst receiver refines both.
//!
//! Allocation-free after [`EnergyDetector::new`] except for the caller's output vector.

use std::sync::Arc;

use droneid_core::{Complex32, OCCUPIED_BANDWIDTH_HZ};
use rustfft::{Fft, FftPlanner};

/// Detector settings. [`DetectorConfig::new`] gives sensible defaults for a sample rate.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// Input sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Frame/FFT length; bin width = sample_rate / fft_len. Power of two recommended.
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
    /// Defaults for `sample_rate_hz`: ~60 kHz bins, 8 σ threshold, 530 µs × 9.015 MHz box.
    pub fn new(sample_rate_hz: f64) -> Self {
        let target_bins = (sample_rate_hz / 60e3).max(16.0);
        let fft_len = 1usize << (target_bins.log2().round() as u32);
        Self {
            sample_rate_hz,
            fft_len,
            // Noise alone crosses 6 σ a few times a second at 61.44 MS/s (each costs a demod
            // attempt); a burst at −4 dB in-band scores ~20 σ.
            threshold_sigma: 8.0,
            box_duration_s: 530e-6,
            box_bandwidth_hz: OCCUPIED_BANDWIDTH_HZ,
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
    best_score: f32,
    best_frame: u64,
    best_pos: usize,
    last_frame: u64,
    pos: usize,
}

/// Streaming energy detector. Feed blocks of any length with [`process`](Self::process).
pub struct EnergyDetector {
    cfg: DetectorConfig,
    fft: Arc<dyn Fft<f32>>,
    fft_buf: Vec<Complex32>,
    fft_scratch: Vec<Complex32>,
    /// Partial frame carried between calls.
    pending: Vec<Complex32>,
    /// Power spectra buffered until the noise floor is initialised.
    warmup: Vec<f32>,
    warm: bool,
    /// Noise floor per bin (fftshift order).
    floor: Vec<f32>,
    frames_seen: u64,
    /// r = P/N − 1 summed over the frequency box, per box position, for the last `box_frames` frames.
    rows: Vec<f32>,
    row_head: usize,
    /// Running sum of `rows` over time, per box position.
    box_sum: Vec<f64>,
    power: Vec<f32>,
    box_bins: usize,
    box_frames: usize,
    positions: usize,
    sigma: f32,
    events: Vec<Event>,
    frames_to_close: u64,
    /// Ring of recent `P − N` spectra, for the frequency estimate of a finished event.
    excess: Vec<f32>,
    excess_frames: usize,
    excess_sum: Vec<f32>,
    floor_min: f32,
}

impl EnergyDetector {
    /// Plans the FFT and allocates every buffer.
    ///
    /// Returns an error string if the rate is not finite and positive or the band is narrower
    /// than a burst.
    pub fn new(cfg: &DetectorConfig) -> Result<Self, String> {
        if !(cfg.sample_rate_hz.is_finite() && cfg.sample_rate_hz > 0.0) {
            return Err(format!(
                "sample rate {} Hz is not a positive number",
                cfg.sample_rate_hz
            ));
        }
        let n = cfg.fft_len;
        let bin_hz = cfg.sample_rate_hz / n as f64;
        let box_bins = ((cfg.box_bandwidth_hz / bin_hz).round() as usize).max(1);
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
        let fft = FftPlanner::new().plan_fft_forward(n);
        let scratch_len = fft.get_inplace_scratch_len();
        Ok(Self {
            cfg: cfg.clone(),
            fft,
            fft_buf: vec![Complex32::new(0.0, 0.0); n],
            fft_scratch: vec![Complex32::new(0.0, 0.0); scratch_len],
            pending: Vec::with_capacity(n),
            warmup: Vec::with_capacity(WARMUP_FRAMES * n),
            warm: false,
            floor: vec![0.0; n],
            frames_seen: 0,
            rows: vec![0.0; positions * box_frames],
            row_head: 0,
            box_sum: vec![0.0; positions],
            power: vec![0.0; n],
            box_bins,
            box_frames,
            positions,
            sigma: ((box_bins * box_frames) as f32 * CAPPED_NOISE_VAR).sqrt(),
            events: Vec::with_capacity(64),
            frames_to_close: 3,
            // An event lasts about burst + box frames past its best frame: hold three boxes.
            excess: vec![0.0; (3 * box_frames + 16) * n],
            excess_frames: 3 * box_frames + 16,
            excess_sum: vec![0.0; n],
            floor_min: f32::MIN_POSITIVE,
        })
    }

    /// Frame length in samples.
    pub fn frame_len(&self) -> usize {
        self.cfg.fft_len
    }

    /// Samples of latency: a candidate is reported at most this many samples after its burst ends.
    pub fn latency_samples(&self) -> u64 {
        ((self.frames_to_close + 2) * self.cfg.fft_len as u64) + self.cfg.fft_len as u64
    }

    /// Feeds `block` (next samples of the stream) and appends any finished candidates to `out`.
    pub fn process(&mut self, mut block: &[Complex32], out: &mut Vec<Candidate>) {
        let n = self.cfg.fft_len;
        if !self.pending.is_empty() {
            let take = (n - self.pending.len()).min(block.len());
            self.pending.extend_from_slice(&block[..take]);
            block = &block[take..];
            if self.pending.len() == n {
                self.fft_buf.copy_from_slice(&self.pending);
                self.pending.clear();
                self.process_frame(out);
            }
        }
        let mut chunks = block.chunks_exact(n);
        for frame in &mut chunks {
            self.fft_buf.copy_from_slice(frame);
            self.process_frame(out);
        }
        self.pending.extend_from_slice(chunks.remainder());
    }

    /// End of stream: reports every open event.
    pub fn flush(&mut self, out: &mut Vec<Candidate>) {
        // A partial last frame is zero-padded so a burst cut by the end still counts.
        if !self.pending.is_empty() {
            self.fft_buf[..self.pending.len()].copy_from_slice(&self.pending);
            self.fft_buf[self.pending.len()..].fill(Complex32::new(0.0, 0.0));
            self.pending.clear();
            self.process_frame(out);
        }
        if !self.warm {
            self.finish_warmup(out);
        }
        let mut events = std::mem::take(&mut self.events);
        for e in &events {
            let c = self.candidate(e);
            out.push(c);
        }
        events.clear();
        self.events = events;
    }

    fn process_frame(&mut self, out: &mut Vec<Candidate>) {
        let n = self.cfg.fft_len;
        self.fft
            .process_with_scratch(&mut self.fft_buf, &mut self.fft_scratch);
        // Power in fftshift order (bin 0 = −Fs/2). Non-finite input gives 0 power (erasure).
        let half = n / 2;
        for (k, v) in self.fft_buf.iter().enumerate() {
            let p = v.norm_sqr();
            self.power[(k + half) % n] = if p.is_finite() { p } else { 0.0 };
        }
        if !self.warm {
            self.warmup.extend_from_slice(&self.power);
            if self.warmup.len() >= WARMUP_FRAMES * n {
                self.finish_warmup(out);
            }
            return;
        }
        self.update_floor();
        self.detect_step(out);
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
            self.power.copy_from_slice(&warmup[t * n..(t + 1) * n]);
            self.track_floor_min();
        }
        for f in &mut self.floor {
            *f = f.min(4.0 * level).max(self.floor_min);
        }
        for t in 0..frames {
            self.power.copy_from_slice(&warmup[t * n..(t + 1) * n]);
            self.detect_step(out);
        }
    }

    fn detect_step(&mut self, out: &mut Vec<Candidate>) {
        let frame_index = self.frames_seen;
        self.frames_seen += 1;
        let n = self.cfg.fft_len;
        let slot = (frame_index % self.excess_frames as u64) as usize;
        for ((e, &p), &f) in self.excess[slot * n..(slot + 1) * n]
            .iter_mut()
            .zip(&self.power)
            .zip(&self.floor)
        {
            *e = p - f;
        }
        // r = min(P/N, cap) − mean, box-summed over frequency with a running sum.
        let row =
            &mut self.rows[self.row_head * self.positions..(self.row_head + 1) * self.positions];
        let mut acc = 0.0f32;
        for k in 0..self.box_bins {
            acc += ratio(self.power[k], self.floor[k]);
        }
        row[0] = acc;
        for p in 1..self.positions {
            acc += ratio(
                self.power[p + self.box_bins - 1],
                self.floor[p + self.box_bins - 1],
            ) - ratio(self.power[p - 1], self.floor[p - 1]);
            row[p] = acc;
        }
        // Time box: add the new row; subtract the one leaving the box (overwritten next frame).
        let next_head = (self.row_head + 1) % self.box_frames;
        for p in 0..self.positions {
            self.box_sum[p] += self.rows[self.row_head * self.positions + p] as f64;
        }
        let full = frame_index + 1 >= self.box_frames as u64;
        if full {
            self.track_events(frame_index, out);
            for p in 0..self.positions {
                self.box_sum[p] -= self.rows[next_head * self.positions + p] as f64;
            }
        }
        self.row_head = next_head;
    }

    fn update_floor(&mut self) {
        let alpha = 1.0 / self.cfg.floor_frames as f32;
        self.track_floor_min();
        let min = self.floor_min;
        for (f, &p) in self.floor.iter_mut().zip(&self.power) {
            // Clamped update (a burst raises the floor little), rescaled to stay unbiased on noise.
            let target = p.min(3.0 * *f) / CLAMPED_FLOOR_MEAN;
            *f = (*f + alpha * (target - *f)).max(min);
        }
    }

    /// Lower bound of the floor: 50 dB below the loudest recent frame. Real receivers always
    /// have noise above it; noise-free (synthetic, zero-padded) captures would otherwise get a
    /// zero floor and every bin with any leakage would look like signal.
    fn track_floor_min(&mut self) {
        let mean = self.power.iter().sum::<f32>() / self.power.len() as f32;
        let decay = 1.0 - 1.0 / self.cfg.floor_frames as f32;
        self.floor_min = (self.floor_min * decay)
            .max(FLOOR_MIN_REL * mean)
            .max(f32::MIN_POSITIVE);
    }

    fn track_events(&mut self, frame_index: u64, out: &mut Vec<Candidate>) {
        let thr = (self.cfg.threshold_sigma * self.sigma) as f64;
        let half_box = self.box_bins / 2;
        // Local maxima above threshold, at least half a box apart: two bursts on neighbouring
        // channels at the same time make one contiguous run with two peaks.
        let h = half_box.max(1);
        let mut p = 0;
        while p < self.positions {
            let v = self.box_sum[p];
            if v <= thr {
                p += 1;
                continue;
            }
            let lo = p.saturating_sub(h);
            let hi = (p + h).min(self.positions - 1);
            let is_peak =
                (lo..=hi).all(|q| q == p || self.box_sum[q] < v || (self.box_sum[q] == v && q > p));
            if !is_peak {
                p += 1;
                continue;
            }
            // A flat top (saturated ratios on a noise-free capture): take its middle.
            let mut q = p;
            while q + 1 < self.positions && self.box_sum[q + 1] == v {
                q += 1;
            }
            let best = (p + q) / 2;
            p = q + 1;
            let score = (v / self.sigma as f64) as f32;
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
                let c = self.candidate(&e);
                out.push(c);
            } else {
                i += 1;
            }
        }
    }

    /// Box position (within half a box of the event's) holding the most uncapped excess power
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
        for t in from..=to {
            let slot = (t % self.excess_frames as u64) as usize;
            for (acc, &v) in self
                .excess_sum
                .iter_mut()
                .zip(&self.excess[slot * n..(slot + 1) * n])
            {
                *acc += v;
            }
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

    fn candidate(&mut self, e: &Event) -> Candidate {
        let n = self.cfg.fft_len;
        let bin_hz = self.cfg.sample_rate_hz / n as f64;
        let first_frame = e.best_frame as i64 + 1 - self.box_frames as i64;
        let pos = self.refine_position(e);

        // Box centre (fftshift index) → frequency; bin p covers [p − n/2, p − n/2 + 1) bins.
        let centre_bin = pos as f64 + (self.box_bins as f64 - 1.0) / 2.0 - (n / 2) as f64;
        // Box sum per cell ≈ in-band SNR (linear) below the cap.
        let gamma = e.best_score * self.sigma / (self.box_bins * self.box_frames) as f32;
        Candidate {
            start_sample: first_frame * n as i64,
            freq_offset_hz: centre_bin * bin_hz,
            score_sigma: e.best_score,
            snr_db_rough: 10.0 * gamma.max(1e-6).log10(),
        }
    }
}

/// Per-bin ratio cap: keeps narrow spurs (a HackRF DC spike) from dominating the box sum.
const RATIO_CAP: f32 = 4.0;
/// E[min(X, 4)] for X ~ Exp(1): the mean of a capped noise bin.
const CAPPED_NOISE_MEAN: f32 = 0.981_684;
/// Var[min(X, 4)] for X ~ Exp(1).
const CAPPED_NOISE_VAR: f32 = 0.560_2;
/// E[min(X, 3)] for X ~ Exp(1): corrects the clamped floor update to an unbiased mean.
const CLAMPED_FLOOR_MEAN: f32 = 0.950_213;
/// ln 2: median of Exp(1), to turn a median power into a mean.
const LN_2: f32 = std::f32::consts::LN_2;
/// Floor lower bound relative to the mean bin power of the loudest recent frame (−50 dB).
const FLOOR_MIN_REL: f32 = 1e-5;
/// Frames used to initialise the noise floor (fewer if the stream is shorter).
const WARMUP_FRAMES: usize = 128;

#[inline]
fn ratio(p: f32, floor: f32) -> f32 {
    (p / floor).min(RATIO_CAP) - CAPPED_NOISE_MEAN
}

#[cfg(test)]
mod tests {
    use super::*;
    use droneid_core::BurstFormat;
    use droneid_ofdm::BaseRateModulator;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    const SEED: u64 = 0xD7EC7;

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
