//! Phase-continuous numerically controlled oscillator (frequency shifter).

use crate::Complex32;

/// Samples per table block: the phase is re-evaluated exactly (in `f64`) every `BLOCK`
/// samples, and within a block a precomputed `exp(j2π f i/fs)` table is used.
const BLOCK: usize = 64;

/// Frequency shifter: `output[n] = input[n] · exp(j·2π·(f·n/fs + φ0))`, where `n` counts
/// samples since construction (or [`Rotator::reset`]) across all calls.
///
/// The sample stream is cut into absolute blocks of 64 samples. The phase at each block start
/// is kept in `f64` cycles, wrapped to `[0, 1)`, and advanced once per block by `64·f/fs`;
/// within a block a precomputed `exp(j2π f i/fs)` table (computed in `f64`) is used. The result
/// is therefore a pure function of the absolute sample index: splitting the stream into calls
/// of any size gives bit-identical output. Phase drift is the `f64` representation error of
/// `f/fs` times the sample count plus one rounding per block: below `1e-6` cycles after
/// `10^10` samples. Per-sample error is `f32` rounding (≈ `1e-7` relative).
///
/// To move a signal at `+f0` to DC, use `Rotator::new(-f0, fs)`.
#[derive(Clone, Debug)]
pub struct Rotator {
    freq_hz: f64,
    sample_rate_hz: f64,
    /// cycles per sample
    step: f64,
    /// phase at the start of the current 64-sample block, cycles in [0, 1)
    block_phase: f64,
    /// position of the next sample inside the current block, 0..BLOCK
    pos: usize,
    /// exp(j2π block_phase) in f32
    p_re: f32,
    p_im: f32,
    tab_re: [f32; BLOCK],
    tab_im: [f32; BLOCK],
}

impl Rotator {
    /// New rotator at `freq_hz` (may be negative) for samples at `sample_rate_hz`, phase 0.
    ///
    /// # Panics
    /// If `sample_rate_hz` is not finite and positive or `freq_hz` is not finite.
    pub fn new(freq_hz: f64, sample_rate_hz: f64) -> Self {
        assert!(
            sample_rate_hz.is_finite() && sample_rate_hz > 0.0,
            "sample rate must be finite and > 0"
        );
        let mut r = Rotator {
            freq_hz: 0.0,
            sample_rate_hz,
            step: 0.0,
            block_phase: 0.0,
            pos: 0,
            p_re: 1.0,
            p_im: 0.0,
            tab_re: [1.0; BLOCK],
            tab_im: [0.0; BLOCK],
        };
        r.set_frequency(freq_hz);
        r
    }

    /// Change the frequency; the phase stays continuous (the next sample continues from the
    /// phase the old frequency reached).
    ///
    /// # Panics
    /// If `freq_hz` is not finite.
    pub fn set_frequency(&mut self, freq_hz: f64) {
        assert!(freq_hz.is_finite(), "frequency must be finite");
        let now = self.phase_cycles();
        self.freq_hz = freq_hz;
        self.step = freq_hz / self.sample_rate_hz;
        for i in 0..BLOCK {
            let p = std::f64::consts::TAU * frac(self.step * i as f64);
            self.tab_re[i] = p.cos() as f32;
            self.tab_im[i] = p.sin() as f32;
        }
        self.set_phase_cycles(now);
    }

    /// Current frequency in Hz.
    pub fn frequency(&self) -> f64 {
        self.freq_hz
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate_hz
    }

    /// Phase (cycles, `[0, 1)`) that the next sample will be rotated by.
    pub fn phase_cycles(&self) -> f64 {
        frac(self.block_phase + self.step * self.pos as f64)
    }

    /// Set the phase (cycles) applied to the next sample.
    pub fn set_phase_cycles(&mut self, phase: f64) {
        self.block_phase = frac(phase - self.step * self.pos as f64);
        self.update_phasor();
    }

