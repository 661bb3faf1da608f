//! Correlators: streaming FFT (overlap-save) template correlation, sliding energy and the
//! cyclic-prefix correlator.

use std::sync::Arc;

use rustfft::{Fft, FftPlanner};

use crate::Complex32;

/// Running sums are recomputed from scratch every this many outputs, so `f64` rounding
/// cannot accumulate over long inputs.
const RECOMPUTE: usize = 1024;

/// Streaming overlap-save correlator with a fixed template `t` of length `M`:
///
/// ```text
/// output[n] = Σ_{m<M} input[n+m] · conj(t[m])
/// ```
///
/// where `n` counts input samples from construction (or [`FftCorrelator::reset`]) across all
/// calls. `output[n]` is emitted once `input[n+M−1]` has arrived, in blocks of
/// `fft_len − M + 1` outputs, so after `T` input samples exactly
/// `⌊(T − M + 1)/step⌋·step` outputs have been emitted (`step = fft_len − M + 1`). The k-th
/// value ever appended is `output[k]`; [`FftCorrelator::outputs_emitted`] gives the next index.
///
/// Cost per output ≈ two `fft_len` FFTs / `step`; `fft_len ≈ 4·M` is a good choice.
/// Allocation-free after construction, provided the caller's output `Vec` has capacity
/// (reserve [`FftCorrelator::max_output_len`] or reuse a cleared `Vec`).
pub struct FftCorrelator {
    m: usize,
    fft_len: usize,
    step: usize,
    /// conj(FFT(template zero-padded)) / fft_len
    tmpl: Vec<Complex32>,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
    inbuf: Vec<Complex32>,
    fill: usize,
    work: Vec<Complex32>,
    scratch: Vec<Complex32>,
    emitted: u64,
}

impl std::fmt::Debug for FftCorrelator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftCorrelator")
            .field("template_len", &self.m)
            .field("fft_len", &self.fft_len)
            .field("emitted", &self.emitted)
            .finish()
    }
}

impl FftCorrelator {
    /// Plan the FFTs and transform the template.
    ///
    /// # Panics
    /// If `template` is empty or `fft_len <= template.len()`.
    pub fn new(template: &[Complex32], fft_len: usize) -> Self {
        let m = template.len();
        assert!(m > 0, "empty template");
        assert!(fft_len > m, "fft_len must exceed the template length");
        let mut planner = FftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(fft_len);
        let inv = planner.plan_fft_inverse(fft_len);
        let scratch_len = fwd
            .get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len());
        let mut scratch = vec![Complex32::default(); scratch_len];
        let mut tmpl = vec![Complex32::default(); fft_len];
        tmpl[..m].copy_from_slice(template);
        fwd.process_with_scratch(&mut tmpl, &mut scratch);
        let scale = 1.0 / fft_len as f32;
        tmpl.iter_mut().for_each(|v| *v = v.conj() * scale);
        FftCorrelator {
            m,
            fft_len,
            step: fft_len - m + 1,
            tmpl,
            fwd,
            inv,
            inbuf: vec![Complex32::default(); fft_len],
            fill: 0,
            work: vec![Complex32::default(); fft_len],
            scratch,
            emitted: 0,
        }
    }

    /// Template length `M`.
    pub fn template_len(&self) -> usize {
        self.m
    }

    /// Outputs emitted per FFT block, `fft_len − M + 1`.
    pub fn block_outputs(&self) -> usize {
        self.step
    }

    /// Index `n` of the next output to be emitted (= outputs emitted so far).
    pub fn outputs_emitted(&self) -> u64 {
        self.emitted
    }

    /// Most outputs the next [`FftCorrelator::correlate`] call can append for `input_len`
    /// new samples.
    pub fn max_output_len(&self, input_len: usize) -> usize {
        (self.fill + input_len).saturating_sub(self.m - 1) / self.step * self.step
    }

    /// Forget all history (the next input sample is `n = 0` again).
    pub fn reset(&mut self) {
        self.fill = 0;
        self.emitted = 0;
    }

    /// Consume `input` and append every output it completes to `output`.
    pub fn correlate(&mut self, input: &[Complex32], output: &mut Vec<Complex32>) {
        let mut rest = input;
        while !rest.is_empty() {
            let take = (self.fft_len - self.fill).min(rest.len());
            self.inbuf[self.fill..self.fill + take].copy_from_slice(&rest[..take]);
            self.fill += take;
            rest = &rest[take..];
            if self.fill == self.fft_len {
                self.work.copy_from_slice(&self.inbuf);
                self.fwd
                    .process_with_scratch(&mut self.work, &mut self.scratch);
                for (w, t) in self.work.iter_mut().zip(&self.tmpl) {
                    *w *= t;
                }
                self.inv
                    .process_with_scratch(&mut self.work, &mut self.scratch);
                output.extend_from_slice(&self.work[..self.step]);
                self.inbuf.copy_within(self.step.., 0);
                self.fill = self.m - 1;
                self.emitted += self.step as u64;
            }
        }
    }
}

/// `output[n] = Σ_{i<window} |input[n+i]|²` for `n < input.len() − window + 1`; returns that
/// count (0 when the input is shorter than the window). Running sum in `f64`, recomputed
/// exactly every 1024 outputs.
///
/// # Panics
/// If `window == 0` or `output` is shorter than the count.
pub fn sliding_energy(input: &[Complex32], window: usize, output: &mut [f32]) -> usize {
    assert!(window > 0, "window must be > 0");
    if input.len() < window {
        return 0;
    }
    let count = input.len() - window + 1;
    assert!(output.len() >= count, "output too short");
    let e = |v: &Complex32| (v.re as f64) * (v.re as f64) + (v.im as f64) * (v.im as f64);
    let mut acc = 0.0f64;
    for n in 0..count {
        if n % RECOMPUTE == 0 {
            acc = input[n..n + window].iter().map(e).sum();
        } else {
            acc += e(&input[n + window - 1]) - e(&input[n - 1]);
        }
        output[n] = acc.max(0.0) as f32;
    }
    count
}

