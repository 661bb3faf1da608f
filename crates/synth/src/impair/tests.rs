//! Each impairment against the property it promises (levels, duty cycle, bandwidth, clipping,
//! spectral inversion, anti-alias rejection, determinism).

use droneid_core::{BurstFormat, Complex32, OCCUPIED_BANDWIDTH_HZ};
use droneid_payload::{build_transport_block, FlightInfo};
use rustfft::FftPlanner;

use crate::*;

/// Seed of the impairment tests' captures.
const SEED_IMP: u64 = 0x1A_B0B0;

fn block() -> [u8; 176] {
    build_transport_block(&FlightInfo::example().to_record(), None).unwrap()
}

fn capture(fs: f64, total: u64, noise: bool, bursts: Vec<BurstSpec>) -> CaptureSpec {
    CaptureSpec {
        sample_rate_hz: fs,
        center_freq_hz: None,
        total_samples: total,
        noise,
        bursts,
        seed: SEED_IMP,
    }
}

fn render(spec: &CaptureSpec, imp: &Impairments) -> Vec<Complex32> {
    try_render_to_vec_with(spec, imp).unwrap().0
}

fn mean_power(x: &[Complex32]) -> f64 {
    x.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / x.len() as f64
}

fn db(x: f64) -> f64 {
    10.0 * x.log10()
}

/// Averaged periodogram (Hann window), `n` bins, FFT order (bin b ↔ b·fs/n, wrapped); each bin
/// is the power per sample in it (Σ over bins = mean power, up to the window's leakage).
fn psd(x: &[Complex32], n: usize) -> Vec<f64> {
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let w: Vec<f32> = (0..n)
        .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos()) as f32)
        .collect();
    let wpow: f64 = w.iter().map(|v| (v * v) as f64).sum::<f64>() / n as f64;
    let mut acc = vec![0.0f64; n];
    let mut count = 0;
    for chunk in x.chunks_exact(n) {
        let mut b: Vec<Complex32> = chunk.iter().zip(&w).map(|(v, w)| v * *w).collect();
        fft.process(&mut b);
        for (a, v) in acc.iter_mut().zip(&b) {
            *a += v.norm_sqr() as f64;
        }
        count += 1;
    }
    acc.iter()
        .map(|a| a / (count as f64 * (n * n) as f64 * wpow))
        .collect()
}

/// Frequency of FFT bin `b` of `n` at rate `fs`.
fn bin_hz(b: usize, n: usize, fs: f64) -> f64 {
    let k = if b < n / 2 {
        b as f64
    } else {
        b as f64 - n as f64
    };
    k * fs / n as f64
}

fn band_power(p: &[f64], fs: f64, lo: f64, hi: f64) -> f64 {
    let n = p.len();
    (0..n)
        .filter(|&b| (lo..=hi).contains(&bin_hz(b, n, fs)))
        .map(|b| p[b])
        .sum()
}

#[test]
fn default_impairments_change_nothing() {
    let mut b = BurstSpec::new(block(), BurstFormat::Nine, 500.3);
    b.snr_db = Some(3.0);
    let spec = capture(15.36e6, 12_000, true, vec![b]);
    assert!(Impairments::default().is_empty());
    assert_eq!(
        render(&spec, &Impairments::default()),
        render_to_vec(&spec).0
    );
}

#[test]
fn tone_power_in_its_bin_is_the_level_over_noise_in_15_khz() {
    // 1024-point FFT at 15.36 MS/s: 15 kHz bins, the tone exactly on bin 80 (1.2 MHz).
    let fs = 15.36e6;
    let n = 1024;
    let spec = capture(fs, (n * 400) as u64, true, vec![]);
    let imp = Impairments {
        tones: vec![CwTone::new(80.0 * 15e3, 20.0)],
        ..Impairments::default()
    };
    let x = render(&spec, &imp);
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let mut p = vec![0.0f64; n];
    for chunk in x.chunks_exact(n) {
        let mut b = chunk.to_vec();
        fft.process(&mut b);
        for (a, v) in p.iter_mut().zip(&b) {
            *a += v.norm_sqr() as f64 / (n * n) as f64 / 400.0;
        }
    }
    // Noise per 15 kHz bin: NOISE_POWER · 15e3 / fs; measured over the other bins too.
    let noise_bin: f64 = (0..n)
        .filter(|&b| b.abs_diff(80) > 3)
        .map(|b| p[b])
        .sum::<f64>()
        / (n - 7) as f64;
    assert!((db(noise_bin) - db(NOISE_POWER * 15e3 / fs)).abs() < 0.1);
    let tone = p[80] - noise_bin;
    assert!(
        (db(tone / noise_bin) - 20.0).abs() < 0.2,
        "tone {:.3} dB over the noise in its bin",
        db(tone / noise_bin)
    );
    assert!((db(tone) - db(imp.tones[0].power(fs))).abs() < 0.01);
}

