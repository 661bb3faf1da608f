//! Real-tap dot products over split complex arrays, the resampler's inner loop.
//!
//! One generic body (`#[inline(always)]`, 16-lane accumulator arrays that LLVM vectorises) is
//! compiled twice: for the baseline target (scalar / SSE2) and, on x86-64, inside an
//! `avx2,fma` `#[target_feature]` function that is only handed out after run-time detection.
#![allow(unsafe_code)]

use crate::Complex32;

/// Accumulator lanes.
pub const LANES: usize = 16;
/// Tap counts handed to the kernels must be multiples of this (no tail loop: a scalar tail
/// makes LLVM keep accumulators on the stack).
pub const TAP_MULTIPLE: usize = 2 * LANES;

/// Which dot-product implementation to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Pick the fastest the CPU supports.
    Auto,
    /// Portable code for the baseline target (autovectorised).
    Scalar,
    /// AVX2 + FMA build of the same code (x86-64 only; falls back to `Scalar` when the CPU
    /// lacks it).
    Avx2,
}

impl Backend {
    /// Resolve `Auto` (and an unsupported `Avx2`) to what will actually run.
    pub fn resolve(self) -> Backend {
        match self {
            Backend::Scalar => Backend::Scalar,
            Backend::Auto | Backend::Avx2 => {
                if avx2_available() {
                    Backend::Avx2
                } else {
                    Backend::Scalar
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2_available() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}
#[cfg(not(target_arch = "x86_64"))]
fn avx2_available() -> bool {
    false
}

/// `(Σ x_re[i]·h[i], Σ x_im[i]·h[i])`.
pub type Dot2 = fn(&[f32], &[f32], &[f32]) -> (f32, f32);
/// `(Σ x_re[i]·t[i], Σ x_im[i]·t[i])` with `t = h0 + a·(h1 − h0)`, evaluated as
/// `d0 + a·(d1 − d0)` from the two plain dot products.
pub type Dot2x2 = fn(&[f32], &[f32], &[f32], &[f32], f32) -> (f32, f32);

/// The [`Dot2`] for `backend` (after checking CPU support).
pub fn dot2_fn(backend: Backend) -> Dot2 {
    #[cfg(target_arch = "x86_64")]
    if backend != Backend::Scalar && avx2_available() {
        return avx2::dot2;
    }
    let _ = backend;
    dot2_scalar
}

/// The [`Dot2x2`] for `backend` (after checking CPU support).
pub fn dot2x2_fn(backend: Backend) -> Dot2x2 {
    #[cfg(target_arch = "x86_64")]
    if backend != Backend::Scalar && avx2_available() {
        return avx2::dot2x2;
    }
    let _ = backend;
    dot2x2_scalar
}

fn dot2_scalar(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
    dot2_body::<false>(x_re, x_im, h)
}

fn dot2x2_scalar(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
    dot2x2_body::<false>(x_re, x_im, h0, h1, a)
}

#[inline(always)]
fn mac<const FMA: bool>(acc: f32, x: f32, h: f32) -> f32 {
    if FMA {
        x.mul_add(h, acc)
    } else {
        acc + x * h
    }
}

/// Sum of all lanes of `a + b`, as a tree that stays in vector registers.
#[inline(always)]
fn hsum(a: &[f32; LANES], b: &[f32; LANES]) -> f32 {
    let mut s8 = [0.0f32; 8];
    for l in 0..8 {
        s8[l] = (a[l] + b[l]) + (a[l + 8] + b[l + 8]);
    }
    let mut s4 = [0.0f32; 4];
    for l in 0..4 {
        s4[l] = s8[l] + s8[l + 4];
    }
    (s4[0] + s4[2]) + (s4[1] + s4[3])
}

#[inline(always)]
fn lanes(x: &[f32]) -> &[f32; LANES] {
    x.try_into().expect("LANES-long chunk")
}

/// Two accumulator sets (`LANES` each) per output component, 32 taps per iteration.
/// `h.len()` must be a multiple of [`TAP_MULTIPLE`]; `x_*` at least as long.
#[inline(always)]
fn dot2_body<const FMA: bool>(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
    let n = h.len();
    assert!(n % TAP_MULTIPLE == 0 && x_re.len() >= n && x_im.len() >= n);
    let (x_re, x_im) = (&x_re[..n], &x_im[..n]);
    let mut ar0 = [0.0f32; LANES];
    let mut ar1 = [0.0f32; LANES];
    let mut ai0 = [0.0f32; LANES];
    let mut ai1 = [0.0f32; LANES];
    for ((xr, xi), hh) in x_re
        .chunks_exact(2 * LANES)
        .zip(x_im.chunks_exact(2 * LANES))
        .zip(h.chunks_exact(2 * LANES))
    {
        let (xr0, xr1) = (lanes(&xr[..LANES]), lanes(&xr[LANES..]));
        let (xi0, xi1) = (lanes(&xi[..LANES]), lanes(&xi[LANES..]));
        let (h0, h1) = (lanes(&hh[..LANES]), lanes(&hh[LANES..]));
        for l in 0..LANES {
            ar0[l] = mac::<FMA>(ar0[l], xr0[l], h0[l]);
            ai0[l] = mac::<FMA>(ai0[l], xi0[l], h0[l]);
            ar1[l] = mac::<FMA>(ar1[l], xr1[l], h1[l]);
            ai1[l] = mac::<FMA>(ai1[l], xi1[l], h1[l]);
        }
    }
    (hsum(&ar0, &ar1), hsum(&ai0, &ai1))
}

/// Like [`dot2_body`] with taps interpolated on the fly: `t = h0 + a·(h1 − h0)`.
#[inline(always)]
fn dot2x2_body<const FMA: bool>(
    x_re: &[f32],
    x_im: &[f32],
    h0: &[f32],
    h1: &[f32],
    a: f32,
) -> (f32, f32) {
    let n = h0.len();
    assert!(n % TAP_MULTIPLE == 0 && h1.len() == n && x_re.len() >= n && x_im.len() >= n);
    let (x_re, x_im) = (&x_re[..n], &x_im[..n]);
    let mut ar = [0.0f32; LANES];
    let mut ai = [0.0f32; LANES];
    let mut br = [0.0f32; LANES];
    let mut bi = [0.0f32; LANES];
    for (((xr, xi), g0), g1) in x_re
        .chunks_exact(LANES)
        .zip(x_im.chunks_exact(LANES))
        .zip(h0.chunks_exact(LANES))
        .zip(h1.chunks_exact(LANES))
    {
        let (xr, xi, g0, g1) = (lanes(xr), lanes(xi), lanes(g0), lanes(g1));
        for l in 0..LANES {
            ar[l] = mac::<FMA>(ar[l], xr[l], g0[l]);
            ai[l] = mac::<FMA>(ai[l], xi[l], g0[l]);
            br[l] = mac::<FMA>(br[l], xr[l], g1[l]);
            bi[l] = mac::<FMA>(bi[l], xi[l], g1[l]);
        }
    }
    let z = [0.0f32; LANES];
    let (r0, i0) = (hsum(&ar, &z), hsum(&ai, &z));
    let (r1, i1) = (hsum(&br, &z), hsum(&bi, &z));
    (r0 + a * (r1 - r0), i0 + a * (i1 - i0))
}

/// Exact-mode polyphase loop: while `*start < end`, emit
/// `dot(x[*start..*start+N], taps[*phase])`, then advance `phase += q_rem`, `start += q_int`
/// (+1 and `phase −= p` on wrap). Returns the number of outputs written.
#[derive(Clone, Copy, Debug)]
pub struct ExactLoop<'a> {
    /// Real parts of the (mixed) input buffer.
    pub re: &'a [f32],
    /// Imaginary parts.
    pub im: &'a [f32],
    /// `p` rows of `ntaps` reversed taps.
    pub taps: &'a [f32],
    /// Taps per phase (multiple of [`TAP_MULTIPLE`]).
    pub ntaps: usize,
    /// Stop when the window start reaches this index.
    pub end: usize,
    /// Phases.
    pub p: usize,
    /// `⌊q/p⌋`.
    pub q_int: usize,
    /// `q mod p`.
    pub q_rem: usize,
}

/// Interpolated-mode loop: phase row `r = ⌊μ·L⌋`, weight `a = μ·L − r`, output
/// `d_r + a·(d_{r+1} − d_r)`; then `μ += step_frac`, `start += step_int` (+1 on wrap).
#[derive(Clone, Copy, Debug)]
pub struct InterpLoop<'a> {
    /// Real parts of the (mixed) input buffer.
    pub re: &'a [f32],
    /// Imaginary parts.
    pub im: &'a [f32],
    /// `L + 1` rows of `ntaps` reversed taps.
    pub taps: &'a [f32],
    /// Taps per phase (multiple of [`TAP_MULTIPLE`]).
    pub ntaps: usize,
    /// Stop when the window start reaches this index.
    pub end: usize,
    /// `L`.
    pub phases: usize,
    /// `⌊R⌋`.
    pub step_int: usize,
    /// `R − ⌊R⌋`.
    pub step_frac: f64,
}

/// Run an [`ExactLoop`] on `backend`, updating `start`/`phase`.
pub fn run_exact(
    backend: Backend,
    lp: &ExactLoop<'_>,
    start: &mut usize,
    phase: &mut usize,
    out: &mut [Complex32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if backend != Backend::Scalar && avx2_available() {
        return avx2::run_exact(lp, start, phase, out);
    }
    let _ = backend;
    exact_body::<false>(lp, start, phase, out)
}

/// Run an [`InterpLoop`] on `backend`, updating `start`/`mu`.
pub fn run_interp(
    backend: Backend,
    lp: &InterpLoop<'_>,
    start: &mut usize,
    mu: &mut f64,
    out: &mut [Complex32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if backend != Backend::Scalar && avx2_available() {
        return avx2::run_interp(lp, start, mu, out);
    }
    let _ = backend;
    interp_body::<false>(lp, start, mu, out)
}

#[inline(always)]
fn exact_body<const FMA: bool>(
    lp: &ExactLoop<'_>,
    start: &mut usize,
    phase: &mut usize,
    out: &mut [Complex32],
) -> usize {
    let n = lp.ntaps;
    let (mut s, mut ph, mut k) = (*start, *phase, 0);
    while s < lp.end {
        let (re, im) = dot2_body::<FMA>(
            &lp.re[s..s + n],
            &lp.im[s..s + n],
            &lp.taps[ph * n..ph * n + n],
        );
        out[k] = Complex32::new(re, im);
        k += 1;
        ph += lp.q_rem;
        s += lp.q_int;
        if ph >= lp.p {
            ph -= lp.p;
            s += 1;
        }
    }
    (*start, *phase) = (s, ph);
    k
}

#[inline(always)]
fn interp_body<const FMA: bool>(
    lp: &InterpLoop<'_>,
    start: &mut usize,
    mu: &mut f64,
    out: &mut [Complex32],
) -> usize {
    let n = lp.ntaps;
    let l = lp.phases as f64;
    let (mut s, mut m, mut k) = (*start, *mu, 0);
    while s < lp.end {
        let f = m * l;
        let r = (f as usize).min(lp.phases - 1);
        let a = (f - r as f64) as f32;
        let (re, im) = dot2x2_body::<FMA>(
            &lp.re[s..s + n],
            &lp.im[s..s + n],
            &lp.taps[r * n..r * n + n],
            &lp.taps[(r + 1) * n..(r + 2) * n],
            a,
        );
        out[k] = Complex32::new(re, im);
        k += 1;
        m += lp.step_frac;
        s += lp.step_int;
        if m >= 1.0 {
            m -= 1.0;
            s += 1;
        }
    }
    (*start, *mu) = (s, m);
    k
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2,fma")]
    fn dot2_impl(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
        super::dot2_body::<true>(x_re, x_im, h)
    }

    #[target_feature(enable = "avx2,fma")]
    fn dot2x2_impl(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
        super::dot2x2_body::<true>(x_re, x_im, h0, h1, a)
    }

    #[target_feature(enable = "avx2,fma")]
    fn run_exact_impl(
        lp: &super::ExactLoop<'_>,
        start: &mut usize,
        phase: &mut usize,
        out: &mut [super::Complex32],
    ) -> usize {
        super::exact_body::<true>(lp, start, phase, out)
    }

    #[target_feature(enable = "avx2,fma")]
    fn run_interp_impl(
        lp: &super::InterpLoop<'_>,
        start: &mut usize,
        mu: &mut f64,
        out: &mut [super::Complex32],
    ) -> usize {
        super::interp_body::<true>(lp, start, mu, out)
    }

    /// Only called by `super::run_exact` after `avx2_available()` returned true.
    pub(super) fn run_exact(
        lp: &super::ExactLoop<'_>,
        start: &mut usize,
        phase: &mut usize,
        out: &mut [super::Complex32],
    ) -> usize {
        // SAFETY: only reachable after run-time AVX2 + FMA detection; safe slice code inside.
        unsafe { run_exact_impl(lp, start, phase, out) }
    }

    /// Only called by `super::run_interp` after `avx2_available()` returned true.
    pub(super) fn run_interp(
        lp: &super::InterpLoop<'_>,
        start: &mut usize,
        mu: &mut f64,
        out: &mut [super::Complex32],
    ) -> usize {
        // SAFETY: only reachable after run-time AVX2 + FMA detection; safe slice code inside.
        unsafe { run_interp_impl(lp, start, mu, out) }
    }

    /// Only handed out by `dot2_fn` after `avx2_available()` returned true.
    pub(super) fn dot2(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
        // SAFETY: `dot2_fn` returns this function only after `is_x86_feature_detected!`
        // confirmed AVX2 and FMA on this CPU; the body is safe slice code.
        unsafe { dot2_impl(x_re, x_im, h) }
    }

    /// Only handed out by `dot2x2_fn` after `avx2_available()` returned true.
    pub(super) fn dot2x2(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
        // SAFETY: as for `dot2`: only reachable after run-time AVX2 + FMA detection.
        unsafe { dot2x2_impl(x_re, x_im, h0, h1, a) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5EED_0003;

    #[test]
    fn backends_match_naive() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        for n in [32usize, 64, 96, 192, 224] {
            let xr: Vec<f32> = (0..n + 5).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let xi: Vec<f32> = (0..n + 5).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let h0: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let h1: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let a = 0.3f32;
            let wr: f64 = (0..n).map(|i| xr[i] as f64 * h0[i] as f64).sum();
            let wi: f64 = (0..n).map(|i| xi[i] as f64 * h0[i] as f64).sum();
            let t = |i: usize| h0[i] as f64 + a as f64 * (h1[i] as f64 - h0[i] as f64);
            let vr: f64 = (0..n).map(|i| xr[i] as f64 * t(i)).sum();
            let vi: f64 = (0..n).map(|i| xi[i] as f64 * t(i)).sum();
            for b in [Backend::Scalar, Backend::Avx2] {
                // tolerance: f32 accumulation of n terms of magnitude <= 1
                let tol = 1e-5 * (n as f64).sqrt();
                let (r, i) = dot2_fn(b)(&xr, &xi, &h0);
                assert!((r as f64 - wr).abs() < tol && (i as f64 - wi).abs() < tol);
                let (r, i) = dot2x2_fn(b)(&xr, &xi, &h0, &h1, a);
                assert!((r as f64 - vr).abs() < tol && (i as f64 - vi).abs() < tol);
            }
        }
    }
}
