//! Kaiser-windowed-sinc FIR design.
//!
//! Frequencies are normalised to the rate the filter runs at, in cycles per sample
//! (`0.5` = Nyquist).

/// Kaiser `β` for a stopband attenuation of `attenuation_db` (Kaiser's empirical formula).
pub fn kaiser_beta_for_attenuation(attenuation_db: f32) -> f32 {
    let a = attenuation_db as f64;
    let b = if a > 50.0 {
        0.1102 * (a - 8.7)
    } else if a >= 21.0 {
        0.5842 * (a - 21.0).powf(0.4) + 0.07886 * (a - 21.0)
    } else {
        0.0
    };
    b as f32
}

/// Number of taps for a Kaiser-window low-pass with a transition band `transition_norm`
/// wide (cycles/sample, `f_stop − f_pass`) and `attenuation_db` of stopband attenuation:
/// `N = ⌈(A − 7.95) / (14.36 · Δf)⌉ + 1` (Kaiser), at least 1.
///
/// # Panics
/// If `transition_norm` is not finite and positive.
pub fn kaiser_num_taps(transition_norm: f64, attenuation_db: f32) -> usize {
    assert!(
        transition_norm.is_finite() && transition_norm > 0.0,
        "transition width must be > 0"
    );
    let a = attenuation_db as f64;
    let n = if a > 21.0 {
        (a - 7.95) / (14.357 * transition_norm)
    } else {
        0.9222 / transition_norm
    };
    (n.ceil() as usize + 1).max(1)
}

/// Modified Bessel function of the first kind, order 0 (power series; exact to `f64`
/// rounding for the `β ≤ 20` used by Kaiser windows).
pub fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    loop {
        term *= q / (k * k);
        sum += term;
        if term < sum * 1e-17 {
            return sum;
        }
        k += 1.0;
    }
}

/// Unnormalised continuous Kaiser-windowed sinc: `2fc·sinc(2fc·t) · w(t/half_width)` with
/// `w(u) = I0(β√(1−u²))/I0(β)` for `|u| ≤ 1`, else 0. `t` and `half_width` in samples,
/// `cutoff` in cycles/sample. Sampling it at `t = l − (M−1)/2` with `half_width = (M−1)/2`
/// gives the taps of [`design_lowpass`] before DC normalisation.
pub fn windowed_sinc(t: f64, cutoff: f64, half_width: f64, beta: f64) -> f64 {
    let u = if half_width > 0.0 {
        t / half_width
    } else {
        0.0
    };
    if u.abs() > 1.0 + 1e-12 {
        return 0.0;
    }
    let w = bessel_i0(beta * (1.0 - (u * u).min(1.0)).sqrt()) / bessel_i0(beta);
    let x = 2.0 * cutoff * t;
    let sinc = if x.abs() < 1e-12 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    };
    2.0 * cutoff * sinc * w
}

/// Linear-phase low-pass: Kaiser-windowed sinc with `num_taps` taps, −6 dB cutoff at
/// `cutoff_norm` cycles per sample of the rate the filter runs at (`0 < cutoff_norm ≤ 0.5`),
/// normalised to unit DC gain (`Σ h = 1`). Symmetric about `(num_taps − 1)/2`, which is its
/// group delay in samples.
///
/// # Panics
/// If `num_taps == 0` or `cutoff_norm` is not in `(0, 0.5]`.
pub fn design_lowpass(num_taps: usize, cutoff_norm: f64, kaiser_beta: f32) -> Vec<f32> {
    design_lowpass_f64(num_taps, cutoff_norm, kaiser_beta as f64)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

/// `f64` version of [`design_lowpass`].
pub fn design_lowpass_f64(num_taps: usize, cutoff_norm: f64, kaiser_beta: f64) -> Vec<f64> {
    assert!(num_taps > 0, "num_taps must be > 0");
    assert!(
        cutoff_norm > 0.0 && cutoff_norm <= 0.5,
        "cutoff must be in (0, 0.5]"
    );
    let half = (num_taps as f64 - 1.0) / 2.0;
    let mut h: Vec<f64> = (0..num_taps)
        .map(|l| windowed_sinc(l as f64 - half, cutoff_norm, half, kaiser_beta))
        .collect();
    let s: f64 = h.iter().sum();
    h.iter_mut().for_each(|v| *v /= s);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_db(h: &[f32], f: f64) -> f64 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, &v) in h.iter().enumerate() {
            let p = -std::f64::consts::TAU * f * n as f64;
            re += v as f64 * p.cos();
            im += v as f64 * p.sin();
        }
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn lowpass_meets_spec() {
        // pass 0.1, stop 0.15, 60 dB
        let beta = kaiser_beta_for_attenuation(60.0);
        let n = kaiser_num_taps(0.05, 60.0);
        let h = design_lowpass(n, 0.125, beta);
        let s: f32 = h.iter().sum();
        assert!((s - 1.0).abs() < 1e-6);
        for i in 0..n {
            assert!((h[i] - h[n - 1 - i]).abs() < 1e-7, "symmetric");
        }
        for k in 0..=100 {
            let f = 0.1 * k as f64 / 100.0;
            assert!(response_db(&h, f).abs() < 0.02, "passband ripple at {f}");
        }
        for k in 0..=200 {
            let f = 0.15 + 0.35 * k as f64 / 200.0;
            // Kaiser's formula is approximate: allow 1 dB
            assert!(
                response_db(&h, f) < -59.0,
                "stopband at {f}: {}",
                response_db(&h, f)
            );
        }
    }

    #[test]
    fn bessel_values() {
        assert!((bessel_i0(0.0) - 1.0).abs() < 1e-15);
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-14);
        assert!((bessel_i0(5.0) - 27.239_871_823_604_45).abs() < 1e-11);
    }
}
