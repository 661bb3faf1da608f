//! Channel-estimate smoothing across carriers (spec §8 note 4).
//!
//! [`LocalLinearSmoother`] fits, for every carrier slot `i`, a straight line (complex values
//! against the signed subcarrier index `k(i)`) to the raw estimates in the slot window
//! `[i − h, i + h]` clipped to `0..600`, and returns the line's value at `k(i)`. Compared with a
//! plain moving average:
//! * a linear trend (a residual timing ramp, a sloping multipath response) passes unbiased;
//! * the band edges need no special case: the window is simply one-sided there (noise variance
//!   grows to at most ≈4/n of the raw one at the outermost carrier instead of 1/n in the middle);
//! * the DC gap (k jumps from −1 to +1) is handled by regressing on k, not on the slot index.
//!
//! The fast version uses prefix sums (O(600) for any window); [`smooth_reference`] is the direct
//! O(600·taps) scalar reference it is tested against.

use droneid_core::{carrier_k, Complex32, Complex64, NUM_CARRIERS};

/// Candidate windows for [`LocalLinearSmoother::smooth_adaptive`] (carriers).
pub const ADAPTIVE_TAPS: [usize; 9] = [7, 11, 15, 23, 31, 47, 63, 95, 127];

/// Prefix-sum local linear regression smoother for 600-carrier vectors. Owns its scratch.
///
/// Window length `taps`: an even value is rounded up to the next odd one; 0 and 1 mean no
/// smoothing.
#[derive(Debug, Clone)]
pub struct LocalLinearSmoother {
    /// Prefix sums over slots: Σk, Σk², Σy, Σk·y (f64 for exact cancellation).
    sk: Vec<f64>,
    skk: Vec<f64>,
    sy: Vec<Complex64>,
    sky: Vec<Complex64>,
}

impl Default for LocalLinearSmoother {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalLinearSmoother {
    /// Allocates all scratch.
    pub fn new() -> Self {
        let n = NUM_CARRIERS + 1;
        let mut sk = vec![0.0; n];
        let mut skk = vec![0.0; n];
        for i in 0..NUM_CARRIERS {
            let k = carrier_k(i) as f64;
            sk[i + 1] = sk[i] + k;
            skk[i + 1] = skk[i] + k * k;
        }
        Self {
            sk,
            skk,
            sy: vec![Complex64::new(0.0, 0.0); n],
            sky: vec![Complex64::new(0.0, 0.0); n],
        }
    }

    fn load(&mut self, input: &[Complex32; NUM_CARRIERS]) {
        for i in 0..NUM_CARRIERS {
            let y = Complex64::new(input[i].re as f64, input[i].im as f64);
            let k = carrier_k(i) as f64;
            self.sy[i + 1] = self.sy[i] + y;
            self.sky[i + 1] = self.sky[i] + y * k;
        }
    }

    /// Fitted value and hat-matrix diagonal w_ii at slot `i` for half-width `h`.
    #[inline]
    fn fit_at(&self, i: usize, h: usize) -> (Complex64, f64) {
        let lo = i.saturating_sub(h);
        let hi = (i + h + 1).min(NUM_CARRIERS);
        window_fit(
            (hi - lo) as f64,
            self.sk[hi] - self.sk[lo],
            self.skk[hi] - self.skk[lo],
            self.sy[hi] - self.sy[lo],
            self.sky[hi] - self.sky[lo],
            carrier_k(i) as f64,
        )
    }

    /// Smooths `input` into `output` with a `taps`-carrier window (no allocation). Returns the
    /// mean noise-variance factor of the output (mean of w_ii = Σ_j w_ij²: ≈1/taps in the
    /// middle, larger at the band edges).
    pub fn smooth(
        &mut self,
        taps: usize,
        input: &[Complex32; NUM_CARRIERS],
        output: &mut [Complex32; NUM_CARRIERS],
    ) -> f64 {
        self.load(input);
        self.apply(taps / 2, output)
    }

    fn apply(&self, h: usize, output: &mut [Complex32; NUM_CARRIERS]) -> f64 {
        let mut wsum = 0.0;
        for i in 0..NUM_CARRIERS {
            let (v, w) = self.fit_at(i, h);
            output[i] = Complex32::new(v.re as f32, v.im as f32);
            wsum += w;
        }
        wsum / NUM_CARRIERS as f64
    }

