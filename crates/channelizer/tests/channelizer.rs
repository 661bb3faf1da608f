//! Channelizer correctness tests (all seeded).

use droneid_channelizer::{
    ChannelBlock, Channelizer, ChannelizerConfig, ChannelizerError, Complex32,
};
use droneid_core::OCCUPIED_BANDWIDTH_HZ;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::TAU;

type C64 = num_complex::Complex64;

fn noise(n: usize, seed: u64) -> Vec<Complex32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)))
        .collect()
}

fn tone(n: usize, f_hz: f64, fs: f64) -> Vec<Complex32> {
    (0..n)
        .map(|i| {
            let p = TAU * (f_hz / fs * i as f64).rem_euclid(1.0);
            Complex32::new(p.cos() as f32, p.sin() as f32)
        })
        .collect()
}

fn run_all(ch: &mut Channelizer, x: &[Complex32]) -> ChannelBlock {
    let mut out = ch.new_block(x.len());
    ch.process(x, &mut out);
    out
}

/// Scalar reference, f64: per channel mix by exp(−j2π·k·n/M) (phase from input 0), FIR with
/// the same prototype, keep n = m·D.
fn reference(ch: &Channelizer, x: &[Complex32]) -> Vec<Vec<C64>> {
    let m = ch.num_channels();
    let d = ch.decimation();
    let h: Vec<f64> = ch.prototype().iter().map(|&v| v as f64).collect();
    let nout = x.len().div_ceil(d);
    (0..m)
        .map(|k| {
            let mixed: Vec<C64> = x
                .iter()
                .enumerate()
                .map(|(n, v)| {
                    let ph = -TAU * ((k * n) % m) as f64 / m as f64;
                    C64::new(v.re as f64, v.im as f64) * C64::from_polar(1.0, ph)
                })
                .collect();
            (0..nout)
                .map(|mi| {
                    let n = mi * d;
                    let mut acc = C64::new(0.0, 0.0);
                    for (l, &hl) in h.iter().enumerate() {
                        if l <= n {
                            acc += mixed[n - l] * hl;
                        }
                    }
                    acc
                })
                .collect()
        })
        .collect()
}

fn configs() -> Vec<ChannelizerConfig> {
    vec![
        ChannelizerConfig::droneid(61.44e6),
        ChannelizerConfig::droneid(122.88e6),
        ChannelizerConfig::droneid(15.36e6),
        ChannelizerConfig::droneid(92.16e6),
        // Δ = 3.84 MHz, O = 4 at 61.44 MS/s (M = 16, D = 4).
        ChannelizerConfig {
            input_rate_hz: 61.44e6,
            channel_spacing_hz: 3.84e6,
            output_rate_hz: 15.36e6,
            prototype_taps_per_branch: 8,
            attenuation_db: 80.0,
        },
        // Δ = 7.68 MHz, O = 3 at 61.44 MS/s at 46.08 MS/s (M = 6, D = 2).
        ChannelizerConfig {
            input_rate_hz: 46.08e6,
            channel_spacing_hz: 7.68e6,
            output_rate_hz: 23.04e6,
            prototype_taps_per_branch: 12,
            attenuation_db: 80.0,
        },
    ]
}

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

#[test]
fn fast_pfb_matches_scalar_reference() {
    for (i, (cfg, portable)) in configs()
        .iter()
        .flat_map(|c| [(c, false), (c, true)])
        .enumerate()
    {
        let mut ch = Channelizer::new(cfg).unwrap();
        if portable {
            ch.force_portable();
        }
        let x = noise(3000 + 7 * i, 100 + i as u64);
        let out = run_all(&mut ch, &x);
        let r = reference(&ch, &x);
        let (mut err, mut sig) = (0.0f64, 0.0f64);
        for (k, rk) in r.iter().enumerate() {
            assert_eq!(out.channel(k).len(), rk.len());
            for (a, b) in out.channel(k).iter().zip(rk) {
                let a = C64::new(a.re as f64, a.im as f64);
                err = err.max((a - b).norm_sqr());
                sig = sig.max(b.norm_sqr());
            }
        }
        // The path under test really ran: the AVX2 kernels whenever the CPU has AVX2 + FMA
        // and the channel count has one (2, 4, 6, 8, 16), never when forced portable. On a
        // CPU without them the "fast" run is the portable fold, which is all that can run.
        let simd_shape = matches!(ch.num_channels(), 2 | 4 | 6 | 8 | 16);
        if portable || !cpu_has_avx2_fma() || !simd_shape {
            assert_eq!(ch.simd_frames(), 0, "cfg {cfg:?} portable {portable}");
        } else {
            assert_eq!(
                ch.simd_frames(),
                ch.outputs_produced(),
                "cfg {cfg:?}: the CPU has AVX2 + FMA but the AVX2 kernel did not run"
            );
        }
        let rel_db = 10.0 * (err / sig).log10();
        // f32 arithmetic over ≤ a few hundred taps: ~−120 dB expected; −80 dB is the spec.
        assert!(
            rel_db < -80.0,
            "cfg {cfg:?} portable {portable}: max error {rel_db:.1} dB"
        );
    }
}

