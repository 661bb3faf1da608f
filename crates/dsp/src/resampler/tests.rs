use super::*;
use num_complex::Complex64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 0x5EED_0002;

/// (input rate, centre offset) pairs covering every supported shape of ratio.
const RATES: &[(f64, f64)] = &[
    (15.36e6, 2.0e6),    // identity with offset, P = Q = 1
    (30.72e6, -5.0e6),   // decimate by 2
    (50.0e6, 12.5e6),    // 625/192
    (61.44e6, 10.0e6),   // decimate by 4
    (122.88e6, -30.0e6), // decimate by 8
    (20.0e6, 1.0e6),     // 125/96 (HackRF)
    (23.4567e6, -3.0e6), // arbitrary: interpolated phases
];

fn cfg(fin: f64, off: f64) -> ResamplerConfig {
    ResamplerConfig::droneid(fin, off)
}

fn noise(rng: &mut ChaCha8Rng, n: usize) -> Vec<Complex32> {
    (0..n)
        .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
        .collect()
}

/// Slow reference: f64 mixing and direct evaluation of the kernel at the exact output instants
/// `k·R − D`. `linear = false`: the continuous Kaiser-windowed sinc (the ideal the filter bank
/// samples); `linear = true`: that kernel sampled on the `1/L` phase grid and linearly
/// interpolated, i.e. exactly what interpolated mode is documented to compute.
fn reference(
    rs: &ChannelResampler,
    c: &ResamplerConfig,
    x: &[Complex32],
    nout: usize,
    linear: bool,
) -> Vec<Complex64> {
    let fin = c.input_rate_hz;
    let f0 = c.center_offset_hz;
    let xm: Vec<Complex64> = x
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let ph = -std::f64::consts::TAU * ((n as f64 * f0 / fin).rem_euclid(1.0));
            Complex64::new(v.re as f64, v.im as f64) * Complex64::from_polar(1.0, ph)
        })
        .collect();
    let d = rs.delay;
    (0..nout)
        .map(|k| {
            let tau = rs.output_to_input_index(k as u64);
            // one extra sample each side: the kernel is 0 outside |t| <= D, and the end
            // points sit exactly on ±D for some phases
            let lo = ((tau - d).floor() - 1.0).max(0.0) as usize;
            let hi = (((tau + d).ceil() + 1.0) as i64).min(x.len() as i64 - 1);
            let mut acc = Complex64::new(0.0, 0.0);
            for n in lo as i64..=hi {
                let t = tau - n as f64;
                let kern = |t: f64| windowed_sinc(t, rs.cutoff, rs.half_width, rs.beta) * rs.gain;
                let w = if linear {
                    let l = rs.nphases as f64;
                    let g = (t + d) * l;
                    let (g0, a) = (g.floor(), g - g.floor());
                    (1.0 - a) * kern(g0 / l - d) + a * kern((g0 + 1.0) / l - d)
                } else {
                    kern(t)
                };
                acc += xm[n as usize] * w;
            }
            acc
        })
        .collect()
}

fn run_all(rs: &mut ChannelResampler, x: &[Complex32]) -> Vec<Complex32> {
    let mut out = vec![Complex32::default(); rs.max_output_len(x.len())];
    let n = rs.process(x, &mut out);
    out.truncate(n);
    out
}

#[test]
fn modes_and_parameters() {
    let want = [
        Some((1, 1)),
        Some((1, 2)),
        Some((192, 625)),
        Some((1, 4)),
        Some((1, 8)),
        Some((96, 125)),
        None,
    ];
    for (&(fin, off), w) in RATES.iter().zip(want) {
        let rs = ChannelResampler::new(&cfg(fin, off)).unwrap();
        assert_eq!(rs.rational_ratio(), w, "fin={fin}");
        assert_eq!(rs.taps_per_phase() % 32, 0);
        let p = rs.num_phases() as f64;
        let n = rs.taps_per_phase() as f64;
        let d = if w.is_some() {
            (p * n - 1.0) / (2.0 * p)
        } else {
            n / 2.0
        };
        assert!((rs.delay_input_samples() - d).abs() < 1e-12);
    }
}

