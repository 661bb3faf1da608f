//! `remove_significant_dc` against its contract: a DC offset that stands out of the noise is
//! subtracted exactly (the slice's mean), a zero-mean signal is left bit for bit, non-finite
//! samples neither enter the sums nor stop the removal.

use droneid_dsp::{remove_significant_dc, Complex32};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The significance the burst receiver and the demodulator use.
const SIGNIFICANCE: f64 = 30.0;

fn noise(seed: u64, n: usize) -> Vec<Complex32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
        .collect()
}

fn mean(x: &[Complex32]) -> (f64, f64) {
    let (mut re, mut im, mut n) = (0.0, 0.0, 0usize);
    for v in x.iter().filter(|v| v.re.is_finite() && v.im.is_finite()) {
        re += v.re as f64;
        im += v.im as f64;
        n += 1;
    }
    (re / n as f64, im / n as f64)
}

#[test]
fn a_dc_offset_above_the_noise_is_removed() {
    // Noise power 2/3; an offset of 0.1 over 4096 samples scores |m|²·L/P ≈ 61 > 30.
    let mut x = noise(1, 4096);
    let dc = Complex32::new(0.1, -0.07);
    x.iter_mut().for_each(|v| *v += dc);
    let before = x.clone();
    let (mr, mi) = mean(&x);
    assert!(remove_significant_dc(&mut x, SIGNIFICANCE));
    for (a, b) in x.iter().zip(&before) {
        // every sample moved by the same amount: the slice's own mean, not the injected dc
        assert!(((b.re - a.re) as f64 - mr).abs() < 1e-6);
        assert!(((b.im - a.im) as f64 - mi).abs() < 1e-6);
    }
    let (r, i) = mean(&x);
    assert!(r.abs() < 1e-6 && i.abs() < 1e-6, "mean left: {r} {i}");
}

#[test]
fn a_zero_mean_signal_is_left_alone() {
    for seed in 0..20 {
        let mut x = noise(100 + seed, 4096);
        let before = x.clone();
        assert!(!remove_significant_dc(&mut x, SIGNIFICANCE), "seed {seed}");
        assert_eq!(x, before);
    }
    // A weak offset (score ≈ 6, below 30) is left too: removing it would add as much error as it
    // takes away at this length.
    let mut x = noise(7, 4096);
    x.iter_mut().for_each(|v| *v += Complex32::new(0.03, 0.0));
    let before = x.clone();
    assert!(!remove_significant_dc(&mut x, SIGNIFICANCE));
    assert_eq!(x, before);
    let mut empty: [Complex32; 0] = [];
    assert!(!remove_significant_dc(&mut empty, SIGNIFICANCE));
}

#[test]
fn non_finite_samples_are_left_out_of_the_sums() {
    let mut x = noise(3, 4096);
    x.iter_mut().for_each(|v| *v += Complex32::new(0.2, 0.2));
    x[10] = Complex32::new(f32::NAN, 0.0);
    x[20] = Complex32::new(f32::INFINITY, f32::NEG_INFINITY);
    let (mr, mi) = mean(&x);
    let l = x.len() as f64;
    let finite = (l - 2.0) / l; // the sums skip two samples but divide by the full length
    assert!(remove_significant_dc(&mut x, SIGNIFICANCE));
    assert!(x[10].re.is_nan() && x[20].re.is_infinite());
    let (r, i) = mean(&x);
    assert!(
        (r - mr * (1.0 - finite)).abs() < 1e-5,
        "{r} vs {}",
        mr * (1.0 - finite)
    );
    assert!((i - mi * (1.0 - finite)).abs() < 1e-5);
}