/// Steady-state complex gain of channel `k` for a unit tone at `f_hz`: divide the output by
/// the expected rotation exp(j2π(f − f_k)·mD/Fs) and average after the transient.
fn tone_gain(ch: &Channelizer, out: &ChannelBlock, k: usize, f_hz: f64) -> (C64, f64) {
    let fs = ch.config().input_rate_hz;
    let m = ch.num_channels();
    let d = ch.decimation();
    let fk = k as f64 * fs / m as f64;
    let skip = ch.prototype().len().div_ceil(d) + 1;
    let y = out.channel(k);
    let (mut sum, mut max_abs, mut cnt) = (C64::new(0.0, 0.0), 0.0f64, 0usize);
    for (mi, v) in y.iter().enumerate().skip(skip) {
        let ph = TAU * (((f_hz - fk) / fs) * (mi * d) as f64).rem_euclid(1.0);
        let v = C64::new(v.re as f64, v.im as f64);
        sum += v * C64::from_polar(1.0, -ph);
        max_abs = max_abs.max(v.norm());
        cnt += 1;
    }
    (sum / cnt as f64, max_abs)
}

/// |H(ν)| of the prototype in f64.
fn proto_response(ch: &Channelizer, nu_hz: f64) -> f64 {
    let fs = ch.config().input_rate_hz;
    let mut acc = C64::new(0.0, 0.0);
    for (l, &h) in ch.prototype().iter().enumerate() {
        acc += C64::from_polar(h as f64, -TAU * nu_hz / fs * l as f64);
    }
    acc.norm()
}

fn wrap(f: f64, fs: f64) -> f64 {
    (f / fs + 0.5).rem_euclid(1.0) * fs - fs / 2.0
}

#[test]
fn tone_at_each_centre_lands_in_its_channel() {
    for cfg in [
        ChannelizerConfig::droneid(61.44e6),
        ChannelizerConfig::droneid(122.88e6),
    ] {
        let mut ch = Channelizer::new(&cfg).unwrap();
        let fs = cfg.input_rate_hz;
        let m = ch.num_channels();
        for j in 0..m {
            ch.reset();
            let fj = ch.channel_center_hz(j);
            let out = run_all(&mut ch, &tone(8192, fj, fs));
            for k in 0..m {
                let off = wrap(fj - ch.channel_center_hz(k), fs).abs();
                let (g, max_abs) = tone_gain(&ch, &out, k, fj);
                if k == j {
                    // Unit-DC-gain prototype, zero phase at DC (checks the NCO phase
                    // convention too); f32 rounding ≪ 1e-4.
                    assert!((g - 1.0).norm() < 1e-4, "ch {j}: own gain {g}");
                } else if off >= ch.stopband_hz() {
                    // Stopband: at least the design attenuation (Kaiser's formula is met
                    // with margin for these lengths; checked directly, no slack).
                    let db = 20.0 * max_abs.max(1e-30).log10();
                    assert!(
                        db <= -(cfg.attenuation_db as f64),
                        "tone at ch {j} leaks {db:.1} dB into ch {k}"
                    );
                } else {
                    // Overlapping neighbour (transition band by design): exactly the
                    // prototype response at that offset (f32 rounding).
                    let h = proto_response(&ch, off);
                    let g = g.norm();
                    assert!((g - h).abs() < 1e-4, "ch {j}→{k}: gain {g} vs |H| {h}");
                    assert!(off > ch.passband_hz(), "centre inside neighbour's passband");
                }
            }
        }
    }
}

