//! Tests of the waveform engine and the capture renderer against slow references.

use droneid_core::{
    carrier_bin, carrier_k, BurstFormat, Complex32, Complex64, BASE_SAMPLE_RATE_HZ, FFT_LEN,
    NUM_CARRIERS, OCCUPIED_BANDWIDTH_HZ,
};
use droneid_payload::{build_transport_block, FlightInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustfft::FftPlanner;

use crate::*;

/// Seed of the random carrier content / sample positions in the reference tests.
const SEED_CONTENT: u64 = 0x5EED_0001;
/// Seed of the capture noise in the SNR test.
const SEED_NOISE: u64 = 0x5EED_0002;
/// Seed of the determinism test.
const SEED_DETERMINISM: u64 = 0x5EED_0003;

const FORMATS: [BurstFormat; 3] = [
    BurstFormat::Nine,
    BurstFormat::Eight,
    BurstFormat::EightLongFirstCp,
];

fn example_block() -> [u8; 176] {
    build_transport_block(&FlightInfo::example().to_record(), None).unwrap()
}

fn random_symbols(format: BurstFormat, rng: &mut ChaCha8Rng) -> Vec<[Complex32; NUM_CARRIERS]> {
    (0..format.num_symbols())
        .map(|_| {
            let mut c = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
            for v in c.iter_mut() {
                let ph: f64 = rng.gen::<f64>() * std::f64::consts::TAU;
                *v = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            }
            c
        })
        .collect()
}

/// Direct evaluation of the continuous-time burst (no mixing) at output sample `n`.
fn reference_sample(
    symbols: &[[Complex32; NUM_CARRIERS]],
    format: BurstFormat,
    start: f64,
    fs: f64,
    ppm: f64,
    n: i64,
) -> Complex64 {
    let u = (n as f64 - start) * (1.0 + ppm * 1e-6) * BASE_SAMPLE_RATE_HZ / fs;
    if u < 0.0 || u >= format.len_base() as f64 {
        return Complex64::new(0.0, 0.0);
    }
    let s = (0..format.num_symbols())
        .rev()
        .find(|&s| format.symbol_start(s) as f64 <= u)
        .unwrap();
    let ut = u - format.useful_start(s) as f64;
    let mut acc = Complex64::new(0.0, 0.0);
    for (i, x) in symbols[s].iter().enumerate() {
        let ph = std::f64::consts::TAU * carrier_k(i) as f64 * ut / FFT_LEN as f64;
        acc += Complex64::new(x.re as f64, x.im as f64) * Complex64::from_polar(1.0, ph);
    }
    acc / (NUM_CARRIERS as f64).sqrt()
}

fn near_boundary(format: BurstFormat, start: f64, fs: f64, ppm: f64, n: i64) -> bool {
    let u = (n as f64 - start) * (1.0 + ppm * 1e-6) * BASE_SAMPLE_RATE_HZ / fs;
    (0..=format.num_symbols()).any(|s| {
        let b = if s == format.num_symbols() {
            format.len_base()
        } else {
            format.symbol_start(s)
        } as f64;
        (u - b).abs() < 1e-4
    })
}

#[test]
fn base_rate_integer_start_matches_base_rate_modulator() {
    let block = example_block();
    let bits = droneid_fec::encode_and_scramble(&block);
    let scr = droneid_fec::scrambler::droneid_scrambler();
    let mut modulator = droneid_ofdm::BaseRateModulator::new();
    let mut renderer = BurstRenderer::new();
    for format in FORMATS {
        let want = modulator.modulate(format, &bits, &scr[..1200]);
        let spec = BurstSpec::new(block, format, 37.0);
        let (first, got) = spec.render(BASE_SAMPLE_RATE_HZ, &mut renderer);
        assert_eq!(first, 37);
        assert_eq!(got.len(), format.len_base());
        let err = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0f32, f32::max);
        // f32 IFFT vs f64 chirp-z: both are float-rounding close to the exact values.
        assert!(err < 1e-5, "{format:?}: max error {err}");
    }
}

