//! Zadoff–Chu pilot sequences (spec §2.4): x_u(n) = exp(−jπ·u·n(n+1)/601), n = 0..=600.

use droneid_core::{Complex32, NUM_CARRIERS, ZC_LEN};

/// The full 601-element Zadoff–Chu sequence of root `root` (computed in f64, exact modular phase).
pub fn zc_sequence(root: u32) -> Vec<Complex32> {
    (0..ZC_LEN as u64)
        .map(|n| {
            // Reduce u·n(n+1) modulo 2·601 before the float step so the phase stays exact.
            let m = (root as u64 * n * (n + 1)) % (2 * ZC_LEN as u64);
            let phase = -std::f64::consts::PI * m as f64 / ZC_LEN as f64;
            Complex32::new(phase.cos() as f32, phase.sin() as f32)
        })
        .collect()
}

/// The 600 carriers of a ZC pilot symbol in carrier-slot order: element 300 (DC) is dropped.
pub fn zc_carriers(root: u32) -> [Complex32; NUM_CARRIERS] {
    let seq = zc_sequence(root);
    let mut out = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
    out[..300].copy_from_slice(&seq[..300]);
    out[300..].copy_from_slice(&seq[301..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Complex32, re: f32, im: f32) -> bool {
        (a.re - re).abs() < 1e-6 && (a.im - im).abs() < 1e-6
    }

    /// Spec §9.4 values (written with the spec's digits, beyond f32 precision).
    #[test]
    #[allow(clippy::excessive_precision)]
    fn zc_values_match_spec() {
        let a = zc_sequence(600);
        let b = zc_sequence(147);
        assert!(close(a[0], 1.0, 0.0));
        assert!(close(a[1], 0.99994535, 0.01045436));
        assert!(close(a[2], 0.99950820, 0.03135851));
        assert!(close(a[300], 0.70803024, 0.70618212));
        assert!(close(a[600], 1.0, 0.0));
        assert!(close(b[1], 0.03397075, -0.99942283));
        assert!(close(b[2], -0.10175545, 0.99480944));
        assert!(close(b[300], -0.55909660, -0.82910252));
        let c = zc_carriers(600);
        assert!(close(c[299], a[299].re, a[299].im));
        assert!(close(c[300], a[301].re, a[301].im));
    }
}