    /// Reset to phase 0 and sample index 0.
    pub fn reset(&mut self) {
        self.block_phase = 0.0;
        self.pos = 0;
        self.update_phasor();
    }

    /// `output[i] = input[i] · exp(j·phase(n + i))` for `i < input.len()`.
    ///
    /// # Panics
    /// If `output.len() < input.len()`.
    pub fn mix(&mut self, input: &[Complex32], output: &mut [Complex32]) {
        assert!(output.len() >= input.len(), "output shorter than input");
        let mut done = 0;
        while done < input.len() {
            let (pos, seg) = (self.pos, (BLOCK - self.pos).min(input.len() - done));
            let (pr, pi) = (self.p_re, self.p_im);
            let tr = &self.tab_re[pos..pos + seg];
            let ti = &self.tab_im[pos..pos + seg];
            let xin = &input[done..done + seg];
            let out = &mut output[done..done + seg];
            for i in 0..seg {
                let w_re = pr * tr[i] - pi * ti[i];
                let w_im = pr * ti[i] + pi * tr[i];
                let x = xin[i];
                out[i] = Complex32::new(x.re * w_re - x.im * w_im, x.re * w_im + x.im * w_re);
            }
            done += seg;
            self.advance(seg);
        }
    }

    /// In-place version of [`Rotator::mix`].
    pub fn mix_inplace(&mut self, data: &mut [Complex32]) {
        let mut done = 0;
        while done < data.len() {
            let (pos, seg) = (self.pos, (BLOCK - self.pos).min(data.len() - done));
            let (pr, pi) = (self.p_re, self.p_im);
            let tr = &self.tab_re[pos..pos + seg];
            let ti = &self.tab_im[pos..pos + seg];
            let d = &mut data[done..done + seg];
            for i in 0..seg {
                let w_re = pr * tr[i] - pi * ti[i];
                let w_im = pr * ti[i] + pi * tr[i];
                let x = d[i];
                d[i] = Complex32::new(x.re * w_re - x.im * w_im, x.re * w_im + x.im * w_re);
            }
            done += seg;
            self.advance(seg);
        }
    }

    /// Mix and de-interleave: `out_re[i] + j·out_im[i] = input[i]·exp(j·phase(n + i))`,
    /// bit-identical to [`Rotator::mix`]. Used by the resampler, whose filter runs on split
    /// arrays.
    ///
    /// # Panics
    /// If either output is shorter than `input`.
    pub fn mix_split(&mut self, input: &[Complex32], out_re: &mut [f32], out_im: &mut [f32]) {
        assert!(out_re.len() >= input.len() && out_im.len() >= input.len());
        let mut done = 0;
        while done < input.len() {
            let (pos, seg) = (self.pos, (BLOCK - self.pos).min(input.len() - done));
            let (pr, pi) = (self.p_re, self.p_im);
            let tr = &self.tab_re[pos..pos + seg];
            let ti = &self.tab_im[pos..pos + seg];
            let xin = &input[done..done + seg];
            let ore = &mut out_re[done..done + seg];
            let oim = &mut out_im[done..done + seg];
            for i in 0..seg {
                let w_re = pr * tr[i] - pi * ti[i];
                let w_im = pr * ti[i] + pi * tr[i];
                let x = xin[i];
                ore[i] = x.re * w_re - x.im * w_im;
                oim[i] = x.re * w_im + x.im * w_re;
            }
            done += seg;
            self.advance(seg);
        }
    }

    #[inline]
    fn advance(&mut self, seg: usize) {
        self.pos += seg;
        if self.pos == BLOCK {
            self.pos = 0;
            self.block_phase = frac(self.block_phase + self.step * BLOCK as f64);
            self.update_phasor();
        }
    }

    fn update_phasor(&mut self) {
        let (s, c) = (std::f64::consts::TAU * self.block_phase).sin_cos();
        self.p_re = c as f32;
        self.p_im = s as f32;
    }
}