#[test]
fn any_rate_fractional_start_and_ppm_match_direct_evaluation() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_CONTENT);
    let mut renderer = BurstRenderer::new();
    let cases = [
        (15.36e6, 12.0, 0.0),
        (15.36e6, 12.3, 0.0),
        (30.72e6, 5.75, 0.0),
        (50e6, 100.123, 0.0),
        (61.44e6, 0.5, 20.0),
        (23.4567e6, 7.77, -35.0),
        (122.88e6, 3.0, 1.5),
    ];
    for format in FORMATS {
        for &(fs, start, ppm) in &cases {
            let symbols = random_symbols(format, &mut rng);
            let mut spec = BurstSpec::new([0; 176], format, start);
            spec.sample_clock_ppm = ppm;
            let (first, got) = spec.render_symbols(&symbols, fs, &mut renderer);
            let len = got.len() as i64;
            let expect_len =
                (format.len_base() as f64 * fs / BASE_SAMPLE_RATE_HZ / (1.0 + ppm * 1e-6)).ceil()
                    as i64;
            assert!(
                (len - expect_len).abs() <= 1,
                "length {len} vs {expect_len}"
            );
            let mut max_err = 0.0f64;
            // Both ends, every symbol boundary region, and random samples.
            let mut idx: Vec<i64> = (0..8).chain(len - 8..len).collect();
            idx.extend((0..300).map(|_| rng.gen_range(0..len)));
            for s in 0..format.num_symbols() {
                let b = (format.symbol_start(s) as f64 * fs / BASE_SAMPLE_RATE_HZ) as i64;
                idx.extend((b - 3).max(0)..(b + 3).min(len));
            }
            for m in idx {
                let n = first + m;
                if near_boundary(format, start, fs, ppm, n) {
                    continue;
                }
                let want = reference_sample(&symbols, format, start, fs, ppm, n);
                let g = got[m as usize];
                let err = (Complex64::new(g.re as f64, g.im as f64) - want).norm();
                max_err = max_err.max(err);
            }
            // f32 output rounding of O(1..4) values.
            assert!(
                max_err < 2e-6,
                "{format:?} fs {fs} start {start} ppm {ppm}: {max_err}"
            );
            // Samples just outside the extent would be zero in the reference.
            assert_eq!(
                reference_sample(&symbols, format, start, fs, ppm, first - 1),
                Complex64::new(0.0, 0.0)
            );
        }
    }
}

#[test]
fn higher_rate_spectrum_holds_only_the_600_carriers() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_CONTENT + 1);
    let mut renderer = BurstRenderer::new();
    for (fs, n_fft) in [(30.72e6, 2048usize), (61.44e6, 4096usize)] {
        let format = BurstFormat::Nine;
        let symbols = random_symbols(format, &mut rng);
        let spec = BurstSpec::new([0; 176], format, 0.0);
        let (first, got) = spec.render_symbols(&symbols, fs, &mut renderer);
        assert_eq!(first, 0);
        let r = n_fft / FFT_LEN;
        let fft = FftPlanner::<f32>::new().plan_fft_forward(n_fft);
        for (s, carriers) in symbols.iter().enumerate() {
            let u0 = format.useful_start(s) * r;
            let mut buf = got[u0..u0 + n_fft].to_vec();
            fft.process(&mut buf);
            let scale = (NUM_CARRIERS as f32).sqrt() / n_fft as f32;
            let mut used = vec![false; n_fft];
            for (i, x) in carriers.iter().enumerate() {
                let b = carrier_bin(i, n_fft);
                used[b] = true;
                let err = (buf[b] * scale - x).norm();
                assert!(err < 1e-4, "fs {fs} symbol {s} carrier {i}: {err}");
            }
            let guard = buf
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(v, _)| v.norm() * scale)
                .fold(0.0f32, f32::max);
            // Exact band-limiting: guard bins (and DC) hold only float rounding.
            assert!(guard < 1e-4, "fs {fs} symbol {s}: guard bin level {guard}");
        }
    }
}

