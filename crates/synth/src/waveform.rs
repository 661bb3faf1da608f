//! Exact band-limited evaluation of a DroneID burst at any sample rate (spec §2.5).
//!
//! Each OFDM symbol is the trigonometric polynomial
//!
//! ```text
//! s(u) = (1/√600) · Σ_i X_i · exp(j2π · k_i · (u − u_useful) / 1024)
//! ```
//!
//! where `u` is time in base-rate samples (1/15.36 MHz) from the burst start and `u_useful` is the
//! start of the symbol's useful part. Samples of the symbol's span that lie before `u_useful` are
//! the same expression, i.e. exactly the cyclic prefix. The output samples of one symbol are on a
//! uniform grid `u_m = u_first + m·step`, so the whole symbol is a chirp-z transform of its 601
//! carriers (k = −300..300, DC zero) — evaluated with Bluestein's algorithm in f64: two FFTs per
//! symbol, independent of whether `Fs / 15 kHz` is an integer, with sub-1e-9 phase error.
//!
//! At 15.36 MS/s with an integer start this reproduces `BaseRateModulator` (1024-point IFFT) to
//! float rounding; at every rate the spectrum holds exactly the 600 carriers (no images).

use std::sync::Arc;

use droneid_core::{
    carrier_k, BurstFormat, Complex32, Complex64, BASE_SAMPLE_RATE_HZ, FFT_LEN, NUM_CARRIERS,
};
use rustfft::{Fft, FftPlanner};

/// Samples closer than this (in output samples) to a symbol boundary are assigned to the later
/// symbol, so that exact rational rates (15.36, 30.72, 61.44 MS/s) never flip a boundary sample
/// because of float rounding.
const BOUNDARY_EPS: f64 = 1e-7;

/// Number of Bluestein coefficients: k' = k + 300 in 0..=600 (k = 0 stays zero).
const N_COEF: usize = 601;

/// One path of the channel as the waveform engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct PathSpec {
    /// Burst start (first CP sample) of this path, in output samples (fractional).
    pub start_sample: f64,
    /// Complex gain applied to this path (includes amplitude, phase and any mixing phase).
    pub gain: Complex64,
}

/// Time-axis parameters shared by every path of a burst.
#[derive(Debug, Clone, Copy)]
pub struct TimeAxis {
    /// Output sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Transmitter sample-clock error in ppm: burst time advances `(1 + ppm·1e-6)` base samples
    /// per nominal base sample of receiver time.
    pub sample_clock_ppm: f64,
}

impl TimeAxis {
    /// Burst-time advance per output sample, in base-rate samples.
    pub fn step_base(&self) -> f64 {
        (1.0 + self.sample_clock_ppm * 1e-6) * BASE_SAMPLE_RATE_HZ / self.sample_rate_hz
    }

    /// Length of the burst on the output grid (fractional output samples).
    pub fn burst_len_out(&self, format: BurstFormat) -> f64 {
        format.len_base() as f64 / self.step_base()
    }

    /// First output index at or after fractional position `x` (with the boundary tolerance).
    pub fn ceil_idx(x: f64) -> i64 {
        (x - BOUNDARY_EPS).ceil() as i64
    }
}

struct Chirp {
    step_base: f64,
    m_cap: usize,
    len: usize,
    fft: Arc<dyn Fft<f64>>,
    ifft: Arc<dyn Fft<f64>>,
    /// FFT of the convolution kernel v_d = exp(−jπβd²), scaled by 1/len (IFFT normalisation).
    kernel_fft: Vec<Complex64>,
    /// Post-multiplier exp(jπβm² − j2π·300·β·m) / √600 for m in 0..m_cap.
    post: Vec<Complex64>,
    /// Pre-multiplier exp(jπβk'²) for k' in 0..=600.
    pre: Vec<Complex64>,
}

/// Evaluates bursts at an arbitrary output rate. Holds FFT plans and the chirp tables for the
/// last (rate, ppm) seen; reuse one renderer for many bursts.
pub struct BurstRenderer {
    planner: FftPlanner<f64>,
    chirp: Option<Chirp>,
    work: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Default for BurstRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for BurstRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurstRenderer").finish_non_exhaustive()
    }
}

/// Cycles → unit phasor, with the argument reduced to [−0.5, 0.5) first.
#[inline]
fn cis_cycles(c: f64) -> Complex64 {
    let r = c - c.round();
    let (s, co) = (std::f64::consts::TAU * r).sin_cos();
    Complex64::new(co, s)
}

/// Smallest 2^a·3^b·5^c ≥ n.
fn good_fft_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut p5 = 1usize;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            let mut v = p35;
            while v < n {
                v *= 2;
            }
            best = best.min(v);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best
}