#[inline]
fn frac(x: f64) -> f64 {
    let f = x - x.floor();
    if f >= 1.0 {
        0.0
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5EED_0001;

    fn reference(input: &[Complex32], f: f64, fs: f64, n0: u64) -> Vec<Complex32> {
        input
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let n = n0 + i as u64;
                // exact phase: (n * f mod fs) / fs using integer-ish f64 for moderate n
                let p = std::f64::consts::TAU * frac(n as f64 * f / fs);
                let w = num_complex::Complex64::from_polar(1.0, p);
                let y = num_complex::Complex64::new(x.re as f64, x.im as f64) * w;
                Complex32::new(y.re as f32, y.im as f32)
            })
            .collect()
    }

    #[test]
    fn matches_reference_streaming() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let fs = 15.36e6;
        for &f in &[0.0, 1.0e6, -3.3e6, 7.1234567e6, 123.456] {
            let x: Vec<Complex32> = (0..5000)
                .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
                .collect();
            let want = reference(&x, f, fs, 0);
            let mut rot = Rotator::new(f, fs);
            let mut got = vec![Complex32::default(); x.len()];
            // odd split sizes to exercise partial blocks
            let mut pos = 0;
            for len in [1usize, 63, 64, 65, 100, 1000, 3707] {
                let end = (pos + len).min(x.len());
                rot.mix(&x[pos..end], &mut got[pos..end]);
                pos = end;
            }
            // tolerance: f32 rounding of two complex products plus table quantisation
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).norm() < 2e-6, "f={f}: {g} vs {w}");
            }
            let mut inpl = x.clone();
            let mut rot = Rotator::new(f, fs);
            rot.mix_inplace(&mut inpl[..777]);
            rot.mix_inplace(&mut inpl[777..]);
            assert_eq!(inpl, got);
            let (mut re, mut im) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            let mut rot = Rotator::new(f, fs);
            rot.mix_split(&x[..100], &mut re[..100], &mut im[..100]);
            rot.mix_split(&x[100..], &mut re[100..], &mut im[100..]);
            for i in 0..x.len() {
                assert_eq!(Complex32::new(re[i], im[i]), got[i]);
            }
        }
    }

    #[test]
    fn no_drift_over_long_run() {
        // 10^9 samples processed as huge "virtual" advances: advance the phase with the same
        // block arithmetic the rotator uses and compare against the exact rational phase.
        let fs = 15.36e6;
        let f = 1.234_567e6; // f/fs = 1234567/15360000
        let mut rot = Rotator::new(f, fs);
        let mut buf = vec![Complex32::new(1.0, 0.0); 1 << 16];
        let blocks = 2000u64; // 131 M samples: checks the block arithmetic in a test budget
        for _ in 0..blocks {
            rot.mix_inplace(&mut buf);
            buf.iter_mut().for_each(|v| *v = Complex32::new(1.0, 0.0));
        }
        let n = blocks * (1 << 16);
        let exact = ((n as u128 * 1_234_567u128) % 15_360_000u128) as f64 / 15_360_000.0;
        let err = (rot.phase_cycles() - exact).abs();
        let err = err.min(1.0 - err);
        assert!(err < 1e-7, "phase error {err} cycles");
    }

    #[test]
    fn set_frequency_is_phase_continuous() {
        let fs = 1.0e6;
        let mut rot = Rotator::new(1000.0, fs);
        let mut a = vec![Complex32::new(1.0, 0.0); 100];
        rot.mix_inplace(&mut a);
        rot.set_frequency(-5000.0);
        let mut b = vec![Complex32::new(1.0, 0.0); 1];
        rot.mix_inplace(&mut b);
        // the 101st sample has phase 100 * 1000/1e6 cycles
        let want = Complex32::from_polar(1.0, (std::f64::consts::TAU * 0.1) as f32);
        assert!((b[0] - want).norm() < 1e-6);
    }
}
