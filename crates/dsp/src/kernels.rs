//! Real-tap dot products over split complex arrays: the resampler's inner loops.
//!
//! Two implementations of the same loops, chosen at run time ([`Backend`]):
//! * `Scalar`: portable code with 2×16-lane accumulator arrays that LLVM autovectorises for
//!   the baseline target (SSE2 on x86-64); the reference for the fast path.
//! * `Avx2`: AVX2 + FMA intrinsics (8 accumulators, one `hadd` reduction per output), compiled
//!   inside `#[target_feature(enable = "avx2,fma")]` functions that are only called after
//!   `is_x86_feature_detected!` confirmed both features. This module is the crate's only
//!   `unsafe` code; every block carries a `// SAFETY:` note.
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

// Single dot products, one call each: the tests' entry points to the kernels that the loops
// below inline (the product only runs whole loops, through `run_exact` / `run_interp`).

/// `(Σ x_re[i]·h[i], Σ x_im[i]·h[i])`.
#[cfg(test)]
type Dot2 = fn(&[f32], &[f32], &[f32]) -> (f32, f32);
/// `(Σ x_re[i]·t[i], Σ x_im[i]·t[i])` with `t = h0 + a·(h1 − h0)`, evaluated as
/// `d0 + a·(d1 − d0)` from the two plain dot products.
#[cfg(test)]
type Dot2x2 = fn(&[f32], &[f32], &[f32], &[f32], f32) -> (f32, f32);

/// The [`Dot2`] for `backend` (after checking CPU support).
#[cfg(test)]
fn dot2_fn(backend: Backend) -> Dot2 {
    #[cfg(target_arch = "x86_64")]
    if backend != Backend::Scalar && avx2_available() {
        return avx2::dot2;
    }
    let _ = backend;
    dot2_scalar
}

/// The [`Dot2x2`] for `backend` (after checking CPU support).
#[cfg(test)]
fn dot2x2_fn(backend: Backend) -> Dot2x2 {
    #[cfg(target_arch = "x86_64")]
    if backend != Backend::Scalar && avx2_available() {
        return avx2::dot2x2;
    }
    let _ = backend;
    dot2x2_scalar
}

#[cfg(test)]
fn dot2_scalar(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
    dot2_body::<false>(x_re, x_im, h)
}

#[cfg(test)]
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
    assert!(n.is_multiple_of(TAP_MULTIPLE) && x_re.len() >= n && x_im.len() >= n);
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
    assert!(n.is_multiple_of(TAP_MULTIPLE) && h1.len() == n && x_re.len() >= n && x_im.len() >= n);
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
    exact_body::<Portable<false>>(lp, start, phase, out)
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
    interp_body::<Portable<false>>(lp, start, mu, out)
}

/// A dot-product implementation used by the loop bodies.
trait DotImpl {
    fn dot2(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32);
    fn dot2x2(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32);
}

/// The portable bodies (`FMA` selects `mul_add`, only used inside `fma` functions).
struct Portable<const FMA: bool>;

impl<const FMA: bool> DotImpl for Portable<FMA> {
    #[inline(always)]
    fn dot2(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
        dot2_body::<FMA>(x_re, x_im, h)
    }
    #[inline(always)]
    fn dot2x2(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
        dot2x2_body::<FMA>(x_re, x_im, h0, h1, a)
    }
}

