//! Small `Complex32` slice helpers. Accumulation is in `f64` so results are independent of
//! slice length to `f32` precision.

use crate::Complex32;

/// Sum of `|x[i]|²` (energy). Accumulates in `f64`.
pub fn energy(x: &[Complex32]) -> f32 {
    let mut acc = [0.0f64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            acc[l] += (c[l].re as f64) * (c[l].re as f64) + (c[l].im as f64) * (c[l].im as f64);
        }
    }
    let mut s = acc[0] + acc[1] + acc[2] + acc[3];
    for v in chunks.remainder() {
        s += (v.re as f64) * (v.re as f64) + (v.im as f64) * (v.im as f64);
    }
    s as f32
}

/// Mean power `Σ|x[i]|² / len`; `0.0` for an empty slice.
pub fn power(x: &[Complex32]) -> f32 {
    if x.is_empty() {
        0.0
    } else {
        (energy(x) as f64 / x.len() as f64) as f32
    }
}

/// `Σ conj(a[i]) · b[i]` over `min(a.len(), b.len())` elements (BLAS `cdotc` convention:
/// the *first* argument is conjugated). Accumulates in `f64`.
pub fn dot_conj(a: &[Complex32], b: &[Complex32]) -> Complex32 {
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (xr, xi, yr, yi) = (x.re as f64, x.im as f64, y.re as f64, y.im as f64);
        re += xr * yr + xi * yi;
        im += xr * yi - xi * yr;
    }
    Complex32::new(re as f32, im as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_match_naive() {
        let a: Vec<Complex32> = (0..13)
            .map(|i| Complex32::new(i as f32 * 0.5 - 2.0, 1.0 - i as f32 * 0.25))
            .collect();
        let b: Vec<Complex32> = (0..13)
            .map(|i| Complex32::new((i as f32).sin(), (i as f32).cos()))
            .collect();
        let e: f32 = a.iter().map(|v| v.norm_sqr()).sum();
        assert!((energy(&a) - e).abs() < 1e-4 * e);
        assert!((power(&a) - e / 13.0).abs() < 1e-4 * e);
        assert_eq!(power(&[]), 0.0);
        let d: Complex32 = a.iter().zip(&b).map(|(x, y)| x.conj() * y).sum();
        assert!((dot_conj(&a, &b) - d).norm() < 1e-4);
    }
}

/// Subtracts the mean of `x` when it clearly stands above the chance mean of a zero-mean
/// signal, `|mean|²·L > significance · mean power` (a zero-mean signal scores ≈ 1): a
/// receiver's DC offset (LO leakage). Subtracting the chance mean of a clean signal would
/// itself add a small tone, so below the threshold nothing changes. Non-finite samples are
/// left out of the sums. Returns whether the mean was removed.
pub fn remove_significant_dc(x: &mut [Complex32], significance: f64) -> bool {
    if x.is_empty() {
        return false;
    }
    let (mut re, mut im, mut pow) = (0.0f64, 0.0f64, 0.0f64);
    for v in x.iter() {
        if v.re.is_finite() && v.im.is_finite() {
            re += v.re as f64;
            im += v.im as f64;
            pow += (v.re as f64) * (v.re as f64) + (v.im as f64) * (v.im as f64);
        }
    }
    let l = x.len() as f64;
    let (mr, mi) = (re / l, im / l);
    if (mr * mr + mi * mi) * l > significance * (pow / l) {
        let m = Complex32::new(mr as f32, mi as f32);
        for v in x.iter_mut() {
            *v -= m;
        }
        true
    } else {
        false
    }
}