    /// Leave-one-out cross-validation score of a `taps` window on the loaded input:
    /// `Σ_i |y_i − ŷ_i|² / (1 − w_ii)²` (exact LOO residuals for a local least-squares fit).
    fn cv_score(&self, input: &[Complex32; NUM_CARRIERS], taps: usize) -> f64 {
        let h = taps / 2;
        let mut score = 0.0;
        for i in 0..NUM_CARRIERS {
            let (v, w) = self.fit_at(i, h);
            let d = 1.0 - w;
            if d > 1e-6 {
                let y = Complex64::new(input[i].re as f64, input[i].im as f64);
                score += (y - v).norm_sqr() / (d * d);
            }
        }
        score
    }

    /// Picks the window among `candidates` with the smallest leave-one-out prediction error
    /// (the bias/variance trade-off for this channel and SNR), smooths with it, and returns
    /// (chosen taps, mean noise-variance factor). Flat channels get long windows, frequency-
    /// selective ones short windows. `candidates` should be ≥ 5 taps each.
    pub fn smooth_adaptive(
        &mut self,
        candidates: &[usize],
        input: &[Complex32; NUM_CARRIERS],
        output: &mut [Complex32; NUM_CARRIERS],
    ) -> (usize, f64) {
        self.load(input);
        let mut best = (candidates[0], f64::INFINITY);
        for &t in candidates {
            let sc = self.cv_score(input, t);
            if sc < best.1 {
                best = (t, sc);
            }
        }
        let v = self.apply(best.0 / 2, output);
        (best.0, v)
    }
}

/// Leave-one-out CV score computed by literally refitting every window without point `i`
/// (scalar reference of the hat-diagonal shortcut).
pub fn cv_score_reference(taps: usize, input: &[Complex32; NUM_CARRIERS]) -> f64 {
    let h = taps / 2;
    let mut score = 0.0;
    for i in 0..NUM_CARRIERS {
        let lo = i.saturating_sub(h);
        let hi = (i + h + 1).min(NUM_CARRIERS);
        let (mut n, mut sk, mut skk) = (0.0, 0.0, 0.0);
        let (mut sy, mut sky) = (Complex64::new(0.0, 0.0), Complex64::new(0.0, 0.0));
        for j in (lo..hi).filter(|&j| j != i) {
            let k = carrier_k(j) as f64;
            let y = Complex64::new(input[j].re as f64, input[j].im as f64);
            n += 1.0;
            sk += k;
            skk += k * k;
            sy += y;
            sky += y * k;
        }
        // Same guard as the fast path: skip points whose own fit interpolates them.
        let (_, w) = {
            let (mut n2, mut sk2, mut skk2) = (0.0, 0.0, 0.0);
            for j in lo..hi {
                let k = carrier_k(j) as f64;
                n2 += 1.0;
                sk2 += k;
                skk2 += k * k;
            }
            let z = Complex64::new(0.0, 0.0);
            window_fit(n2, sk2, skk2, z, z, carrier_k(i) as f64)
        };
        if 1.0 - w <= 1e-6 || n < 2.0 {
            continue;
        }
        let (pred, _) = window_fit(n, sk, skk, sy, sky, carrier_k(i) as f64);
        let y = Complex64::new(input[i].re as f64, input[i].im as f64);
        score += (y - pred).norm_sqr();
    }
    score
}

/// Value at `k` of the least-squares line through a window with the given sums, and the
/// hat-matrix weight of a point at `k` in that window (1/n + (k − k̄)²/S_kk).
#[inline]
fn window_fit(
    n: f64,
    sk: f64,
    skk: f64,
    sy: Complex64,
    sky: Complex64,
    k: f64,
) -> (Complex64, f64) {
    let kbar = sk / n;
    let ybar = sy / n;
    let var = skk / n - kbar * kbar;
    if var > 1e-9 {
        let slope = (sky / n - ybar * kbar) / var;
        let dk = k - kbar;
        (ybar + slope * dk, 1.0 / n + dk * dk / (n * var))
    } else {
        (ybar, 1.0 / n)
    }
}

/// Scalar reference of [`LocalLinearSmoother::smooth`]: direct sums per carrier.
pub fn smooth_reference(
    taps: usize,
    input: &[Complex32; NUM_CARRIERS],
    output: &mut [Complex32; NUM_CARRIERS],
) {
    let h = taps / 2;
    for i in 0..NUM_CARRIERS {
        let lo = i.saturating_sub(h);
        let hi = (i + h + 1).min(NUM_CARRIERS);
        let (mut sk, mut skk) = (0.0, 0.0);
        let (mut sy, mut sky) = (Complex64::new(0.0, 0.0), Complex64::new(0.0, 0.0));
        for j in lo..hi {
            let k = carrier_k(j) as f64;
            let y = Complex64::new(input[j].re as f64, input[j].im as f64);
            sk += k;
            skk += k * k;
            sy += y;
            sky += y * k;
        }
        let (v, _) = window_fit((hi - lo) as f64, sk, skk, sy, sky, carrier_k(i) as f64);
        output[i] = Complex32::new(v.re as f32, v.im as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5EED_C4E5;

    #[test]
    fn fast_matches_reference_on_random_input() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        for taps in [0, 1, 2, 7, 15, 31, 600, 1500] {
            let mut x = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
            for v in x.iter_mut() {
                *v = Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
            }
            let mut fast = LocalLinearSmoother::new();
            let mut a = [Complex32::new(9.0, 9.0); NUM_CARRIERS]; // dirty output buffer
            let mut b = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
            fast.smooth(taps, &x, &mut a);
            fast.smooth(taps, &x, &mut a); // second call reuses dirty scratch
            smooth_reference(taps, &x, &mut b);
            for i in 0..NUM_CARRIERS {
                // f64 prefix sums vs direct sums: differences are rounding only.
                assert!((a[i] - b[i]).norm() < 1e-5, "taps {taps} i {i}");
            }
        }
    }

    #[test]
    fn linear_input_passes_unchanged_across_dc_and_edges() {
        let mut x = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
        for i in 0..NUM_CARRIERS {
            let k = carrier_k(i) as f32;
            x[i] = Complex32::new(0.3 + 0.01 * k, -0.2 + 0.002 * k);
        }
        let mut s = LocalLinearSmoother::new();
        let mut y = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
        s.smooth(15, &x, &mut y);
        for i in 0..NUM_CARRIERS {
            // A line is reproduced exactly up to f32 rounding.
            assert!((x[i] - y[i]).norm() < 1e-5, "i {i}");
        }
    }

    #[test]
    fn cv_score_matches_refit_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 1);
        let mut x = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
        for (i, v) in x.iter_mut().enumerate() {
            let ph = 0.05 * i as f32;
            *v = Complex32::new(
                ph.cos() + rng.gen_range(-0.3..0.3),
                ph.sin() + rng.gen_range(-0.3..0.3),
            );
        }
        let mut s = LocalLinearSmoother::new();
        s.load(&x);
        for taps in ADAPTIVE_TAPS {
            let fast = s.cv_score(&x, taps);
            let slow = cv_score_reference(taps, &x);
            // Exact identity; only f64 rounding differs.
            assert!(
                (fast - slow).abs() < 1e-9 * slow.max(1.0),
                "taps {taps}: {fast} vs {slow}"
            );
        }
    }

    #[test]
    fn adaptive_picks_long_window_for_flat_and_short_for_selective() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 2);
        let mut s = LocalLinearSmoother::new();
        let mut out = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
        let mut flat = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
        let mut sel = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
        for i in 0..NUM_CARRIERS {
            let k = carrier_k(i) as f32;
            let n = Complex32::new(rng.gen_range(-0.5..0.5), rng.gen_range(-0.5..0.5));
            flat[i] = Complex32::new(1.0, 0.0) + n;
            // Two-path channel with a 15-sample echo: period 1024/15 ≈ 68 carriers.
            let ph = -2.0 * std::f32::consts::PI * k * 15.0 / 1024.0;
            sel[i] = Complex32::new(1.0 + 0.7 * ph.cos(), 0.7 * ph.sin()) + n * 0.1;
        }
        let (t_flat, v_flat) = s.smooth_adaptive(&ADAPTIVE_TAPS, &flat, &mut out);
        let (t_sel, _) = s.smooth_adaptive(&ADAPTIVE_TAPS, &sel, &mut out);
        assert!(t_flat >= 63, "flat chose {t_flat}");
        assert!(t_sel <= 23, "selective chose {t_sel}");
        assert!(v_flat < 0.03);
    }
}
