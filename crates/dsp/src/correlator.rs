//! Streaming FFT (overlap-save) correlation with a known template: the burst receiver's search
//! for the ZC-600 pilot.

use std::sync::Arc;

use rustfft::{Fft, FftPlanner};

use crate::Complex32;

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
/// value ever appended is `output[k]`.
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
}

impl std::fmt::Debug for FftCorrelator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftCorrelator")
            .field("template_len", &self.m)
            .field("fft_len", &self.fft_len)
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
        }
    }

    /// Most outputs the next [`FftCorrelator::correlate`] call can append for `input_len`
    /// new samples.
    pub fn max_output_len(&self, input_len: usize) -> usize {
        (self.fill + input_len).saturating_sub(self.m - 1) / self.step * self.step
    }

    /// Forget all history (the next input sample is `n = 0` again).
    pub fn reset(&mut self) {
        self.fill = 0;
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
            }
        }
    }
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
        // The documented count: ⌊(T − M + 1)/step⌋·step with step = fft_len − M + 1.
        let step = 4096 - 1024 + 1;
        assert_eq!(out.len(), (x.len() - 1023) / step * step);
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
}