#[test]
fn prototype_meets_declared_passband_and_stopband() {
    for cfg in configs() {
        let ch = Channelizer::new(&cfg).unwrap();
        let fs = cfg.input_rate_hz;
        let (p, s) = (ch.passband_hz(), ch.stopband_hz());
        assert!((s - (cfg.output_rate_hz - p)).abs() < 1.0, "S = R − P");
        let ripple = 10f64.powf(-(cfg.attenuation_db as f64) / 20.0);
        for i in 0..=2000 {
            let f = p * i as f64 / 2000.0;
            let h = proto_response(&ch, f);
            // Kaiser passband ripple ≈ the stopband level δ but overshoots to ~2.3δ right at
            // the edge for short prototypes (4δ ≈ 0.003 dB, irrelevant to OFDM demod).
            assert!((h - 1.0).abs() <= 4.0 * ripple, "{cfg:?}: |H({f})| = {h}");
        }
        // With D = 1 (R = Fs) the declared stopband lies beyond Nyquist: nothing to alias.
        let n_stop = if s < fs / 2.0 { 4001 } else { 0 };
        for i in 0..n_stop {
            let f = s + (fs / 2.0 - s) * i as f64 / 4000.0;
            let db = 20.0 * proto_response(&ch, f).log10();
            // Dense sweep of the whole stopband, no slack.
            assert!(
                db <= -(cfg.attenuation_db as f64),
                "{cfg:?}: {db:.1} dB at {f}"
            );
        }
    }
}

#[test]
fn streaming_random_chunks_equals_one_shot() {
    for (i, cfg) in configs().iter().enumerate() {
        let x = noise(20_000, 7 + i as u64);
        let mut one = Channelizer::new(cfg).unwrap();
        let full = run_all(&mut one, &x);
        let mut ch = Channelizer::new(cfg).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(99 + i as u64);
        let mut block = ch.new_block(5000);
        let mut got: Vec<Vec<Complex32>> = vec![Vec::new(); ch.num_channels()];
        let mut pos = 0;
        while pos < x.len() {
            let n = rng.gen_range(0..=5000).min(x.len() - pos);
            let p = ch.process(&x[pos..pos + n], &mut block);
            assert!(p <= ch.max_output_len(n));
            for (k, g) in got.iter_mut().enumerate() {
                g.extend_from_slice(block.channel(k));
            }
            pos += n;
        }
        assert_eq!(ch.outputs_produced() as usize, full.len());
        for (k, g) in got.iter().enumerate() {
            // Same arithmetic in the same order per frame: bit-identical.
            assert_eq!(g.as_slice(), full.channel(k), "cfg {i} channel {k}");
        }
    }
}

#[test]
fn every_burst_position_fits_in_some_channel() {
    let b = OCCUPIED_BANDWIDTH_HZ;
    for fs in [61.44e6, 122.88e6] {
        let cfg = ChannelizerConfig::droneid(fs);
        let mut ch = Channelizer::new(&cfg).unwrap();
        let p = ch.passband_hz();
        // Geometric check over every capturable centre (10 kHz grid, both edges included).
        let lo = -fs / 2.0 + b / 2.0;
        let steps = ((fs - b) / 10e3).round() as usize;
        for s in 0..=steps {
            let fc = lo + (fs - b) * s as f64 / steps as f64;
            let fits = (0..ch.num_channels())
                .any(|k| wrap(fc - ch.channel_center_hz(k), fs).abs() + b / 2.0 <= p);
            assert!(fits, "fs {fs}: burst at {fc} Hz fits no channel");
            let (k, rel) = ch.channel_for_offset(fc).unwrap();
            assert!(rel.abs() + b / 2.0 <= p);
            assert!((wrap(fc - ch.channel_center_hz(k), fs) - rel).abs() < 1.0);
        }
        // The passband is real: tones at both edges of worst-case bursts (half-way between
        // centres) pass the chosen channel at unit gain (80 dB Kaiser ripple ≈ 1e-4).
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..6 {
            let k0 = rng.gen_range(0..ch.num_channels()) as f64;
            let fc = wrap((k0 + 0.5) * cfg.channel_spacing_hz, fs).clamp(lo, -lo);
            let (k, _) = ch.channel_for_offset(fc).unwrap();
            for edge in [fc - b / 2.0, fc + b / 2.0] {
                ch.reset();
                let out = run_all(&mut ch, &tone(6000, edge, fs));
                let g = tone_gain(&ch, &out, k, edge).0.norm();
                assert!((g - 1.0).abs() < 3e-4, "fs {fs}: edge {edge} gain {g}");
            }
        }
    }
}