impl BurstRenderer {
    /// A renderer with no tables yet (built on first use).
    pub fn new() -> Self {
        Self {
            planner: FftPlanner::new(),
            chirp: None,
            work: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn ensure_chirp(&mut self, step_base: f64, m_needed: usize) {
        if let Some(c) = &self.chirp {
            if c.step_base == step_base && c.m_cap >= m_needed {
                return;
            }
        }
        let m_cap = m_needed.max(16);
        let len = good_fft_len(m_cap + N_COEF);
        // β: phase advance in cycles per output sample per unit subcarrier index.
        let beta = step_base / FFT_LEN as f64;
        let fft = self.planner.plan_fft_forward(len);
        let ifft = self.planner.plan_fft_inverse(len);
        // Kernel v_d = exp(−jπβd²), d ∈ [−600, m_cap), stored at d mod len.
        let mut kernel = vec![Complex64::new(0.0, 0.0); len];
        for d in -(N_COEF as i64 - 1)..m_cap as i64 {
            let dd = (d * d) as f64;
            kernel[d.rem_euclid(len as i64) as usize] = cis_cycles(-0.5 * beta * dd);
        }
        let scratch_len = fft
            .get_inplace_scratch_len()
            .max(ifft.get_inplace_scratch_len());
        self.scratch.resize(scratch_len, Complex64::new(0.0, 0.0));
        fft.process_with_scratch(&mut kernel, &mut self.scratch);
        let inv = 1.0 / len as f64;
        for v in kernel.iter_mut() {
            *v *= inv;
        }
        let norm = 1.0 / (NUM_CARRIERS as f64).sqrt();
        let post = (0..m_cap)
            .map(|m| {
                let mf = m as f64;
                // Split the two terms so each reduction stays accurate for large m.
                let a = 0.5 * beta * mf * mf;
                let b = 300.0 * beta * mf;
                cis_cycles((a - a.round()) - (b - b.round())) * norm
            })
            .collect();
        let pre = (0..N_COEF)
            .map(|k| cis_cycles(0.5 * beta * (k * k) as f64))
            .collect();
        self.work.resize(len, Complex64::new(0.0, 0.0));
        self.chirp = Some(Chirp {
            step_base,
            m_cap,
            len,
            fft,
            ifft,
            kernel_fft: kernel,
            post,
            pre,
        });
    }

    /// Adds `gain · s(u_first + m·step)` for m in 0..out.len() to `out`, where `s` is the symbol
    /// with carriers `carriers` (slot order) whose useful part starts at `u_useful` (base samples).
    /// `u_first` is the burst time of `out[0]`.
    fn add_symbol(
        &mut self,
        carriers: &[Complex32; NUM_CARRIERS],
        u_first: f64,
        u_useful: f64,
        gain: Complex64,
        out: &mut [Complex64],
    ) {
        let m = out.len();
        if m == 0 {
            return;
        }
        let chirp = self.chirp.as_ref().expect("chirp tables built");
        debug_assert!(m <= chirp.m_cap);
        // α: carrier phase (cycles per unit k) at out[0].
        let alpha = (u_first - u_useful) / FFT_LEN as f64;
        let work = &mut self.work[..chirp.len];
        work.fill(Complex64::new(0.0, 0.0));
        for (i, x) in carriers.iter().enumerate() {
            let k = carrier_k(i) as i64;
            let kp = (k + 300) as usize;
            let a = alpha * k as f64;
            let coef = Complex64::new(x.re as f64, x.im as f64) * cis_cycles(a);
            work[kp] = coef * chirp.pre[kp];
        }
        chirp.fft.process_with_scratch(work, &mut self.scratch);
        for (w, v) in work.iter_mut().zip(&chirp.kernel_fft) {
            *w *= v;
        }
        chirp.ifft.process_with_scratch(work, &mut self.scratch);
        for ((o, w), p) in out.iter_mut().zip(work.iter()).zip(&chirp.post) {
            *o += gain * (w * p);
        }
    }

    /// Adds one path of a burst (all its symbols) to `out`, whose element 0 is output sample
    /// `out_first`. Only the samples of the burst that fall inside `out` are touched.
    pub fn add_burst_path(
        &mut self,
        format: BurstFormat,
        symbols: &[[Complex32; NUM_CARRIERS]],
        axis: &TimeAxis,
        path: &PathSpec,
        out_first: i64,
        out: &mut [Complex64],
    ) {
        assert_eq!(symbols.len(), format.num_symbols());
        let step = axis.step_base();
        // Longest symbol on the output grid, plus rounding slack.
        let max_sym = (FFT_LEN + 80) as f64 / step;
        self.ensure_chirp(step, max_sym.ceil() as usize + 2);
        let out_end = out_first + out.len() as i64;
        for (s, carriers) in symbols.iter().enumerate() {
            let sym_lo = format.symbol_start(s) as f64;
            let sym_hi = (format.symbol_start(s) + format.cp_lengths()[s] + FFT_LEN) as f64;
            let n_lo = TimeAxis::ceil_idx(path.start_sample + sym_lo / step);
            let n_hi = TimeAxis::ceil_idx(path.start_sample + sym_hi / step);
            let a = n_lo.max(out_first);
            let b = n_hi.min(out_end);
            if a >= b {
                continue;
            }
            let u_first = (a as f64 - path.start_sample) * step;
            let u_useful = format.useful_start(s) as f64;
            let slice = &mut out[(a - out_first) as usize..(b - out_first) as usize];
            self.add_symbol(carriers, u_first, u_useful, path.gain, slice);
        }
    }
}

/// Output-sample range `[first, end)` covered by a path starting at `start_sample`.
pub fn path_extent(format: BurstFormat, axis: &TimeAxis, start_sample: f64) -> (i64, i64) {
    let first = TimeAxis::ceil_idx(start_sample);
    let end = TimeAxis::ceil_idx(start_sample + axis.burst_len_out(format));
    (first, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_lengths() {
        assert_eq!(good_fft_len(1000), 1000);
        assert_eq!(good_fft_len(1025), 1080);
        assert_eq!(good_fft_len(9435), 9600);
        assert_eq!(good_fft_len(7), 8);
    }
}