#[inline(always)]
fn exact_body<D: DotImpl>(
    lp: &ExactLoop<'_>,
    start: &mut usize,
    phase: &mut usize,
    out: &mut [Complex32],
) -> usize {
    let n = lp.ntaps;
    let (mut s, mut ph, mut k) = (*start, *phase, 0);
    while s < lp.end {
        let (re, im) = D::dot2(
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
fn interp_body<D: DotImpl>(
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
        let (re, im) = D::dot2x2(
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
    use std::arch::x86_64::*;

    /// Hand-written AVX2/FMA dot products. Their `#[inline(always)]` bodies are only ever
    /// instantiated inside the `#[target_feature(enable = "avx2,fma")]` functions below, which
    /// are only called after run-time detection.
    pub(super) struct Intrinsics;

    /// `[Σ a, Σ b]` of two 8-lane vectors.
    #[inline(always)]
    fn hsum2(a: __m256, b: __m256) -> (f32, f32) {
        // SAFETY: AVX is enabled in every caller (see `Intrinsics`); no memory access.
        unsafe {
            let t = _mm256_hadd_ps(a, b); // a01 a23 b01 b23 | a45 a67 b45 b67
            let t = _mm256_hadd_ps(t, t); // a0123 b0123 .. | a4567 b4567 ..
            let s = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
            (_mm_cvtss_f32(s), _mm_cvtss_f32(_mm_shuffle_ps(s, s, 1)))
        }
    }

    impl super::DotImpl for Intrinsics {
        #[inline(always)]
        fn dot2(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
            let n = h.len();
            assert!(n.is_multiple_of(super::TAP_MULTIPLE) && x_re.len() >= n && x_im.len() >= n);
            let (pr, pi, ph) = (x_re.as_ptr(), x_im.as_ptr(), h.as_ptr());
            // SAFETY: AVX2+FMA are enabled in every caller (see `Intrinsics`); every load reads
            // 8 floats at offset o + 8j ≤ n − 8, within all three slices (asserted above).
            unsafe {
                let (mut r0, mut r1, mut r2, mut r3) = (
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                );
                let (mut i0, mut i1, mut i2, mut i3) = (
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                );
                let mut o = 0;
                while o < n {
                    let h0 = _mm256_loadu_ps(ph.add(o));
                    let h1 = _mm256_loadu_ps(ph.add(o + 8));
                    let h2 = _mm256_loadu_ps(ph.add(o + 16));
                    let h3 = _mm256_loadu_ps(ph.add(o + 24));
                    r0 = _mm256_fmadd_ps(_mm256_loadu_ps(pr.add(o)), h0, r0);
                    i0 = _mm256_fmadd_ps(_mm256_loadu_ps(pi.add(o)), h0, i0);
                    r1 = _mm256_fmadd_ps(_mm256_loadu_ps(pr.add(o + 8)), h1, r1);
                    i1 = _mm256_fmadd_ps(_mm256_loadu_ps(pi.add(o + 8)), h1, i1);
                    r2 = _mm256_fmadd_ps(_mm256_loadu_ps(pr.add(o + 16)), h2, r2);
                    i2 = _mm256_fmadd_ps(_mm256_loadu_ps(pi.add(o + 16)), h2, i2);
                    r3 = _mm256_fmadd_ps(_mm256_loadu_ps(pr.add(o + 24)), h3, r3);
                    i3 = _mm256_fmadd_ps(_mm256_loadu_ps(pi.add(o + 24)), h3, i3);
                    o += 32;
                }
                let r = _mm256_add_ps(_mm256_add_ps(r0, r1), _mm256_add_ps(r2, r3));
                let i = _mm256_add_ps(_mm256_add_ps(i0, i1), _mm256_add_ps(i2, i3));
                hsum2(r, i)
            }
        }

        #[inline(always)]
        fn dot2x2(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
            let n = h0.len();
            assert!(
                n.is_multiple_of(super::TAP_MULTIPLE)
                    && h1.len() == n
                    && x_re.len() >= n
                    && x_im.len() >= n
            );
            let (pr, pi, p0, p1) = (x_re.as_ptr(), x_im.as_ptr(), h0.as_ptr(), h1.as_ptr());
            // SAFETY: as in `dot2`: AVX2+FMA enabled by every caller; loads at o + 8j ≤ n − 8.
            let (r0, i0, r1, i1) = unsafe {
                let (mut ra, mut ia, mut rb, mut ib) = (
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                );
                let (mut rc, mut ic, mut rd, mut id) = (
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                    _mm256_setzero_ps(),
                );
                let mut o = 0;
                while o < n {
                    let (xr0, xi0) = (_mm256_loadu_ps(pr.add(o)), _mm256_loadu_ps(pi.add(o)));
                    let (xr1, xi1) = (
                        _mm256_loadu_ps(pr.add(o + 8)),
                        _mm256_loadu_ps(pi.add(o + 8)),
                    );
                    let (g0, g1) = (_mm256_loadu_ps(p0.add(o)), _mm256_loadu_ps(p1.add(o)));
                    let (g2, g3) = (
                        _mm256_loadu_ps(p0.add(o + 8)),
                        _mm256_loadu_ps(p1.add(o + 8)),
                    );
                    ra = _mm256_fmadd_ps(xr0, g0, ra);
                    ia = _mm256_fmadd_ps(xi0, g0, ia);
                    rb = _mm256_fmadd_ps(xr0, g1, rb);
                    ib = _mm256_fmadd_ps(xi0, g1, ib);
                    rc = _mm256_fmadd_ps(xr1, g2, rc);
                    ic = _mm256_fmadd_ps(xi1, g2, ic);
                    rd = _mm256_fmadd_ps(xr1, g3, rd);
                    id = _mm256_fmadd_ps(xi1, g3, id);
                    o += 16;
                }
                let (r0, i0) = hsum2(_mm256_add_ps(ra, rc), _mm256_add_ps(ia, ic));
                let (r1, i1) = hsum2(_mm256_add_ps(rb, rd), _mm256_add_ps(ib, id));
                (r0, i0, r1, i1)
            };
            (r0 + a * (r1 - r0), i0 + a * (i1 - i0))
        }
    }

    #[cfg(test)]
    #[target_feature(enable = "avx2,fma")]
    fn dot2_intr(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
        <Intrinsics as super::DotImpl>::dot2(x_re, x_im, h)
    }

    #[cfg(test)]
    #[target_feature(enable = "avx2,fma")]
    fn dot2x2_intr(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
        <Intrinsics as super::DotImpl>::dot2x2(x_re, x_im, h0, h1, a)
    }

    #[target_feature(enable = "avx2,fma")]
    fn run_exact_impl(
        lp: &super::ExactLoop<'_>,
        start: &mut usize,
        phase: &mut usize,
        out: &mut [super::Complex32],
    ) -> usize {
        super::exact_body::<Intrinsics>(lp, start, phase, out)
    }

    #[target_feature(enable = "avx2,fma")]
    fn run_interp_impl(
        lp: &super::InterpLoop<'_>,
        start: &mut usize,
        mu: &mut f64,
        out: &mut [super::Complex32],
    ) -> usize {
        super::interp_body::<Intrinsics>(lp, start, mu, out)
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
    #[cfg(test)]
    pub(super) fn dot2(x_re: &[f32], x_im: &[f32], h: &[f32]) -> (f32, f32) {
        // SAFETY: `dot2_fn` returns this function only after `is_x86_feature_detected!`
        // confirmed AVX2 and FMA on this CPU; the body is safe slice code.
        unsafe { dot2_intr(x_re, x_im, h) }
    }

    /// Only handed out by `dot2x2_fn` after `avx2_available()` returned true.
    #[cfg(test)]
    pub(super) fn dot2x2(x_re: &[f32], x_im: &[f32], h0: &[f32], h1: &[f32], a: f32) -> (f32, f32) {
        // SAFETY: as for `dot2`: only reachable after run-time AVX2 + FMA detection.
        unsafe { dot2x2_intr(x_re, x_im, h0, h1, a) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SEED: u64 = 0x5EED_0003;

    /// On a CPU with AVX2 + FMA, asking for AVX2 (or Auto) must hand out the intrinsics, so
    /// that `backends_match_naive` does not compare the scalar code with itself.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_used_when_the_cpu_has_it() {
        // Asked of the CPU here, not through `avx2_available`, which is under test.
        if !(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")) {
            eprintln!("no AVX2 + FMA on this CPU: only the scalar kernels are tested");
            return;
        }
        for b in [Backend::Auto, Backend::Avx2] {
            assert_eq!(b.resolve(), Backend::Avx2);
            assert!(std::ptr::fn_addr_eq(dot2_fn(b), avx2::dot2 as Dot2));
            assert!(std::ptr::fn_addr_eq(dot2x2_fn(b), avx2::dot2x2 as Dot2x2));
        }
        assert!(std::ptr::fn_addr_eq(
            dot2_fn(Backend::Scalar),
            dot2_scalar as Dot2
        ));
    }

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