#[test]
fn matches_slow_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for &(fin, off) in RATES {
        for backend in [Backend::Scalar, Backend::Avx2] {
            let c = cfg(fin, off);
            let mut rs = ChannelResampler::with_backend(&c, backend).unwrap();
            // An AVX2 run on an AVX2 CPU must take the AVX2 kernel, not compare scalar with itself.
            if backend == Backend::Avx2 && cpu_has_avx2_fma() {
                assert_eq!(
                    rs.backend(),
                    Backend::Avx2,
                    "CPU has AVX2 + FMA, kernel not used"
                );
            }
            let x = noise(&mut rng, 6000);
            let got = run_all(&mut rs, &x);
            let exact = rs.rational_ratio().is_some();
            let err_db = |want: &[Complex64]| {
                let rms =
                    (want.iter().map(|v| v.norm_sqr()).sum::<f64>() / want.len() as f64).sqrt();
                let max_err = got
                    .iter()
                    .zip(want)
                    .map(|(g, w)| (Complex64::new(g.re as f64, g.im as f64) - w).norm())
                    .fold(0.0f64, f64::max);
                20.0 * (max_err / rms).log10()
            };
            // Same filter (exact: prototype phases; interpolated: linearly interpolated
            // phases): only f32 rounding of taps and of the N-term dot product (≈ −125 dB).
            let same = err_db(&reference(&rs, &c, &x, got.len(), !exact));
            assert!(same < -110.0, "fin={fin} {backend:?}: {same:.1} dB re rms");
            // Interpolated mode vs the ideal continuous kernel: documented bound −75 dB, measured
            // −82 dB (the window's step at its edges, smeared over 1/L by the interpolation).
            let ideal = err_db(&reference(&rs, &c, &x, got.len(), false));
            let limit = if exact { -110.0 } else { -75.0 };
            assert!(
                ideal < limit,
                "fin={fin} {backend:?}: {ideal:.1} dB vs ideal"
            );
            eprintln!("fin={fin} {backend:?}: max error {same:.1} dB (same filter), {ideal:.1} dB (ideal kernel)");
        }
    }
}

#[test]
fn streaming_equals_one_shot() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    for &(fin, off) in RATES {
        let mut rs = ChannelResampler::new(&cfg(fin, off)).unwrap();
        let x = noise(&mut rng, 30_000);
        let whole = run_all(&mut rs, &x);
        // produced count: outputs k with ⌊k·R⌋ < len
        if let Some((p, q)) = rs.rational_ratio() {
            assert_eq!(whole.len(), (x.len() * p).div_ceil(q));
        }
        assert_eq!(rs.output_produced(), whole.len() as u64);
        assert_eq!(rs.input_consumed(), x.len() as u64);
        rs.reset();
        assert_eq!(
            run_all(&mut rs, &x),
            whole,
            "reset restores the initial state"
        );
        rs.reset();
        let mut parts = Vec::new();
        let mut buf = vec![Complex32::default(); 20_000];
        let mut pos = 0;
        let fixed = [0usize, 1, 2, 4095, 4096, 4097, 63, 8191];
        let mut i = 0;
        while pos < x.len() {
            let len = if i < fixed.len() {
                fixed[i]
            } else {
                rng.gen_range(0..9000)
            };
            i += 1;
            let end = (pos + len).min(x.len());
            let need = rs.max_output_len(end - pos);
            let n = rs.process(&x[pos..end], &mut buf[..need]);
            parts.extend_from_slice(&buf[..n]);
            pos = end;
        }
        assert_eq!(
            parts, whole,
            "fin={fin}: split streaming must be bit-identical"
        );
    }
}