/// Cyclic-prefix correlator: `out[n] = Σ_{i<window} conj(x[n+i]) · x[n+i+lag]` for
/// `n < x.len() − lag − window + 1`; returns that count (0 if `x` is too short). Its angle is
/// `2π·Δf·lag/fs` for a CFO `Δf` when the window sits on a cyclic prefix of an OFDM symbol
/// with `lag` = FFT length. Running sum in `f64`, recomputed exactly every 1024 outputs.
///
/// # Panics
/// If `window == 0` or `out` is shorter than the count.
pub fn cp_correlate(x: &[Complex32], lag: usize, window: usize, out: &mut [Complex32]) -> usize {
    assert!(window > 0, "window must be > 0");
    if x.len() < lag + window {
        return 0;
    }
    let count = x.len() - lag - window + 1;
    assert!(out.len() >= count, "output too short");
    let p = |i: usize| {
        let (a, b) = (x[i], x[i + lag]);
        let (ar, ai, br, bi) = (a.re as f64, a.im as f64, b.re as f64, b.im as f64);
        (ar * br + ai * bi, ar * bi - ai * br)
    };
    let (mut sr, mut si) = (0.0f64, 0.0f64);
    for n in 0..count {
        if n % RECOMPUTE == 0 {
            (sr, si) = (0.0, 0.0);
            for i in n..n + window {
                let (r, q) = p(i);
                sr += r;
                si += q;
            }
        } else {
            let (r1, q1) = p(n + window - 1);
            let (r0, q0) = p(n - 1);
            sr += r1 - r0;
            si += q1 - q0;
        }
        out[n] = Complex32::new(sr as f32, si as f32);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5EED_0004;

    fn noise(rng: &mut ChaCha8Rng, n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
            .collect()
    }

    fn direct(x: &[Complex32], t: &[Complex32], n: usize) -> Complex32 {
        let (mut r, mut i) = (0.0f64, 0.0f64);
        for (a, b) in x[n..n + t.len()].iter().zip(t) {
            let p = num_complex::Complex64::new(a.re as f64, a.im as f64)
                * num_complex::Complex64::new(b.re as f64, -b.im as f64);
            r += p.re;
            i += p.im;
        }
        Complex32::new(r as f32, i as f32)
    }

    #[test]
    fn fft_correlator_matches_direct_streaming() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let t = noise(&mut rng, 1024);
        let x = noise(&mut rng, 20_000);
        let mut c = FftCorrelator::new(&t, 4096);
        let mut out = Vec::with_capacity(c.max_output_len(x.len()));
        let mut pos = 0;
        for len in [0usize, 1, 500, 3071, 3072, 4096, 5000, 10_000] {
            let end = (pos + len).min(x.len());
            let before = out.len();
            let bound = c.max_output_len(end - pos);
            c.correlate(&x[pos..end], &mut out);
            assert_eq!(out.len() - before, bound, "max_output_len is exact");
            pos = end;
        }
        let step = c.block_outputs();
        assert_eq!(out.len(), (x.len() - 1023) / step * step);
        assert_eq!(c.outputs_emitted(), out.len() as u64);
        // tolerance: f32 FFT rounding, ~1e-6 relative to the ~sqrt(1024)*0.67 output scale
        for n in (0..out.len()).step_by(7) {
            let want = direct(&x, &t, n);
            assert!((out[n] - want).norm() < 2e-4, "n={n}: {} vs {want}", out[n]);
        }
        // the template itself gives a peak at its position
        let mut c = FftCorrelator::new(&t, 4096);
        let mut y = vec![Complex32::default(); 9000];
        y[3000..4024].copy_from_slice(&t);
        let mut out = Vec::new();
        c.correlate(&y, &mut out);
        let best = (0..out.len())
            .max_by(|&a, &b| out[a].norm().total_cmp(&out[b].norm()))
            .unwrap();
        assert_eq!(best, 3000);
    }

    #[test]
    fn sliding_energy_matches_direct() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
        let mut x = noise(&mut rng, 5000);
        // a loud burst followed by quiet samples checks the periodic recompute
        x[1000..1100].iter_mut().for_each(|v| *v *= 1e4);
        let mut out = vec![0.0; 5000];
        let n = sliding_energy(&x, 80, &mut out);
        assert_eq!(n, 5000 - 79);
        for k in 0..n {
            let want: f64 = x[k..k + 80].iter().map(|v| v.norm_sqr() as f64).sum();
            // f32 output rounding plus f64 running-sum rounding relative to the loudest window
            assert!((out[k] as f64 - want).abs() <= 1e-6 * want + 1e-3, "k={k}");
        }
        assert_eq!(sliding_energy(&x[..10], 80, &mut out), 0);
    }

    #[test]
    fn cp_correlate_matches_direct() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 2);
        let x = noise(&mut rng, 4000);
        let mut out = vec![Complex32::default(); 4000];
        let n = cp_correlate(&x, 1024, 72, &mut out);
        assert_eq!(n, 4000 - 1024 - 72 + 1);
        for k in 0..n {
            let want: Complex32 = (0..72).map(|i| x[k + i].conj() * x[k + i + 1024]).sum();
            // f32 reference sum of 72 terms vs f64 running sum
            assert!((out[k] - want).norm() < 1e-4, "k={k}");
        }
        assert_eq!(cp_correlate(&x[..1000], 1024, 72, &mut out), 0);
    }
}