#[test]
fn dc_spike_power_is_the_level_over_the_noise_power() {
    let fs = 20e6;
    let spec = capture(fs, 400_000, true, vec![]);
    let imp = Impairments {
        dc: Some(DcOffset::new(10.0)),
        ..Impairments::default()
    };
    let x = render(&spec, &imp);
    let mean: Complex32 = x.iter().sum::<Complex32>() / x.len() as f32;
    assert!((db(mean.norm_sqr() as f64) - 10.0).abs() < 0.05, "{mean}");
    assert!((mean.arg() as f64 - std::f64::consts::FRAC_PI_4).abs() < 0.01);
    // Total power: noise + spike = 1 + 10.
    assert!((mean_power(&x) - 11.0).abs() < 0.1);
    // With a drift the spike rotates: it sits in the bin of the drift frequency.
    let imp = Impairments {
        dc: Some(DcOffset {
            drift_hz: 20e6 / 1000.0 * 3.0,
            ..DcOffset::new(10.0)
        }),
        ..Impairments::default()
    };
    let p = psd(&render(&capture(fs, 100_000, false, vec![]), &imp), 1000);
    // (Hann window: the tone's power is spread over bins 2..=4.)
    let tone = p[2] + p[3] + p[4];
    assert!((db(tone) - 10.0).abs() < 0.05, "{}", db(tone));
}

#[test]
fn hopper_duty_cycle_bandwidth_and_level() {
    let fs = 15.36e6;
    let mut h = Hopper::new(20.0);
    h.channels_hz = vec![-3e6, 0.0, 2e6];
    let total = (0.05 * fs) as u64; // 80 slots
    let spec = capture(fs, total, false, vec![]);
    let imp = Impairments {
        hopper: Some(h.clone()),
        ..Impairments::default()
    };
    let x = render(&spec, &imp);
    // Duty cycle: on 366 µs of every 625 µs.
    let on = x.iter().filter(|v| v.norm_sqr() > 0.0).count() as f64 / x.len() as f64;
    assert!((on - 366.0 / 625.0).abs() < 0.005, "duty {on}");
    let slots = h.slots(fs, SEED_IMP, total);
    assert_eq!(slots.len(), 80);
    assert!(slots.iter().all(|s| s.visible));
    for f in [-3e6, 0.0, 2e6] {
        assert!(
            slots.iter().any(|s| s.freq_hz == f),
            "channel {f} never used"
        );
    }
    // Level while on (ramps excluded): 20 dB over the noise in 1 MHz. Bandwidth: the power
    // within ±0.5 MHz of the slot's channel, almost none beyond ±0.75 MHz.
    let ramp = (RAMP_S_TEST * fs) as i64 + 2;
    let mut p_on = 0.0;
    let mut count = 0usize;
    let mut spec_acc = vec![0.0f64; 4096];
    for s in &slots {
        let core = &x[(s.start_sample + ramp) as usize..(s.end_sample - ramp) as usize];
        p_on += core.iter().map(|v| v.norm_sqr() as f64).sum::<f64>();
        count += core.len();
        // Shift the slot's channel to 0 and accumulate its spectrum.
        let shifted: Vec<Complex32> = x[s.start_sample as usize..s.start_sample as usize + 4096]
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let n = s.start_sample as f64 + i as f64;
                let ph = -std::f64::consts::TAU * s.freq_hz * n / fs;
                v * Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect();
        for (a, p) in spec_acc.iter_mut().zip(psd(&shifted, 4096)) {
            *a += p;
        }
    }
    let p_on = p_on / count as f64;
    assert!(
        (db(p_on) - db(h.power(fs))).abs() < 0.3,
        "on-power {:.2} dB vs {:.2} dB",
        db(p_on),
        db(h.power(fs))
    );
    assert!((db(h.power(fs) / (NOISE_POWER * 1e6 / fs)) - 20.0).abs() < 1e-9);
    let total_p: f64 = spec_acc.iter().sum();
    let inside = band_power(&spec_acc, fs, -0.5e6, 0.5e6) / total_p;
    let outside = 1.0 - band_power(&spec_acc, fs, -0.75e6, 0.75e6) / total_p;
    assert!(inside > 0.93, "in ±0.5 MHz: {inside}");
    assert!(outside < 0.01, "beyond ±0.75 MHz: {outside}");
}