/// Output sample `k` vs the ideal tone at input time `k·R − D`, averaged over the steady
/// state: returns (gain, phase error in rad, worst per-sample deviation).
fn tone_response(fin: f64, off: f64, f: f64) -> (f64, f64, f64) {
    let mut rs = ChannelResampler::new(&cfg(fin, off)).unwrap();
    let len = 40_000usize;
    let x: Vec<Complex32> = (0..len)
        .map(|n| {
            let ph = std::f64::consts::TAU * ((n as f64 * (off + f) / fin).rem_euclid(1.0));
            Complex32::new(ph.cos() as f32, ph.sin() as f32)
        })
        .collect();
    let y = run_all(&mut rs, &x);
    let skip = ((2.0 * rs.delay + 2.0) / rs.ratio).ceil() as usize;
    let mut acc = Complex64::new(0.0, 0.0);
    let ratios: Vec<Complex64> = (skip..y.len())
        .map(|k| {
            let tau = rs.output_to_input_index(k as u64);
            let ph = std::f64::consts::TAU * ((tau * f / fin).rem_euclid(1.0));
            Complex64::new(y[k].re as f64, y[k].im as f64) / Complex64::from_polar(1.0, ph)
        })
        .collect();
    for r in &ratios {
        acc += r;
    }
    let mean = acc / ratios.len() as f64;
    let dev = ratios.iter().map(|r| (r - mean).norm()).fold(0.0, f64::max);
    (mean.norm(), mean.arg(), dev)
}

#[test]
fn passband_tone_frequency_amplitude_and_delay() {
    for &(fin, off) in RATES {
        for f in [-4.55e6, -2.0e6, 0.0, 0.3e6, 3.3e6, 4.55e6] {
            let (g, ph, dev) = tone_response(fin, off, f);
            let db = 20.0 * g.log10();
            // ±0.1 dB required; Kaiser ripple at 61 dB is ≈ 0.008 dB
            assert!(db.abs() < 0.1, "fin={fin} f={f}: gain {db} dB");
            // a symmetric kernel has zero phase at the documented time; 1e-3 rad at 4.55 MHz
            // pins the delay to < 0.005 input samples even at 122.88 MS/s
            assert!(ph.abs() < 1e-3, "fin={fin} f={f}: phase {ph} rad");
            // constant ratio to the ideal tone = right frequency (stopband leakage of the
            // tone's own filter error is < −60 dB)
            assert!(dev < 2e-3, "fin={fin} f={f}: deviation {dev}");
        }
    }
}

#[test]
fn stopband_tones_attenuated() {
    for &(fin, off) in RATES {
        let fmax = fin / 2.0;
        let mut f = 7.0e6;
        let mut worst = f64::NEG_INFINITY;
        while f <= fmax {
            for s in [-1.0, 1.0] {
                let mut rs = ChannelResampler::new(&cfg(fin, off)).unwrap();
                let x: Vec<Complex32> = (0..30_000)
                    .map(|n| {
                        let ph = std::f64::consts::TAU
                            * ((n as f64 * (off + s * f) / fin).rem_euclid(1.0));
                        Complex32::new(ph.cos() as f32, ph.sin() as f32)
                    })
                    .collect();
                let y = run_all(&mut rs, &x);
                let skip = ((2.0 * rs.delay + 2.0) / rs.ratio).ceil() as usize;
                let p = y[skip..].iter().map(|v| v.norm_sqr() as f64).sum::<f64>()
                    / (y.len() - skip) as f64;
                let db = 10.0 * p.log10();
                worst = worst.max(db);
                assert!(db <= -60.0, "fin={fin} f={}: {db:.1} dB", s * f);
            }
            f += if fin > 40e6 { 1.37e6 } else { 0.23e6 };
        }
        eprintln!("fin={fin}: worst stopband tone {worst:.1} dB");
    }
}

#[test]
fn impulse_lands_at_documented_index() {
    for &(fin, off) in RATES {
        let mut rs = ChannelResampler::new(&cfg(fin, off)).unwrap();
        let n0 = 5003usize;
        let mut x = vec![Complex32::default(); 12_000];
        x[n0] = Complex32::new(1.0, 0.0);
        let y = run_all(&mut rs, &x);
        let k = (0..y.len())
            .max_by(|&a, &b| y[a].norm().total_cmp(&y[b].norm()))
            .unwrap();
        let t = rs.output_to_input_index(k as u64);
        assert!(
            (t - n0 as f64).abs() <= rs.ratio() / 2.0 + 1e-9,
            "fin={fin}: peak at output {k} = input {t}, expected {n0}"
        );
        let back = rs.input_to_output_index(t);
        assert!((back - k as f64).abs() < 1e-9);
    }
}