#[test]
fn bad_configs_are_rejected() {
    let good = ChannelizerConfig::droneid(61.44e6);
    assert!(Channelizer::new(&good).is_ok());
    let cases: Vec<(&str, ChannelizerConfig)> = vec![
        (
            "nan input",
            ChannelizerConfig {
                input_rate_hz: f64::NAN,
                ..good
            },
        ),
        (
            "inf spacing",
            ChannelizerConfig {
                channel_spacing_hz: f64::INFINITY,
                ..good
            },
        ),
        (
            "zero output",
            ChannelizerConfig {
                output_rate_hz: 0.0,
                ..good
            },
        ),
        (
            "negative input",
            ChannelizerConfig {
                input_rate_hz: -61.44e6,
                ..good
            },
        ),
        (
            "spacing not dividing",
            ChannelizerConfig {
                channel_spacing_hz: 14e6,
                ..good
            },
        ),
        (
            "output not dividing",
            ChannelizerConfig {
                output_rate_hz: 25e6,
                ..good
            },
        ),
        (
            "output not multiple of spacing",
            ChannelizerConfig {
                channel_spacing_hz: 7.68e6,
                output_rate_hz: 20.48e6,
                ..good
            },
        ),
        (
            "critically sampled",
            ChannelizerConfig {
                output_rate_hz: 15.36e6,
                ..good
            },
        ),
        (
            "one channel",
            ChannelizerConfig {
                channel_spacing_hz: 61.44e6,
                output_rate_hz: 61.44e6,
                ..good
            },
        ),
        (
            "zero taps",
            ChannelizerConfig {
                prototype_taps_per_branch: 0,
                ..good
            },
        ),
        (
            "too few taps",
            ChannelizerConfig {
                prototype_taps_per_branch: 4,
                ..good
            },
        ),
        (
            "nan attenuation",
            ChannelizerConfig {
                attenuation_db: f32::NAN,
                ..good
            },
        ),
        (
            "low attenuation",
            ChannelizerConfig {
                attenuation_db: 10.0,
                ..good
            },
        ),
        (
            "Δ=7.68 with O=2 cannot cover",
            ChannelizerConfig {
                channel_spacing_hz: 7.68e6,
                output_rate_hz: 15.36e6,
                prototype_taps_per_branch: 200,
                ..good
            },
        ),
    ];
    for (name, cfg) in cases {
        let r = Channelizer::new(&cfg);
        assert!(r.is_err(), "{name}: accepted {cfg:?}");
    }
    assert!(matches!(
        Channelizer::new(&ChannelizerConfig {
            prototype_taps_per_branch: 4,
            ..good
        }),
        Err(ChannelizerError::CoverageGap { .. })
    ));
    assert!(matches!(
        Channelizer::new(&ChannelizerConfig {
            channel_spacing_hz: 14e6,
            ..good
        }),
        Err(ChannelizerError::NotInteger { .. })
    ));
}

#[test]
fn timing_convention() {
    let cfg = ChannelizerConfig::droneid(61.44e6);
    let mut ch = Channelizer::new(&cfg).unwrap();
    let l = ch.prototype().len();
    // An impulse at input n0 peaks (symmetric prototype) at the output whose input time is n0.
    let n0 = 1001usize - (l - 1) / 2 % 2;
    let mut x = vec![Complex32::new(0.0, 0.0); 4096];
    x[n0] = Complex32::new(1.0, 0.0);
    let out = run_all(&mut ch, &x);
    let y = out.channel(0);
    let (kmax, _) = y
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.norm().total_cmp(&b.1.norm()))
        .unwrap();
    let t = ch.output_to_input_index(kmax as u64);
    assert!(
        (t - n0 as f64).abs() <= ch.decimation() as f64 / 2.0,
        "t {t} vs {n0}"
    );
}