#[test]
fn fractional_start_is_a_pure_delay() {
    // A burst at start 10.25 equals the burst at start 10.0 delayed by 0.25 samples: in the
    // frequency domain, a linear phase ramp exp(−j2π k Δf · 0.25/Fs) on every carrier.
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_CONTENT + 2);
    let mut renderer = BurstRenderer::new();
    let format = BurstFormat::Nine;
    let fs = 15.36e6;
    let symbols = random_symbols(format, &mut rng);
    let frac = 0.25;
    let spec = BurstSpec::new([0; 176], format, 10.0 + frac);
    let (first, got) = spec.render_symbols(&symbols, fs, &mut renderer);
    assert_eq!(first, 11);
    let fft = FftPlanner::<f64>::new().plan_fft_forward(FFT_LEN);
    let s = 4;
    // Window on the useful part of symbol 4, shifted one sample early (inside the CP).
    let u0 = (10 + format.useful_start(s) - first as usize) + 1;
    let mut buf: Vec<Complex64> = got[u0 - 1..u0 - 1 + FFT_LEN]
        .iter()
        .map(|v| Complex64::new(v.re as f64, v.im as f64))
        .collect();
    fft.process(&mut buf);
    // Window starts at burst time useful_start + (1 - 1 + ... ) = useful_start + 1 - frac - 1.
    // Sample index n = 10 + useful_start + 1 - 1 + m → u = useful_start + m − frac.
    let scale = (NUM_CARRIERS as f64).sqrt() / FFT_LEN as f64;
    for (i, x) in symbols[s].iter().enumerate() {
        let k = carrier_k(i) as f64;
        let ramp = Complex64::from_polar(1.0, -std::f64::consts::TAU * k * frac / FFT_LEN as f64);
        let want = Complex64::new(x.re as f64, x.im as f64) * ramp;
        let got_c = buf[carrier_bin(i, FFT_LEN)] * scale;
        assert!((got_c - want).norm() < 1e-5, "carrier {i}");
    }
}

#[test]
fn mixing_phase_and_multipath_compose_linearly() {
    let block = example_block();
    let fs = 50e6;
    let mut renderer = BurstRenderer::new();
    let mut clean = BurstSpec::new(block, BurstFormat::Nine, 200.4);
    let (f0, base) = clean.render(fs, &mut renderer);
    // Frequency offset + CFO + phase: the clean burst times e^{j(φ + 2π f (n − n0)/Fs)}.
    clean.freq_offset_hz = -7.25e6;
    clean.cfo_hz = 3210.0;
    clean.phase_rad = 0.7;
    let (f1, mixed) = clean.render(fs, &mut renderer);
    assert_eq!(f0, f1);
    let f = clean.total_freq_offset_hz();
    for (m, (a, b)) in base.iter().zip(&mixed).enumerate() {
        let n = f0 + m as i64;
        let ph = 0.7 + std::f64::consts::TAU * f * (n as f64 - 200.4) / fs;
        let want = Complex64::new(a.re as f64, a.im as f64) * Complex64::from_polar(1.0, ph);
        assert!((Complex64::new(b.re as f64, b.im as f64) - want).norm() < 1e-5);
    }
    // Two taps = sum of the two single-tap renders.
    let g1 = Complex64::new(0.5, -0.2);
    let d1 = 1.3e-6;
    let mut two = clean.clone();
    two.multipath = vec![(0.0, Complex64::new(1.0, 0.0)), (d1, g1)];
    let (ft, sum) = two.render(fs, &mut renderer);
    let mut only = clean.clone();
    only.multipath = vec![(d1, g1)];
    let (fd, delayed) = only.render(fs, &mut renderer);
    assert_eq!(ft, f1);
    assert_eq!(sum.len(), (fd - ft) as usize + delayed.len());
    for (m, v) in sum.iter().enumerate() {
        let n = ft + m as i64;
        let mut want = Complex32::new(0.0, 0.0);
        if let Some(x) = mixed.get((n - f1) as usize) {
            want += x;
        }
        if n >= fd {
            if let Some(x) = delayed.get((n - fd) as usize) {
                want += x;
            }
        }
        assert!((v - want).norm() < 1e-5, "sample {n}");
    }
}

