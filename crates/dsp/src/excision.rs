//! Narrowband-interference excision: a short-time FFT (sine window, 50 % overlap, perfect
//! reconstruction) in which every bin of a chosen band whose power stands far above that
//! band's median in the same frame is set to zero.
//!
//! A DroneID burst plus noise has a flat spectrum across its 601 carriers, so the median bin
//! power of a frame is the burst-plus-noise level; a CW spur, a Bluetooth hop (1 MHz) or the
//! edge of a Wi-Fi burst 20 dB above the noise stands 10–20 dB over it and is cut out, bin by
//! bin and frame by frame, before timing, CFO and channel estimation see it. Only cells that
//! stay above the threshold for `min_run` consecutive frames are cut: interferers persist in
//! frequency (a Bluetooth hop lasts 366 µs, a spur for ever), while the ZC pilots of a strong
//! burst are chirps whose energy sweeps a short frame's band in a few hops and must be kept.
//! Bins cut become
//! erasures for the demodulator, whose per-carrier reliability estimate then weights them
//! down. Frames with nothing above the threshold pass through unchanged (up to `f32` rounding).

use std::sync::Arc;

use rustfft::{Fft, FftPlanner};

use crate::Complex32;

/// Short-time FFT excisor. Allocates everything in [`SpectralExcisor::new`];
/// [`SpectralExcisor::process`] does not allocate for inputs up to the `max_len` given there.
pub struct SpectralExcisor {
    n: usize,
    hop: usize,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    scratch: Vec<Complex32>,
    padded: Vec<Complex32>,
    out: Vec<Complex32>,
    power: Vec<f32>,
    /// Spectra of every frame of the current input (frames × fft_len).
    spectra: Vec<Complex32>,
    /// Cells above the threshold (frames × bins given).
    flags: Vec<bool>,
    /// Cell power over its frame's median (frames × bins given).
    ratios: Vec<f32>,
    /// Cut cells (frames × bins given).
    cut_cells: Vec<bool>,
    /// Cells of a majority window (frames × bins given), before the neighbour rule.
    majority_cells: Vec<bool>,
    /// Position in the current `bins` of each FFT bin (`usize::MAX`: not given).
    bin_position: Vec<usize>,
    /// Threshold of the majority test over `min_run` consecutive frames (∞: not used).
    majority_threshold: f32,
    /// Frames and bins of the last [`SpectralExcisor::process`] call (for `cut_cells`).
    last_frames: usize,
    last_bins: usize,
    max_len: usize,
}

impl std::fmt::Debug for SpectralExcisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectralExcisor")
            .field("fft_len", &self.n)
            .field("max_len", &self.max_len)
            .finish()
    }
}

