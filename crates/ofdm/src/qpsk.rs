//! QPSK mapping (spec §3.1, LTE TS 36.211 §7.1.2): bit b₀ sets the sign of I, b₁ of Q, 1 = negative.

use droneid_core::Complex32;

/// 1/√2: each QPSK point has unit modulus.
pub const QPSK_AMPLITUDE: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Maps bit pairs `(bits[2i], bits[2i+1])` (values 0/1) to `out[i]`.
///
/// Panics if `bits.len() != 2 * out.len()`.
pub fn qpsk_map(bits: &[u8], out: &mut [Complex32]) {
    assert_eq!(
        bits.len(),
        2 * out.len(),
        "qpsk_map: need two bits per symbol"
    );
    for (pair, sym) in bits.chunks_exact(2).zip(out.iter_mut()) {
        let re = if pair[0] & 1 == 0 {
            QPSK_AMPLITUDE
        } else {
            -QPSK_AMPLITUDE
        };
        let im = if pair[1] & 1 == 0 {
            QPSK_AMPLITUDE
        } else {
            -QPSK_AMPLITUDE
        };
        *sym = Complex32::new(re, im);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lte_table() {
        let mut out = [Complex32::new(0.0, 0.0); 4];
        qpsk_map(&[0, 0, 0, 1, 1, 0, 1, 1], &mut out);
        let a = QPSK_AMPLITUDE;
        assert_eq!(out[0], Complex32::new(a, a));
        assert_eq!(out[1], Complex32::new(a, -a));
        assert_eq!(out[2], Complex32::new(-a, a));
        assert_eq!(out[3], Complex32::new(-a, -a));
    }
}