#[test]
fn in_band_snr_definition_holds() {
    // One burst alone (noise off, same amplitude) and noise alone; measure burst power over the
    // burst span and noise power inside ±4.5075 MHz with an averaged periodogram.
    let fs = 30.72e6;
    let snr = 6.0;
    let mut burst = BurstSpec::new(example_block(), BurstFormat::Nine, 5000.0);
    burst.snr_db = Some(snr);
    burst.freq_offset_hz = 3.0e6;
    let n_total = 1u64 << 20;
    let burst_only = CaptureSpec {
        sample_rate_hz: fs,
        center_freq_hz: None,
        total_samples: 40_000,
        noise: false,
        bursts: vec![burst.clone()],
        seed: SEED_NOISE,
    };
    let (x, truth) = render_to_vec(&burst_only);
    let (a, e) = burst.extent(fs);
    let p_burst: f64 = x[a as usize..e as usize]
        .iter()
        .map(|v| v.norm_sqr() as f64)
        .sum::<f64>()
        / (e - a) as f64;
    let noise_only = CaptureSpec {
        total_samples: n_total,
        noise: true,
        bursts: vec![],
        ..burst_only.clone()
    };
    let (w, _) = render_to_vec(&noise_only);
    let p_total: f64 = w.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / w.len() as f64;
    // Noise power per sample is NOISE_POWER (±1 % over 1 M samples).
    assert!(
        (p_total - NOISE_POWER).abs() < 0.01,
        "noise power {p_total}"
    );
    let n_fft = 1024;
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n_fft);
    let mut psd = vec![0.0f64; n_fft];
    for chunk in w.chunks_exact(n_fft) {
        let mut b = chunk.to_vec();
        fft.process(&mut b);
        for (p, v) in psd.iter_mut().zip(&b) {
            *p += v.norm_sqr() as f64;
        }
    }
    let chunks = (w.len() / n_fft) as f64;
    let bin_hz = fs / n_fft as f64;
    let mut inband = 0.0;
    let centre_bin = burst.freq_offset_hz / bin_hz;
    for (b, p) in psd.iter().enumerate() {
        let k = if b < n_fft / 2 {
            b as f64
        } else {
            b as f64 - n_fft as f64
        };
        if (k - centre_bin).abs() * bin_hz <= OCCUPIED_BANDWIDTH_HZ / 2.0 {
            inband += p;
        }
    }
    // Parseval: Σ_b |X_b|² = N Σ_n |x_n|², so the in-band power per sample is Σ_inband / (N² · chunks).
    let p_noise_inband = inband / ((n_fft * n_fft) as f64 * chunks);
    let measured = 10.0 * (p_burst / p_noise_inband).log10();
    // ±0.3 dB: periodogram variance over 1 M samples and the discrete band edge (±1 bin of 601).
    assert!(
        (measured - snr).abs() < 0.3,
        "measured SNR {measured:.3} dB vs {snr}"
    );
    assert_eq!(truth[0].snr_db, Some(snr));
    // Composition: the capture with noise is exactly the burst plus the same noise.
    let both = CaptureSpec {
        total_samples: 40_000,
        noise: true,
        ..burst_only.clone()
    };
    let (y, _) = render_to_vec(&both);
    for n in 0..40_000 {
        assert!((y[n] - (x[n] + w[n])).norm() < 1e-4);
    }
}