#[test]
fn rejects_bad_configs() {
    let good = cfg(50e6, 0.0);
    assert!(ChannelResampler::new(&good).is_ok());
    let bad = [
        ResamplerConfig {
            input_rate_hz: f64::NAN,
            ..good
        },
        ResamplerConfig {
            input_rate_hz: 0.0,
            ..good
        },
        ResamplerConfig {
            output_rate_hz: -1.0,
            ..good
        },
        ResamplerConfig {
            center_offset_hz: f64::INFINITY,
            ..good
        },
        ResamplerConfig {
            stopband_hz: 4.6e6,
            ..good
        },
        ResamplerConfig {
            stopband_hz: 7.7e6,
            ..good
        },
        ResamplerConfig {
            passband_hz: -1.0,
            ..good
        },
        ResamplerConfig {
            attenuation_db: 5.0,
            ..good
        },
    ];
    for b in bad {
        assert!(ChannelResampler::new(&b).is_err(), "{b:?}");
    }
    // Interpolating from 10 MS/s: the stopband must lie below the input's Nyquist rate.
    assert!(matches!(
        ChannelResampler::new(&ResamplerConfig {
            input_rate_hz: 10e6,
            ..good
        }),
        Err(DspError::OutOfRange {
            name: "stopband_hz",
            ..
        })
    ));
    assert!(matches!(
        ChannelResampler::new(&ResamplerConfig {
            passband_hz: 8e6,
            ..good
        }),
        Err(DspError::BadTransition { .. })
    ));
}

#[test]
#[should_panic(expected = "output slice too short")]
fn short_output_panics() {
    let mut rs = ChannelResampler::new(&cfg(61.44e6, 0.0)).unwrap();
    let x = vec![Complex32::default(); 100];
    let mut out = vec![Complex32::default(); 10];
    rs.process(&x, &mut out);
}

/// Interpolation (a capture narrower than the output rate): a tone inside the input band comes
/// out at the same frequency and amplitude at the output rate, at the time the convention
/// says, for an exact (10 → 15.36 = 125/192) and an interpolated ratio.
#[test]
fn interpolation_keeps_tones_in_band() {
    for fin in [10e6, 4.2e6, 5e6] {
        let cfg = ResamplerConfig {
            input_rate_hz: fin,
            output_rate_hz: 15.36e6,
            center_offset_hz: 0.0,
            passband_hz: 0.42 * fin,
            stopband_hz: 0.5 * fin,
            attenuation_db: 60.0,
        };
        let mut rs = ChannelResampler::new(&cfg).unwrap();
        let f0 = 0.3 * fin;
        let n = 20_000;
        let x: Vec<Complex32> = (0..n)
            .map(|i| {
                let ph = 2.0 * std::f64::consts::PI * f0 * i as f64 / fin;
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect();
        let mut y = vec![Complex32::default(); rs.max_output_len(n)];
        let k = rs.process(&x, &mut y);
        assert!(k as f64 > 0.99 * n as f64 * 15.36e6 / fin, "{k}");
        // Away from the filter's warm-up and the end, each output equals the tone at its
        // input time k·R − D.
        let mut worst = 0.0f64;
        for (j, v) in y[..k].iter().enumerate().skip(400).take(k - 800) {
            let t = rs.output_to_input_index(j as u64);
            let ph = 2.0 * std::f64::consts::PI * f0 * t / fin;
            let want = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            worst = worst.max((*v - want).norm() as f64);
        }
        // 60 dB stopband design: passband ripple and interpolation error well under 1 %.
        assert!(worst < 0.01, "fin {fin}: worst error {worst}");
    }
}

/// Whether this CPU runs the AVX2 + FMA kernels (then a test asking for them must get them).
fn cpu_has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