impl SpectralExcisor {
    /// An excisor with `fft_len`-point frames (even, ≥ 8) for inputs of up to `max_len`
    /// samples. Panics if `fft_len` is odd or below 8.
    pub fn new(fft_len: usize, max_len: usize) -> Self {
        assert!(
            fft_len >= 8 && fft_len.is_multiple_of(2),
            "fft_len must be even and >= 8"
        );
        let mut planner = FftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(fft_len);
        let inv = planner.plan_fft_inverse(fft_len);
        let scratch_len = fwd
            .get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len());
        // Sine window: w² summed at 50 % overlap is 1 (periodic Hann), so analysis and
        // synthesis with w reconstruct exactly.
        let window = (0..fft_len)
            .map(|i| (std::f64::consts::PI * (i as f64 + 0.5) / fft_len as f64).sin() as f32)
            .collect();
        let hop = fft_len / 2;
        let padded_len = max_len.div_ceil(hop) * hop + 2 * fft_len;
        let max_frames = padded_len / hop + 1;
        Self {
            n: fft_len,
            hop,
            fwd,
            inv,
            window,
            scratch: vec![Complex32::default(); scratch_len],
            padded: vec![Complex32::default(); padded_len],
            out: vec![Complex32::default(); padded_len],
            power: Vec::with_capacity(fft_len),
            spectra: vec![Complex32::default(); max_frames * fft_len],
            flags: vec![false; max_frames * fft_len],
            ratios: vec![0.0; max_frames * fft_len],
            cut_cells: vec![false; max_frames * fft_len],
            majority_cells: vec![false; max_frames * fft_len],
            bin_position: vec![usize::MAX; fft_len],
            majority_threshold: f32::INFINITY,
            last_frames: 0,
            last_bins: 0,
            max_len,
        }
    }

    /// Also cuts every cell of a window of `min_run` consecutive frames (of one bin) in which
    /// more than half of the frames exceed `majority_threshold` × their frame's median:
    /// noise-like interferers (the edge of a Wi-Fi burst, a GFSK hop) fluctuate from frame to
    /// frame like noise, so the per-frame test rarely holds for `min_run` frames in a row, while
    /// most of their frames stand clear of a flat burst's level. The chirp-like ZC pilots of a
    /// strong burst light a bin for two or three frames only, fewer than half. A window only
    /// counts where a neighbouring bin (±1) has one over the same frame too: interferers are
    /// wider than a bin (a Wi-Fi edge, a 1 MHz hop, another burst), while on noise the 50 %
    /// frame overlap makes such windows come by chance about once per 1000 (a few tens of
    /// cells in every 1.5 ms segment, which cost 2–3 % of bursts at −3.5 dB). Off (∞) by
    /// default.
    pub fn with_majority_threshold(mut self, majority_threshold: f32) -> Self {
        self.majority_threshold = majority_threshold;
        self
    }

    /// Frame length (FFT bins).
    pub fn fft_len(&self) -> usize {
        self.n
    }

    /// The cells the last [`Self::process`] call cut, frames × bins (in the order of its
    /// `bins`): frame `f` covers input samples `(f − 1)·fft_len/2 .. (f + 1)·fft_len/2`.
    /// Empty before the first call and after a call on empty input or bins.
    pub fn cut_cells(&self) -> &[bool] {
        &self.cut_cells[..self.last_frames * self.last_bins]
    }

    /// Excises, in place, every bin `k` of `bins` (FFT bin indices, natural order: bin `k` is
    /// frequency `k/fft_len` of the sample rate, negative frequencies at the top) whose power
    /// exceeds `threshold` × the median power of `bins` in the same frame for at least
    /// `min_run` consecutive frames (hops of `fft_len/2`). Returns the number of (frame, bin)
    /// cells cut. Panics if `x` is longer than `max_len`, a bin index is out of range or a bin
    /// is listed twice.
    pub fn process(
        &mut self,
        x: &mut [Complex32],
        bins: &[usize],
        threshold: f32,
        min_run: usize,
    ) -> usize {
        assert!(x.len() <= self.max_len, "input longer than max_len");
        assert!(bins.iter().all(|&k| k < self.n), "bin index out of range");
        self.last_frames = 0;
        self.last_bins = 0;
        if x.is_empty() || bins.is_empty() {
            return 0;
        }
        let (n, hop, nb) = (self.n, self.hop, bins.len());
        // One hop of zeros in front, so that every input sample is covered by two frames.
        let used = hop + x.len().div_ceil(hop) * hop + hop;
        self.padded[..used].fill(Complex32::default());
        self.padded[hop..hop + x.len()].copy_from_slice(x);
        let frames = (used - n) / hop + 1;
        // 1. Spectra and the cells above the threshold.
        for f in 0..frames {
            let start = f * hop;
            let spec = &mut self.spectra[f * n..(f + 1) * n];
            for ((s, &v), &w) in spec
                .iter_mut()
                .zip(&self.padded[start..start + n])
                .zip(&self.window)
            {
                *s = v * w;
            }
            self.fwd.process_with_scratch(spec, &mut self.scratch);
            self.power.clear();
            self.power.extend(bins.iter().map(|&k| spec[k].norm_sqr()));
            let mid = self.power.len() / 2;
            let (_, med, _) = self
                .power
                .select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
            let med = *med;
            let limit = med * threshold;
            let flags = &mut self.flags[f * nb..(f + 1) * nb];
            let ratios = &mut self.ratios[f * nb..(f + 1) * nb];
            for ((flag, r), &k) in flags.iter_mut().zip(ratios.iter_mut()).zip(bins) {
                let p = spec[k].norm_sqr();
                *flag = limit.is_finite() && limit > 0.0 && p > limit;
                *r = if med.is_finite() && med > 0.0 {
                    p / med
                } else {
                    0.0
                };
            }
        }
        // 2. Mark the runs of at least `min_run` frames above the threshold, and (with a
        //    majority threshold) every window of `min_run` frames mostly above that.
        let run = min_run.max(1);
        let cut_cells = &mut self.cut_cells[..frames * nb];
        cut_cells.fill(false);
        self.last_frames = frames;
        self.last_bins = nb;
        for j in 0..nb {
            let mut f = 0;
            while f < frames {
                if !self.flags[f * nb + j] {
                    f += 1;
                    continue;
                }
                let run_start = f;
                while f < frames && self.flags[f * nb + j] {
                    f += 1;
                }
                if f - run_start >= run {
                    for g in run_start..f {
                        cut_cells[g * nb + j] = true;
                    }
                }
            }
        }
        // Majority windows, then the cells of those with a neighbouring bin's window beside
        // them.
        if self.majority_threshold.is_finite() && frames >= run {
            let majority = &mut self.majority_cells[..frames * nb];
            majority.fill(false);
            let t = self.majority_threshold;
            let need = run / 2 + 1;
            let mut any = false;
            for j in 0..nb {
                // Sliding count of frames above the majority threshold.
                let above = |g: usize| (self.ratios[g * nb + j] > t) as usize;
                let mut count: usize = (0..run).map(above).sum();
                for f0 in 0..=frames - run {
                    if f0 > 0 {
                        count = count + above(f0 + run - 1) - above(f0 - 1);
                    }
                    if count >= need {
                        any = true;
                        for g in f0..f0 + run {
                            majority[g * nb + j] = true;
                        }
                    }
                }
            }
            if any {
                for (j, &k) in bins.iter().enumerate() {
                    self.bin_position[k] = j;
                }
                for (j, &k) in bins.iter().enumerate() {
                    let lower = self.bin_position[(k + n - 1) % n];
                    let upper = self.bin_position[(k + 1) % n];
                    for f in 0..frames {
                        let row = f * nb;
                        if majority[row + j]
                            && ((lower != usize::MAX && majority[row + lower])
                                || (upper != usize::MAX && majority[row + upper]))
                        {
                            cut_cells[row + j] = true;
                        }
                    }
                }
                for &k in bins {
                    self.bin_position[k] = usize::MAX;
                }
            }
        }
        // 3. Cut them.
        let mut cut = 0;
        for f in 0..frames {
            for (j, &k) in bins.iter().enumerate() {
                if cut_cells[f * nb + j] {
                    self.spectra[f * n + k] = Complex32::default();
                    cut += 1;
                }
            }
        }
        if cut == 0 {
            return 0; // nothing changed: the input stands as it is
        }
        // 4. Back to the time domain (overlap-add).
        self.out[..used].fill(Complex32::default());
        let scale = 1.0 / n as f32;
        for f in 0..frames {
            let spec = &mut self.spectra[f * n..(f + 1) * n];
            self.inv.process_with_scratch(spec, &mut self.scratch);
            let start = f * hop;
            for ((o, &v), &w) in self.out[start..start + n]
                .iter_mut()
                .zip(spec.iter())
                .zip(&self.window)
            {
                *o += v * (w * scale);
            }
        }
        x.copy_from_slice(&self.out[hop..hop + x.len()]);
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0xE7C1;

    fn noise(rng: &mut ChaCha8Rng, n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
            .collect()
    }

    /// Reference: the same short-time transform evaluated directly (DFT sums in f64).
    fn reference(x: &[Complex32], n: usize, bins: &[usize], threshold: f64) -> Vec<Complex32> {
        let hop = n / 2;
        let used = hop + x.len().div_ceil(hop) * hop + hop;
        let mut padded = vec![num_complex::Complex64::default(); used];
        for (p, v) in padded[hop..].iter_mut().zip(x) {
            *p = num_complex::Complex64::new(v.re as f64, v.im as f64);
        }
        let w: Vec<f64> = (0..n)
            .map(|i| (std::f64::consts::PI * (i as f64 + 0.5) / n as f64).sin())
            .collect();
        let mut out = vec![num_complex::Complex64::default(); used];
        let mut start = 0;
        while start + n <= used {
            let mut spec: Vec<num_complex::Complex64> = (0..n)
                .map(|k| {
                    (0..n)
                        .map(|t| {
                            let ph = -2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                            padded[start + t] * w[t] * num_complex::Complex64::from_polar(1.0, ph)
                        })
                        .sum()
                })
                .collect();
            let mut p: Vec<f64> = bins.iter().map(|&k| spec[k].norm_sqr()).collect();
            p.sort_by(|a, b| a.total_cmp(b));
            let limit = p[p.len() / 2] * threshold;
            for &k in bins {
                if spec[k].norm_sqr() > limit {
                    spec[k] = num_complex::Complex64::default();
                }
            }
            for t in 0..n {
                let v: num_complex::Complex64 = (0..n)
                    .map(|k| {
                        let ph = 2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                        spec[k] * num_complex::Complex64::from_polar(1.0, ph)
                    })
                    .sum();
                out[start + t] += v * (w[t] / n as f64);
            }
            start += hop;
        }
        out[hop..hop + x.len()]
            .iter()
            .map(|v| Complex32::new(v.re as f32, v.im as f32))
            .collect()
    }

    #[test]
    fn matches_reference_on_seeded_input_with_a_tone() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let n = 32;
        let mut x = noise(&mut rng, 301);
        for (t, v) in x.iter_mut().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * 0.21 * t as f64;
            *v += Complex32::new(ph.cos() as f32, ph.sin() as f32) * 8.0;
        }
        let bins: Vec<usize> = (0..n).filter(|k| *k != 16).collect();
        let want = reference(&x, n, &bins, 12.0);
        let mut ex = SpectralExcisor::new(n, 400);
        // Dirty the internal buffers first: results must not depend on them.
        let mut junk = noise(&mut rng, 400);
        ex.process(&mut junk, &bins, 12.0, 1);
        let cut = ex.process(&mut x, &bins, 12.0, 1);
        assert!(cut > 0, "the tone must be cut");
        let worst = x
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a - *b).norm())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "worst deviation {worst}");
    }

    #[test]
    fn passes_noise_through_and_removes_a_strong_tone() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
        let n = 256;
        let all: Vec<usize> = (0..n).collect();
        let clean = noise(&mut rng, 10_000);
        // With no bin above 1000× the median, the output equals the input.
        let mut x = clean.clone();
        let cut = SpectralExcisor::new(n, 10_000).process(&mut x, &all, 1000.0, 1);
        assert_eq!(cut, 0);
        let worst = x
            .iter()
            .zip(&clean)
            .map(|(a, b)| (*a - *b).norm())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "perfect reconstruction: {worst}");
        // A tone 30 dB above the noise per bin is removed to well below the noise per bin.
        let f = 37.0 / n as f64;
        let mut y: Vec<Complex32> = clean
            .iter()
            .enumerate()
            .map(|(t, v)| {
                let ph = 2.0 * std::f64::consts::PI * f * t as f64;
                v + Complex32::new(ph.cos() as f32, ph.sin() as f32) * 20.0
            })
            .collect();
        // A burst of the tone shorter than `min_run` frames is kept …
        let mut short = clean.clone();
        for (t, v) in short.iter_mut().enumerate().skip(2000).take(300) {
            let ph = 2.0 * std::f64::consts::PI * f * t as f64;
            *v += Complex32::new(ph.cos() as f32, ph.sin() as f32) * 20.0;
        }
        let kept = short.clone();
        assert_eq!(
            SpectralExcisor::new(n, 10_000).process(&mut short, &all, 12.0, 8),
            0
        );
        assert_eq!(short, kept);
        // … a persistent one is cut.
        let cut = SpectralExcisor::new(n, 10_000).process(&mut y, &all, 12.0, 8);
        assert!(cut > 0);
        // Tone power left: correlate with the tone.
        let acc: Complex32 = y
            .iter()
            .enumerate()
            .map(|(t, v)| {
                let ph = -2.0 * std::f64::consts::PI * f * t as f64;
                v * Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .sum::<Complex32>()
            / y.len() as f32;
        assert!(acc.norm() < 0.2, "tone amplitude left {}", acc.norm());
    }

    /// A noise-like interferer 11.5 dB over the floor in 8 of 64 bins (most of its
    /// cells under the per-frame threshold of 12 medians) is cut almost entirely with the
    /// majority rule and hardly at all without it; plain noise bins are left alone.
    #[test]
    fn majority_rule_cuts_a_fluctuating_interferer_and_spares_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x3A);
        let n = 64;
        let len = 64 * 200;
        let mut x = noise(&mut rng, len);
        // Interferer: noise band-limited to bins 40..48 (built in the frequency domain of one
        // long FFT), 16x the background per bin.
        let mut planner = FftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(len);
        let inv = planner.plan_fft_inverse(len);
        let mut y = noise(&mut rng, len);
        fwd.process(&mut y);
        let scale = len / n;
        for (k, v) in y.iter_mut().enumerate() {
            if !(40 * scale..48 * scale).contains(&k) {
                *v = Complex32::default();
            }
        }
        inv.process(&mut y);
        // Per-bin power 14x the background's (noise power 2/3 per sample over 64 bins; the
        // interferer's over 8 of them): a mean cell at 14 x 0.69 ≈ 10 medians, under 12.
        let p_y = y.iter().map(|v| v.norm_sqr()).sum::<f32>() / len as f32;
        let gain = (14.0 * (8.0 / 64.0) * (2.0 / 3.0) / p_y).sqrt();
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b * gain;
        }
        let bins: Vec<usize> = (0..n).collect();
        let mut plain = x.clone();
        let cut_plain = SpectralExcisor::new(n, len).process(&mut plain, &bins, 12.0, 8);
        let mut ex = SpectralExcisor::new(n, len).with_majority_threshold(4.0);
        let cut = ex.process(&mut x, &bins, 12.0, 8);
        // Which cells were cut: compare bin power of the output per frame.
        let frames = (len + n) / (n / 2);
        let interferer_cells = 8 * frames;
        assert!(
            cut_plain < interferer_cells / 10,
            "without the majority rule few cells are cut ({cut_plain} of {interferer_cells})"
        );
        assert!(
            cut >= interferer_cells * 8 / 10,
            "majority rule: {cut} cells cut, want most of {interferer_cells}"
        );
        assert!(
            cut <= interferer_cells + 2 * frames + (n - 10) * frames / 100,
            "majority rule: {cut} cells cut, noise bins must stay (interferer {interferer_cells}; \
             its two neighbours hold window leakage)"
        );
    }

    /// On noise alone the majority rule's chance windows (adjacent frames overlap by half, so
    /// 5 of 8 above 4 medians comes about once per 1000 windows) are left alone: a window
    /// counts only beside a neighbouring bin's. Before the neighbour rule this input lost
    /// 0.15 % of its cells (546 of 360 180).
    #[test]
    fn majority_rule_leaves_noise_alone() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x5B);
        let n = 256;
        let len = 128 * 2000;
        let mut x = noise(&mut rng, len);
        let clean = x.clone();
        let bins: Vec<usize> = (0..90).chain(n - 90..n).collect();
        let mut ex = SpectralExcisor::new(n, len).with_majority_threshold(4.0);
        let cut = ex.process(&mut x, &bins, 12.0, 8);
        let cells = ex.cut_cells().len();
        assert!(
            cut * 20_000 <= cells,
            "{cut} of {cells} noise cells cut (want at most 1 in 20000)"
        );
        if cut == 0 {
            assert_eq!(x, clean);
        }
    }
}