#[test]
fn capture_is_deterministic_and_independent_of_block_len() {
    let mut bursts = Vec::new();
    for (i, &start) in [100.0, 9000.5, 15_000.25].iter().enumerate() {
        let mut b = BurstSpec::new(example_block(), FORMATS[i], start);
        b.snr_db = Some(10.0 + i as f64);
        b.freq_offset_hz = 1e6 * i as f64 - 1e6;
        b.sample_clock_ppm = 3.0;
        b.multipath = vec![
            (0.0, Complex64::new(0.9, 0.0)),
            (0.4e-6, Complex64::new(0.1, 0.3)),
        ];
        bursts.push(b);
    }
    let spec = CaptureSpec {
        sample_rate_hz: 20e6,
        center_freq_hz: Some(2.4295e9),
        total_samples: 40_000,
        noise: true,
        bursts,
        seed: SEED_DETERMINISM,
    };
    let (a, ta) = render_to_vec(&spec);
    let (b, tb) = render_to_vec(&spec);
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    for block_len in [1usize, 777, 4096, 1 << 20] {
        let mut c = Vec::new();
        let tc = render_capture(&spec, block_len, &mut |x: &[Complex32]| {
            c.extend_from_slice(x);
            Ok::<(), SynthError>(())
        })
        .unwrap();
        assert_eq!(c.len(), 40_000);
        assert_eq!(a, c, "block_len {block_len}");
        assert_eq!(ta, tc);
    }
    assert_eq!(ta.len(), 3);
    assert_eq!(ta[1].start_sample, 9001); // round(9000.5) = 9001 (half away from zero)
    assert_eq!(ta[2].symbols, 8);
    assert_eq!(ta[2].cp_schedule, "rub");
    assert_eq!(ta[0].serial_number.as_deref(), Some("TESTSN0000000001"));
    assert_eq!(ta[0].msg_type, 0x10);
    assert_eq!(ta[0].center_freq_hz, Some(2.4295e9 - 1e6));
    // A different seed changes the noise.
    let other = CaptureSpec {
        seed: SEED_DETERMINISM + 1,
        ..spec.clone()
    };
    assert_ne!(render_to_vec(&other).0, a);
}

#[test]
fn bursts_past_the_edges_and_invalid_specs() {
    let fs = 15.36e6;
    let mut early = BurstSpec::new(example_block(), BurstFormat::Nine, -5000.0);
    early.multipath = vec![
        (0.0, Complex64::new(1.0, 0.0)),
        (2e-6, Complex64::new(0.2, 0.0)),
    ];
    let late = BurstSpec::new(example_block(), BurstFormat::Eight, 9000.0);
    let spec = CaptureSpec {
        sample_rate_hz: fs,
        center_freq_hz: None,
        total_samples: 10_000,
        noise: false,
        bursts: vec![late, early],
        seed: 1,
    };
    let (x, t) = render_to_vec(&spec);
    assert_eq!(x.len(), 10_000);
    assert_eq!(t[0].burst_index, 1);
    assert!(x[0].norm() > 0.0 && x[9500].norm() > 0.0);

    let mut bad = spec.clone();
    bad.sample_rate_hz = 3.9e6;
    assert!(matches!(bad.validate(), Err(SynthError::SampleRate { .. })));
    bad.sample_rate_hz = f64::NAN;
    assert!(bad.validate().is_err());
    let mut ok = spec.clone();
    ok.bursts[0].freq_offset_hz = 4e6; // 4 + 4.5 MHz > 7.68 MHz: through the anti-alias filter
    ok.validate().unwrap();
    let mut bad = spec.clone();
    bad.bursts[0].freq_offset_hz = 16.8e6; // more than Fs/2 + 9.015 MHz away
    assert!(matches!(bad.validate(), Err(SynthError::Burst { .. })));
    let mut bad = spec.clone();
    bad.bursts[0].snr_db = Some(f64::INFINITY);
    assert!(try_render_to_vec(&bad).is_err());
}