/// The ramp the implementation uses (2 µs), restated for the test.
const RAMP_S_TEST: f64 = crate::impair::RAMP_S;

#[test]
fn hopper_channels_outside_the_capture_are_silent() {
    let fs = 5e6;
    let mut h = Hopper::new(30.0);
    h.channels_hz = vec![4e6];
    let spec = capture(fs, 20_000, false, vec![]);
    let x = render(
        &spec,
        &Impairments {
            hopper: Some(h.clone()),
            ..Impairments::default()
        },
    );
    assert!(x.iter().all(|v| v.norm_sqr() == 0.0));
    assert!(h.slots(fs, SEED_IMP, 20_000).iter().all(|s| !s.visible));
}

#[test]
fn wifi_edge_covers_the_requested_part_of_the_channel() {
    let fs = 30.72e6;
    let w = WifiBursts::overlapping_channel(-2e6, 1.5e6, 20.0);
    // Lower edge 1.5 MHz below the channel's top (−2 + 4.5075 MHz).
    assert!((w.center_hz - w.bandwidth_hz / 2.0 - (2.5075e6 - 1.5e6)).abs() < 1.0);
    let spec = capture(fs, 1 << 19, false, vec![]);
    let imp = Impairments {
        wifi: vec![w.clone()],
        ..Impairments::default()
    };
    let x = render(&spec, &imp);
    let (lo, hi) = w.band_in_capture(fs).unwrap();
    assert!((hi - 15.36e6).abs() < 0.2e6 && (lo - 1.0075e6).abs() < 1.0);
    assert!((db(mean_power(&x)) - db(w.power(fs))).abs() < 0.1);
    assert!((db(w.power(fs) / (NOISE_POWER * (hi - lo) / fs)) - 20.0).abs() < 1e-9);
    let p = psd(&x, 2048);
    let total: f64 = p.iter().sum();
    // The DroneID channel (−6.5075..2.5075 MHz): the top 1.5 MHz holds Wi-Fi, the rest ≤ −40 dB
    // of the density inside.
    let density_in = band_power(&p, fs, 1.2e6, 2.5e6) / 1.3e6;
    let density_out = band_power(&p, fs, -6.5e6, 0.8e6) / 7.3e6;
    assert!(db(density_in / (w.power(fs) / (hi - lo))).abs() < 0.3);
    assert!(
        db(density_out / density_in) < -40.0,
        "{}",
        db(density_out / density_in)
    );
    let frac = band_power(&p, fs, 0.9e6, 15.36e6) / total;
    assert!(frac > 0.99, "{frac}");
    // Negative overlap: below the channel.
    let below = WifiBursts::overlapping_channel(-2e6, -3e6, 20.0);
    assert!((below.center_hz + below.bandwidth_hz / 2.0 - (-6.5075e6 + 3e6)).abs() < 1.0);
}

#[test]
fn wifi_bursts_follow_their_period() {
    let fs = 20e6;
    let w = WifiBursts {
        on_s: 1e-3,
        period_s: 4e-3,
        first_s: 0.5e-3,
        ..WifiBursts::continuous(0.0, 10.0)
    };
    let x = render(
        &capture(fs, (0.02 * fs) as u64, false, vec![]),
        &Impairments {
            wifi: vec![w],
            ..Impairments::default()
        },
    );
    let on = x.iter().filter(|v| v.norm_sqr() > 0.0).count() as f64 / x.len() as f64;
    assert!((on - 0.25).abs() < 0.002, "duty {on}");
    assert_eq!(x[(0.4e-3 * fs) as usize].norm_sqr(), 0.0);
    assert!(x[(1.0e-3 * fs) as usize].norm_sqr() > 0.0);
    assert_eq!(x[(2.0e-3 * fs) as usize].norm_sqr(), 0.0);
    assert!(x[(4.6e-3 * fs) as usize].norm_sqr() > 0.0);
}

