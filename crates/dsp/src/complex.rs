//! DC removal on `Complex32` slices (sums in `f64`), shared by the burst receiver (at the input
//! rate) and the demodulator (at the base rate).

use crate::Complex32;

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