#[test]
fn quantiser_clips_at_the_stated_level() {
    let fs = 15.36e6;
    let q = Quantize::new(30.0);
    // Noise only: RMS per rail = 128 · 10^(−30/20) codes.
    let x = render(
        &capture(fs, 200_000, true, vec![]),
        &Impairments {
            quantize: Some(q.clone()),
            ..Impairments::default()
        },
    );
    for v in &x {
        for c in [v.re * 128.0, v.im * 128.0] {
            assert_eq!(c.fract(), 0.0);
            assert!((-128.0..=127.0).contains(&c));
        }
    }
    let rms_codes =
        (x.iter().map(|v| (v.re as f64 * 128.0).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let want = 128.0 * 10f64.powf(-30.0 / 20.0);
    assert!(
        (rms_codes / want - 1.0).abs() < 0.03,
        "{rms_codes} vs {want}"
    );
    // A burst 40 dB over the noise in-band exceeds the clip level: codes saturate at both ends.
    let mut b = BurstSpec::new(block(), BurstFormat::Nine, 100.0);
    b.snr_db = Some(40.0);
    let x = render(
        &capture(fs, 10_000, true, vec![b]),
        &Impairments {
            quantize: Some(q.clone()),
            ..Impairments::default()
        },
    );
    assert!(x.iter().any(|v| v.re == 127.0 / 128.0));
    assert!(x.iter().any(|v| v.im == -1.0));
    // The rule itself: exactly full scale over the noise RMS per rail.
    let g128 = (q.gain() * 128.0) as f32;
    let fs_in = (1.0 / q.gain()) as f32; // an input of this size maps to code 128 → 127
    assert_eq!(
        Quantize::apply(g128, Complex32::new(fs_in, -fs_in)).re,
        127.0 / 128.0
    );
    assert_eq!(
        Quantize::apply(g128, Complex32::new(fs_in, -fs_in)).im,
        -1.0
    );
    assert_eq!(
        Quantize::apply(g128, Complex32::new(fs_in * 0.5, 0.0)).re,
        64.0 / 128.0
    );
    assert!(
        (Impairments {
            quantize: Some(q.clone()),
            ..Impairments::default()
        }
        .output_noise_power()
            - q.gain() * q.gain())
        .abs()
            < 1e-12
    );
}

#[test]
fn iq_swap_mirrors_the_spectrum() {
    let fs = 15.36e6;
    let spec = capture(fs, 20_480, false, vec![]);
    let tone = Impairments {
        tones: vec![CwTone::new(1.5e6, 30.0)],
        ..Impairments::default()
    };
    let x = render(&spec, &tone);
    let y = render(
        &spec,
        &Impairments {
            iq_swap: true,
            ..tone.clone()
        },
    );
    for (a, b) in x.iter().zip(&y) {
        assert_eq!((a.re, a.im), (b.im, b.re));
    }
    let p = psd(&y, 1024);
    let peak = (0..1024).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
    assert!((bin_hz(peak, 1024, fs) + 1.5e6).abs() <= 15e3);
}

#[test]
fn narrow_capture_matches_the_wideband_burst_in_the_passband() {
    // The same burst at 5 MS/s (through the anti-alias filter) and at 20 MS/s (exact): equal
    // spectral density inside ±0.47·Fs, nothing inside the band from beyond ±Fs/2.
    let fs = 5e6;
    let mut b = BurstSpec::new(block(), BurstFormat::Nine, 300.0);
    b.phase_rad = 0.4;
    let narrow = capture(fs, 4_000, false, vec![b.clone()]);
    let (x5, truth) = try_render_to_vec(&narrow).unwrap();
    assert_eq!(truth[0].start_sample, 300);
    assert!((truth[0].in_band_fraction - 5e6 / OCCUPIED_BANDWIDTH_HZ).abs() < 1e-9);
    let aa = b.anti_alias(fs).unwrap();
    assert_eq!(aa.factor, 2);
    let mut b20 = b.clone();
    b20.start_sample *= 4.0;
    let (x20, _) = try_render_to_vec(&capture(20e6, 16_000, false, vec![b20])).unwrap();
    // Same 512 µs window: samples 400..2960 at 5 MS/s, 1600..11840 at 20 MS/s.
    let p5 = psd(&x5[400..2960], 2560);
    let p20 = psd(&x20[1600..11840], 10240);
    let mut worst: f64 = 0.0;
    let mut f = -0.47 * fs;
    while f < 0.47 * fs {
        let a = band_power(&p5, fs, f, f + 100e3);
        let c = band_power(&p20, 20e6, f, f + 100e3);
        worst = worst.max(db(a / c).abs());
        f += 100e3;
    }
    assert!(worst < 0.1, "passband mismatch {worst:.3} dB");

    // A burst at +6 MHz: only 1.4925..2.5 MHz of it is in the band. Against the same burst
    // rendered exactly at 30 MS/s (whole band inside), the 5 MS/s capture has the same spectrum
    // inside ±0.47·Fs: the burst's part, and its own out-of-band skirt below 1.49 MHz (which
    // aliasing from beyond +2.5 MHz would fill).
    let mut off = b.clone();
    off.freq_offset_hz = 6e6;
    let (x, t) = try_render_to_vec(&capture(fs, 4_000, false, vec![off.clone()])).unwrap();
    assert!((t[0].in_band_fraction - (2.5e6 - 1.4925e6) / OCCUPIED_BANDWIDTH_HZ).abs() < 1e-9);
    off.start_sample *= 6.0;
    let (x30, _) = try_render_to_vec(&capture(30e6, 24_000, false, vec![off])).unwrap();
    let p = psd(&x[400..2960], 2560);
    let p30 = psd(&x30[2400..17760], 15360);
    let d_in = band_power(&p30, 30e6, 1.6e6, 2.3e6) / 0.7e6;
    let mut f = -0.47 * fs;
    while f < 0.47 * fs {
        let a = band_power(&p, fs, f, f + 100e3);
        let c = band_power(&p30, 30e6, f, f + 100e3);
        let rel = db(c / 100e3 / d_in);
        let tol = if f >= 1.6e6 {
            0.1
        } else if rel > -50.0 {
            0.5
        } else {
            3.0
        };
        assert!(
            db(a / c).abs() < tol,
            "{f} Hz: {:.2} dB vs the wideband render ({rel:.1} dB below the burst)",
            db(a / c)
        );
        f += 100e3;
    }
}

#[test]
fn anti_alias_filter_response() {
    for (fs, edge) in [(5e6, 4.5075e6), (4e6, 10e6), (61.44e6, 35e6)] {
        let aa = AntiAlias::new(fs, edge);
        assert!(aa.render_rate_hz() / 2.0 >= edge);
        let h = aa.taps();
        assert_eq!(h.len() % 2, 1);
        let resp = |f: f64| {
            let w = std::f64::consts::TAU * f / aa.render_rate_hz();
            let (mut re, mut im) = (0.0, 0.0);
            for (i, v) in h.iter().enumerate() {
                re += v * (w * i as f64).cos();
                im += v * (w * i as f64).sin();
            }
            db(re * re + im * im)
        };
        for k in 0..=48 {
            let f = ANTI_ALIAS_PASSBAND * fs * k as f64 / 48.0;
            assert!(resp(f).abs() < 0.01, "passband {f}: {}", resp(f));
        }
        for k in 0..=200 {
            let f = fs * ANTI_ALIAS_STOPBAND
                + (aa.render_rate_hz() / 2.0 - fs * ANTI_ALIAS_STOPBAND) * k as f64 / 200.0;
            assert!(
                resp(f) < -ANTI_ALIAS_ATTENUATION_DB + 0.5,
                "stopband {f}: {}",
                resp(f)
            );
        }
    }
}

#[test]
fn impaired_capture_is_independent_of_block_len() {
    let fs = 12e6;
    let mut bursts = Vec::new();
    for (i, start) in [200.0, 9000.5].into_iter().enumerate() {
        let mut b = BurstSpec::new(block(), BurstFormat::Nine, start);
        b.snr_db = Some(5.0);
        b.freq_offset_hz = 3e6 * i as f64; // the second reaches beyond +6 MHz: filtered
        bursts.push(b);
    }
    let spec = capture(fs, 30_000, true, bursts);
    let mut h = Hopper::new(15.0);
    h.channels_hz = vec![-2e6, 1e6];
    let imp = Impairments {
        dc: Some(DcOffset {
            drift_hz: 150.0,
            ..DcOffset::new(10.0)
        }),
        tones: vec![CwTone::new(-1.234e6, 20.0)],
        hopper: Some(h),
        wifi: vec![WifiBursts {
            on_s: 0.4e-3,
            period_s: 1e-3,
            ..WifiBursts::overlapping_channel(0.0, 2e6, 10.0)
        }],
        quantize: Some(Quantize::new(25.0)),
        iq_swap: true,
    };
    let (a, ta) = try_render_to_vec_with(&spec, &imp).unwrap();
    for block_len in [1usize, 777, 4096] {
        let mut c = Vec::new();
        let tc = render_capture_with(&spec, &imp, block_len, &mut |x: &[Complex32]| {
            c.extend_from_slice(x);
            Ok::<(), SynthError>(())
        })
        .unwrap();
        assert_eq!(a, c, "block_len {block_len}");
        assert_eq!(ta, tc);
    }
    assert!(spec.bursts[1].anti_alias(fs).is_some() && spec.bursts[0].anti_alias(fs).is_none());
}

#[test]
fn invalid_impairments_are_errors() {
    let spec = capture(15.36e6, 1000, true, vec![]);
    let cases = [
        Impairments {
            dc: Some(DcOffset::new(f64::NAN)),
            ..Impairments::default()
        },
        Impairments {
            tones: vec![CwTone::new(8e6, 10.0)],
            ..Impairments::default()
        },
        Impairments {
            hopper: Some(Hopper::new(f64::INFINITY)),
            ..Impairments::default()
        },
        Impairments {
            hopper: Some(Hopper {
                on_s: 1e-3,
                ..Hopper::new(10.0)
            }),
            ..Impairments::default()
        },
        Impairments {
            wifi: vec![WifiBursts {
                period_s: 0.0,
                ..WifiBursts::continuous(0.0, 10.0)
            }],
            ..Impairments::default()
        },
        Impairments {
            quantize: Some(Quantize::new(f64::NAN)),
            ..Impairments::default()
        },
    ];
    for imp in cases {
        let e = try_render_to_vec_with(&spec, &imp).unwrap_err();
        assert!(matches!(e, SynthError::Impairment { .. }), "{e}");
    }
    let mut low = spec.clone();
    low.sample_rate_hz = 3.9e6;
    assert!(matches!(low.validate(), Err(SynthError::SampleRate { .. })));
}

#[test]
fn scenario_pairs_back_to_back_and_overlapping() {
    let fs = 30.72e6;
    let mut sc = Scenario::new(fs);
    sc.seed = SEED_IMP;
    sc.bursts_per_drone = Some(3);
    sc.interval_s = 0.005;
    sc.snr_db = Some(5.0);
    sc.freq_offset_hz = -3e6;
    sc.pair = Some(BurstPair {
        delay_s: 0.7e-3,
        offset_hz: 0.0,
    });
    let spec = sc.build().unwrap();
    assert_eq!(spec.bursts.len(), 6);
    for pair in spec.bursts.chunks(2) {
        assert_eq!((pair[0].drone, pair[1].drone), (0, 1));
        assert!((pair[1].start_sample - pair[0].start_sample - 0.7e-3 * fs).abs() < 1e-6);
        assert_eq!(pair[0].freq_offset_hz, pair[1].freq_offset_hz);
    }
    let (_, truth) = try_render_to_vec(&spec).unwrap();
    let serials: std::collections::BTreeSet<_> = truth
        .iter()
        .filter_map(|t| t.serial_number.clone())
        .collect();
    assert_eq!(serials.len(), 2);
    sc.pair = Some(BurstPair {
        delay_s: 0.2e-3,
        offset_hz: 7e6,
    });
    let spec = sc.build().unwrap();
    for pair in spec.bursts.chunks(2) {
        assert_eq!(pair[1].freq_offset_hz - pair[0].freq_offset_hz, 7e6);
        let (_, e0) = pair[0].extent(fs);
        let (a1, _) = pair[1].extent(fs);
        assert!(a1 < e0, "overlap in time");
    }
    sc.pair = Some(BurstPair {
        delay_s: f64::NAN,
        offset_hz: 0.0,
    });
    assert!(matches!(sc.build(), Err(SynthError::Scenario { .. })));
}
