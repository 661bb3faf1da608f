//! Tests of the burst demodulator on synthetic bursts (modulator → channel → demodulator).

use super::*;
use crate::BaseRateModulator;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// LTE Gold sequence (TS 36.211 §7.2, spec §3.3), test-local so the tests need no other crate.
pub(crate) fn gold(c_init: u32, len: usize) -> Vec<u8> {
    const NCG: usize = 1600;
    let total = NCG + len + 31;
    let mut x1 = vec![0u8; total];
    let mut x2 = vec![0u8; total];
    x1[0] = 1;
    for i in 0..31 {
        x2[i] = ((c_init >> i) & 1) as u8;
    }
    for n in 0..total - 31 {
        x1[n + 31] = x1[n + 3] ^ x1[n];
        x2[n + 31] = x2[n + 3] ^ x2[n + 2] ^ x2[n + 1] ^ x2[n];
    }
    (0..len).map(|n| x1[n + NCG] ^ x2[n + NCG]).collect()
}

pub(crate) fn scrambler() -> Vec<u8> {
    gold(0x1234_5678, CODED_BITS)
}

/// Channel and impairments of one synthetic capture.
#[derive(Debug, Clone)]
pub(crate) struct Impairments {
    /// In-band SNR, dB (None = noiseless).
    pub snr_db: Option<f64>,
    pub cfo_hz: f64,
    /// Multipath taps (delay in samples, complex gain); the burst's own delay is added.
    pub taps: Vec<(f64, Complex64)>,
    /// Sample-clock offset, ppm.
    pub ppm: f64,
}

impl Impairments {
    pub fn clean(cfo_hz: f64) -> Self {
        Self {
            snr_db: None,
            cfo_hz,
            taps: vec![(0.0, Complex64::new(1.0, 0.0))],
            ppm: 0.0,
        }
    }
}

/// One synthetic capture: the burst at a fractional position, impaired.
pub(crate) struct Capture {
    pub samples: Vec<Complex32>,
    pub bits: [u8; CODED_BITS],
    /// True index of the burst's first sample (first path).
    pub burst_start: f64,
    /// True index of the ZC-600 useful part.
    pub zc600: f64,
}

pub(crate) fn make_capture(
    rng: &mut ChaCha8Rng,
    format: BurstFormat,
    imp: &Impairments,
    scr: &[u8],
) -> Capture {
    let mut bits = [0u8; CODED_BITS];
    for b in bits.iter_mut() {
        *b = rng.gen_range(0..2);
    }
    make_capture_bits(rng, format, imp, scr, &bits)
}

/// [`make_capture`] with given e' bits.
pub(crate) fn make_capture_bits(
    rng: &mut ChaCha8Rng,
    format: BurstFormat,
    imp: &Impairments,
    scr: &[u8],
    bits: &[u8; CODED_BITS],
) -> Capture {
    let bits = *bits;
    let burst = BaseRateModulator::new().modulate(format, &bits, &scr[..BITS_PER_SYMBOL]);
    let lead = 600.0 + rng.gen_range(0.0..64.0);
    let total = burst.len() + 1400;
    let nfft = 16384;
    assert!(total <= nfft);
    // Fractional delay + multipath in the frequency domain (exact for a band-limited burst).
    let mut x = vec![Complex32::new(0.0, 0.0); nfft];
    x[..burst.len()].copy_from_slice(&burst);
    let mut planner = FftPlanner::new();
    planner.plan_fft_forward(nfft).process(&mut x);
    for (j, v) in x.iter_mut().enumerate() {
        let f = if j < nfft / 2 {
            j as f64
        } else {
            j as f64 - nfft as f64
        } / nfft as f64;
        let mut h = Complex64::new(0.0, 0.0);
        for &(d, a) in &imp.taps {
            let ph = -2.0 * PI * f * (lead + d);
            h += a * Complex64::new(ph.cos(), ph.sin());
        }
        let h = Complex32::new(h.re as f32, h.im as f32);
        *v *= h / nfft as f32;
    }
    planner.plan_fft_inverse(nfft).process(&mut x);
    x.truncate(total);
    // Sample-clock offset: the receiver samples at t = n·(1 + ε) (windowed-sinc interpolation).
    if imp.ppm != 0.0 {
        let eps = imp.ppm * 1e-6;
        let src = x.clone();
        const HALF: isize = 24;
        for (n, y) in x.iter_mut().enumerate() {
            let t = n as f64 * (1.0 + eps);
            let c = t.floor() as isize;
            let mut acc = Complex64::new(0.0, 0.0);
            for k in c - HALF + 1..=c + HALF {
                if k < 0 || k >= src.len() as isize {
                    continue;
                }
                let u = t - k as f64;
                let sinc = if u.abs() < 1e-12 {
                    1.0
                } else {
                    (PI * u).sin() / (PI * u)
                };
                let w = 0.42
                    + 0.5 * (PI * u / HALF as f64).cos()
                    + 0.08 * (2.0 * PI * u / HALF as f64).cos();
                let s = src[k as usize];
                acc += Complex64::new(s.re as f64, s.im as f64) * (sinc * w);
            }
            *y = Complex32::new(acc.re as f32, acc.im as f32);
        }
    }
    let phase0 = rng.gen_range(0.0..2.0 * PI);
    let sigma2 = imp
        .snr_db
        .map(|s| (N as f64 / (NC + 1) as f64) / 10f64.powf(s / 10.0))
        .unwrap_or(0.0);
    let sd = (sigma2 / 2.0).sqrt();
    for (n, v) in x.iter_mut().enumerate() {
        let ph = phase0 + 2.0 * PI * imp.cfo_hz * n as f64 / BASE_SAMPLE_RATE_HZ;
        *v *= Complex32::new(ph.cos() as f32, ph.sin() as f32);
        if sd > 0.0 {
            let nr: f64 = rng.sample(StandardNormal);
            let ni: f64 = rng.sample(StandardNormal);
            *v += Complex32::new((nr * sd) as f32, (ni * sd) as f32);
        }
    }
    let scale = 1.0 / (1.0 + imp.ppm * 1e-6);
    let burst_start = lead * scale;
    let zc600 = (lead + format.zc_first_useful_offset() as f64) * scale;
    Capture {
        samples: x,
        bits,
        burst_start,
        zc600,
    }
}

/// Hint as a root-600 correlator would give it: biased by −1.70·m, plus a random error.
pub(crate) fn hint_for(rng: &mut ChaCha8Rng, cap: &Capture, cfo_hz: f64, err: f64) -> f64 {
    let m = (cfo_hz / SUBCARRIER_SPACING_HZ).round();
    cap.zc600 - 1.70 * m + rng.gen_range(-err..=err)
}

pub(crate) fn bit_errors(llrs: &[f32; CODED_BITS], bits: &[u8; CODED_BITS]) -> usize {
    llrs.iter()
        .zip(bits)
        .filter(|(l, b)| (**l < 0.0) != (**b == 1))
        .count()
}

/// Gaussian tail Q(x) by Simpson integration (accurate to ≪1e-6 for x ≥ 0).
pub(crate) fn q_func(x: f64) -> f64 {
    // Simpson integration of the Gaussian tail on [x, x + 12].
    let n = 4000;
    let h = 12.0 / n as f64;
    let f = |t: f64| (-t * t / 2.0).exp() / (2.0 * PI).sqrt();
    let mut s = f(x) + f(x + 12.0);
    for i in 1..n {
        let t = x + i as f64 * h;
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(t);
    }
    s * h / 3.0
}

const SEED_CLEAN: u64 = 0xC1EA_0001;
const SEED_REF: u64 = 0xC1EA_0002;
const SEED_AWGN: u64 = 0xC1EA_0003;
const SEED_MP: u64 = 0xC1EA_0004;
const SEED_TRUNC: u64 = 0xC1EA_0005;
const SEED_NOISE: u64 = 0xC1EA_0006;

#[test]
fn layout_tables_match_core() {
    let f = BurstFormat::Nine;
    for s in 0..NSYM {
        assert_eq!(
            REL[s],
            f.useful_start(s) as isize - f.zc_first_useful_offset() as isize
        );
        let kind = f.symbol_kinds()[s];
        match BLOCK[s] {
            Some(b) => assert_eq!(kind, droneid_core::SymbolKind::Data(b as u8)),
            None => assert!(!matches!(kind, droneid_core::SymbolKind::Data(_))),
        }
    }
    for f8 in [BurstFormat::Eight, BurstFormat::EightLongFirstCp] {
        for s in 0..8 {
            assert_eq!(
                REL[s + 1],
                f8.useful_start(s) as isize - f8.zc_first_useful_offset() as isize
            );
        }
    }
    let c = gold(0x1234_5678, 64);
    let hex: String = c
        .chunks(8)
        .map(|b| format!("{:02X}", b.iter().fold(0u8, |a, &x| (a << 1) | x)))
        .collect();
    assert_eq!(hex, "D2E1DE794FEF0B70"); // spec §9.2
}

#[test]
fn zc_pair_search_matches_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_REF);
    let x600 = zc_carriers(ZC_ROOT_FIRST);
    let x147 = zc_carriers(ZC_ROOT_SECOND);
    let mut q = [Complex32::new(0.0, 0.0); NC];
    for i in 0..NC {
        q[i] = x600[i].conj() * x147[i];
    }
    for trial in 0..4 {
        let mut ya = vec![Complex32::new(0.0, 0.0); N];
        let mut yb = vec![Complex32::new(0.0, 0.0); N];
        for v in ya.iter_mut().chain(yb.iter_mut()) {
            *v = Complex32::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
        }
        if trial > 0 {
            // Plant a pair at m = trial·3 − 5 on top of the noise.
            let m = trial * 3 - 5;
            for i in 0..NC {
                let b = (carrier_bin(i, N) as i32 + m).rem_euclid(N as i32) as usize;
                ya[b] += x600[i] * 2.0;
                yb[b] += x147[i] * 2.0;
            }
        }
        let (m_best, best, second) = zc_pair_search(&ya, &yb, &q, 12);
        let mut ref_best = (0, -1.0);
        let mut ref_vals = Vec::new();
        for m in -12..=12 {
            let v = zc_pair_metric_reference(&ya, &yb, m);
            ref_vals.push(v);
            if v > ref_best.1 {
                ref_best = (m, v);
            }
        }
        assert_eq!(m_best, ref_best.0);
        // f32 accumulation over 600 terms vs f64: relative rounding ~1e-5.
        assert!((best as f64 - ref_best.1).abs() < 1e-4);
        let ref_second = ref_vals
            .iter()
            .enumerate()
            .filter(|(j, _)| *j as i32 - 12 != ref_best.0)
            .map(|(_, v)| *v)
            .fold(0.0, f64::max);
        assert!((second as f64 - ref_second).abs() < 1e-4);
        if trial > 0 {
            assert_eq!(m_best, trial * 3 - 5);
        }
    }
}

#[test]
fn clean_bursts_decode_exactly_all_formats() {
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_CLEAN);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    for trial in 0..12 {
        let format = [
            BurstFormat::Nine,
            BurstFormat::Eight,
            BurstFormat::EightLongFirstCp,
        ][trial % 3];
        // ±(20 kHz + 5 subcarriers) = ±95 kHz.
        let cfo = rng.gen_range(-95_000.0..95_000.0);
        let cap = make_capture(&mut rng, format, &Impairments::clean(cfo), &scr);
        let hint = hint_for(&mut rng, &cap, cfo, 20.0);
        demod.demodulate(&cap.samples, hint, &mut out).unwrap();
        assert_eq!(bit_errors(&out.llrs, &cap.bits), 0, "trial {trial}");
        let want = if format == BurstFormat::Nine {
            BurstFormat::Nine
        } else {
            BurstFormat::Eight
        };
        assert_eq!(out.format, want);
        // Clean: pilot-pair CFO estimate is exact up to f32 rounding; 50 Hz is the spec target.
        assert!(
            (out.cfo_hz - cfo).abs() < 50.0,
            "cfo {} vs {cfo}",
            out.cfo_hz
        );
        // Burst start: exact for a single path (the RUB schedule starts 8 samples earlier).
        let expect_start = if format == BurstFormat::EightLongFirstCp {
            cap.burst_start + 8.0
        } else {
            cap.burst_start
        };
        assert!(
            (out.burst_start - expect_start).abs() < 0.5,
            "start {} vs {expect_start}",
            out.burst_start
        );
        assert!(out.zc_metric > 0.99);
        assert!(out.snr_db > 50.0, "snr {}", out.snr_db);
        assert_eq!(out.erased_blocks, 0);
        assert!(out.llrs.iter().all(|l| l.is_finite()));
    }
}

/// Summary of a run of bursts.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub bit_errors: usize,
    pub bits: usize,
    /// Mean in-band SNR estimate, dB.
    pub snr_est_db: f64,
    /// Mean genie raw BER at the run's SNR and at 1 dB less.
    pub genie: f64,
    pub genie_minus_1db: f64,
    /// Bursts whose detected format was wrong.
    pub format_errors: usize,
}

impl RunStats {
    pub fn ber(&self) -> f64 {
        self.bit_errors as f64 / self.bits as f64
    }
}

/// Runs `n` bursts of `format` through `imp_of`'s channels and the demodulator.
pub(crate) fn ber_run(
    seed: u64,
    n: usize,
    format: BurstFormat,
    imp_of: &dyn Fn(&mut ChaCha8Rng) -> Impairments,
) -> RunStats {
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    let mut st = RunStats::default();
    let want = if format == BurstFormat::Nine {
        BurstFormat::Nine
    } else {
        BurstFormat::Eight
    };
    for _ in 0..n {
        let imp = imp_of(&mut rng);
        let cap = make_capture(&mut rng, format, &imp, &scr);
        let hint = hint_for(&mut rng, &cap, imp.cfo_hz, 25.0);
        demod.demodulate(&cap.samples, hint, &mut out).unwrap();
        st.bit_errors += bit_errors(&out.llrs, &cap.bits);
        st.bits += CODED_BITS;
        st.snr_est_db += out.snr_db as f64 / n as f64;
        let snr = imp.snr_db.unwrap_or(100.0);
        st.genie += genie_ber(&imp.taps, snr) / n as f64;
        st.genie_minus_1db += genie_ber(&imp.taps, snr - 1.0) / n as f64;
        st.format_errors += (out.format != want) as usize;
    }
    st
}

fn awgn(snr_db: f64) -> impl Fn(&mut ChaCha8Rng) -> Impairments {
    move |rng: &mut ChaCha8Rng| Impairments {
        snr_db: Some(snr_db),
        cfo_hz: rng.gen_range(-95_000.0..95_000.0),
        taps: vec![(0.0, Complex64::new(1.0, 0.0))],
        ppm: 0.0,
    }
}

fn multipath(snr_db: f64) -> impl Fn(&mut ChaCha8Rng) -> Impairments {
    move |rng: &mut ChaCha8Rng| {
        // 3 taps up to 1 µs (15.36 samples), unit total power.
        let mut taps = vec![(0.0, Complex64::new(1.0, 0.0))];
        for _ in 0..2 {
            let d = rng.gen_range(1.0..15.36);
            let a = rng.gen_range(0.2..0.6);
            let ph = rng.gen_range(0.0..2.0 * PI);
            taps.push((d, Complex64::from_polar(a, ph)));
        }
        let p: f64 = taps.iter().map(|t| t.1.norm_sqr()).sum();
        for t in taps.iter_mut() {
            t.1 /= p.sqrt();
        }
        Impairments {
            snr_db: Some(snr_db),
            cfo_hz: rng.gen_range(-95_000.0..95_000.0),
            taps,
            ppm: if rng.gen_bool(0.5) { 20.0 } else { -20.0 },
        }
    }
}

#[test]
fn awgn_plus10db_raw_ber_below_1e3() {
    let st = ber_run(SEED_AWGN, 16, BurstFormat::Nine, &awgn(10.0));
    eprintln!("+10 dB: {st:?} BER {:.2e}", st.ber());
    // Theory is 7.8e-4; 1e-3 leaves ≈0.25 dB for estimation losses and counting noise.
    assert!(st.ber() < 1e-3, "BER {}", st.ber());
    // SNR estimate: unbiased to within 0.3 dB (16 bursts average).
    assert!((st.snr_est_db - 10.0).abs() < 0.3);
    assert_eq!(st.format_errors, 0);
}

#[test]
fn awgn_minus3db_raw_ber_near_theory() {
    for (j, format) in [
        BurstFormat::Nine,
        BurstFormat::Eight,
        BurstFormat::EightLongFirstCp,
    ]
    .into_iter()
    .enumerate()
    {
        let st = ber_run(SEED_AWGN + 1 + j as u64, 8, format, &awgn(-3.0));
        eprintln!("-3 dB {format:?}: {st:?} BER {:.4}", st.ber());
        // Within 1 dB of theory (brief); the measured implementation loss is ≈0.1 dB.
        assert!(st.ber() < st.genie_minus_1db, "BER {}", st.ber());
        assert!((st.snr_est_db + 3.0).abs() < 0.3);
        // Symbol-0 detection has ≈12σ of margin at −3 dB.
        assert_eq!(st.format_errors, 0);
    }
}

#[test]
fn multipath_and_clock_offset_minus3db() {
    let st = ber_run(SEED_MP, 8, BurstFormat::Nine, &multipath(-3.0));
    eprintln!("-3 dB 3-tap ±20 ppm: {st:?} BER {:.4}", st.ber());
    // Genie = perfect channel knowledge on the same frequency-selective channels; the brief
    // allows < ~1 dB degradation (measured ≈0.15 dB).
    assert!(st.ber() < st.genie_minus_1db, "BER {}", st.ber());
    assert_eq!(st.format_errors, 0);
}

#[test]
fn multipath_and_clock_offset_plus10db() {
    let st = ber_run(SEED_MP + 1, 8, BurstFormat::Eight, &multipath(10.0));
    eprintln!("+10 dB 3-tap ±20 ppm: {st:?} BER {:.4}", st.ber());
    // High SNR exposes sample-clock drift and channel-model bias; still within 1 dB of genie.
    assert!(st.ber() < st.genie_minus_1db, "BER {}", st.ber());
    assert!((st.snr_est_db - 10.0).abs() < 0.5);
}

#[test]
fn receiver_dc_offset_is_removed() {
    const SEED_DC: u64 = 0xC1EA_0008;
    // A receiver DC offset (power 2, twice the burst; 31 dB above a data carrier) at −3 dB
    // in-band SNR: without removal it dominates the CP correlation and the CFO estimate.
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_DC);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    let (mut errs, mut genie) = (0, 0.0);
    let n = 6;
    for _ in 0..n {
        let imp = awgn(-3.0)(&mut rng);
        let mut cap = make_capture(&mut rng, BurstFormat::Nine, &imp, &scr);
        for v in cap.samples.iter_mut() {
            *v += Complex32::new(1.0, -1.0);
        }
        let hint = hint_for(&mut rng, &cap, imp.cfo_hz, 20.0);
        demod.demodulate(&cap.samples, hint, &mut out).unwrap();
        errs += bit_errors(&out.llrs, &cap.bits);
        genie += genie_ber(&imp.taps, -4.0) / n as f64;
        assert_eq!(out.format, BurstFormat::Nine);
    }
    let ber = errs as f64 / (n * CODED_BITS) as f64;
    // Within 1 dB of the AWGN bound, as without the offset.
    assert!(ber < genie, "ber {ber}");
}

#[test]
fn extreme_cfo_and_hint_error() {
    // ±(12 subcarriers + 7.4 kHz) = ±187.4 kHz, hint off by ±25 samples on top of −1.7·m.
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_CLEAN + 1);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    for (j, cfo) in [187_400.0, -187_400.0, 172_600.0, -7_499.0, 7_501.0]
        .into_iter()
        .enumerate()
    {
        let imp = Impairments {
            snr_db: Some(0.0),
            ..Impairments::clean(cfo)
        };
        let cap = make_capture(&mut rng, BurstFormat::Nine, &imp, &scr);
        let m = (cfo / SUBCARRIER_SPACING_HZ).round();
        let hint = cap.zc600 - 1.70 * m + if j % 2 == 0 { 25.0 } else { -25.0 };
        demod.demodulate(&cap.samples, hint, &mut out).unwrap();
        // 0 dB: CFO std ≈ 40 Hz from the three pilots; 300 Hz is > 5σ.
        assert!(
            (out.cfo_hz - cfo).abs() < 300.0,
            "cfo {} vs {cfo}",
            out.cfo_hz
        );
        let ber = bit_errors(&out.llrs, &cap.bits) as f64 / CODED_BITS as f64;
        // Theory at 0 dB is 0.159.
        assert!(ber < 0.18, "ber {ber}");
        assert_eq!(out.format, BurstFormat::Nine);
    }
}

#[test]
fn truncated_burst_erases_cut_blocks() {
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_TRUNC);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    let imp = Impairments {
        snr_db: Some(10.0),
        ..Impairments::clean(12_345.0)
    };
    let cap = make_capture(&mut rng, BurstFormat::Nine, &imp, &scr);
    // Last 3000 samples of the burst missing.
    let end = (cap.burst_start.floor() as usize) + 9880 - 3000;
    let hint = hint_for(&mut rng, &cap, imp.cfo_hz, 20.0);
    demod
        .demodulate(&cap.samples[..end], hint, &mut out)
        .unwrap();
    // Symbols 6, 7, 8 (blocks 3, 4, 5) have windows past the end.
    assert_eq!(out.erased_blocks, 0b111000);
    assert!(out.llrs[3600..].iter().all(|&l| l == 0.0));
    let errs = out.llrs[..3600]
        .iter()
        .zip(&cap.bits[..3600])
        .filter(|(l, b)| (**l < 0.0) != (**b == 1))
        .count();
    // +10 dB: expected ≈3 errors in 3600 bits.
    assert!(errs < 15, "errors {errs}");
    assert_eq!(out.format, BurstFormat::Nine);

    // Cut at the front: symbol 0 and data block 0 missing → those blocks erased.
    let start = cap.burst_start.ceil() as usize + 1500;
    demod
        .demodulate(&cap.samples[start..], hint - start as f64, &mut out)
        .unwrap();
    assert_eq!(out.erased_blocks, 0b000001);
    assert!(!out.symbol0_checked);
    assert!(out.llrs[..1200].iter().all(|&l| l == 0.0));
    assert!(bit_errors(&out.llrs, &cap.bits) < 1200 + 30);
}

#[test]
fn noise_only_and_zero_input_fail_cleanly() {
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_NOISE);
    let cfg = DemodConfig::default();
    let mut demod = BurstDemodulator::new(&cfg, &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    let mut x = vec![Complex32::new(0.0, 0.0); 12000];
    for trial in 0..20 {
        for v in x.iter_mut() {
            let a: f32 = rng.sample(StandardNormal);
            let b: f32 = rng.sample(StandardNormal);
            *v = Complex32::new(a, b);
        }
        let r = demod.demodulate(&x, 4000.0 + trial as f64, &mut out);
        assert_eq!(r, Err(DemodFailure::NoZcPair), "metric {}", out.zc_metric);
        assert!(out.zc_metric < cfg.min_zc_metric);
        assert!(out.llrs.iter().all(|&l| l == 0.0));
    }
    x.fill(Complex32::new(0.0, 0.0));
    let r = demod.demodulate(&x, 4000.0, &mut out);
    assert_eq!(r, Err(DemodFailure::NoZcPair));
    assert!(out.llrs.iter().all(|&l| l == 0.0));
    assert!(out.zc_metric.is_finite() && out.symbol0_metric.is_finite());
    // Hint far outside the slice, or not finite.
    assert_eq!(
        demod.demodulate(&x, 1e7, &mut out),
        Err(DemodFailure::OutOfRange)
    );
    assert_eq!(
        demod.demodulate(&x, f64::NAN, &mut out),
        Err(DemodFailure::OutOfRange)
    );
}

const SEED_E2E: u64 = 0xC1EA_0007;

/// End to end: random transport blocks → FEC (droneid-fec) → modulator → AWGN at −3 dB
/// in-band, random CFO/phase/timing → demodulator → turbo decoder. Returns (ok, total).
pub(crate) fn e2e_run(seed: u64, n: usize, snr_db: f64, format: BurstFormat) -> (usize, usize) {
    use droneid_fec::{append_crc24, encode_and_scramble, Backend, BlockDecoder, DecoderConfig};
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut dec = BlockDecoder::new(&DecoderConfig {
        max_iterations: 8,
        backend: Backend::Auto,
        early_stop: true,
    })
    .unwrap();
    let mut out = DemodResult::default();
    let mut ok = 0;
    for _ in 0..n {
        let mut payload = [0u8; 173];
        rng.fill(&mut payload[..]);
        let block = append_crc24(&payload);
        let ep = encode_and_scramble(&block);
        let cfo = rng.gen_range(-95_000.0..95_000.0);
        let imp = Impairments {
            snr_db: Some(snr_db),
            ..Impairments::clean(cfo)
        };
        let cap = make_capture_bits(&mut rng, format, &imp, &scr, &ep);
        let hint = hint_for(&mut rng, &cap, cfo, 20.0);
        if demod.demodulate(&cap.samples, hint, &mut out).is_err() {
            continue;
        }
        let mut decoded = [0u8; 176];
        if dec.decode(&out.llrs, &mut decoded).is_ok() && decoded == block {
            ok += 1;
        }
    }
    (ok, n)
}

#[test]
fn end_to_end_fec_minus3db_frame_success() {
    let (ok, n) = e2e_run(SEED_E2E, 50, -3.0, BurstFormat::Nine);
    eprintln!("-3 dB in-band, 9-symbol: {ok}/{n} frames decoded");
    // Spec §6.3 puts the decoding threshold near −0.7 dB in-band with ideal sync; at −3 dB the
    // brief asks for ≥ 90 %.
    assert!(ok * 10 >= n * 9, "{ok}/{n}");
}

/// Per-carrier power gain |H_k|² of a tap list (unit total power → mean 1).
pub(crate) fn carrier_gains(taps: &[(f64, Complex64)]) -> [f64; NC] {
    let mut g = [0.0; NC];
    for i in 0..NC {
        let k = carrier_k(i) as f64;
        let mut h = Complex64::new(0.0, 0.0);
        for &(d, a) in taps {
            let ph = -2.0 * PI * k * d / N as f64;
            h += a * Complex64::new(ph.cos(), ph.sin());
        }
        g[i] = h.norm_sqr();
    }
    g
}

/// Genie raw QPSK BER for a channel: mean over carriers of Q(sqrt(Es/N0·|H_k|²)).
pub(crate) fn genie_ber(taps: &[(f64, Complex64)], snr_db: f64) -> f64 {
    let esn0 = 10f64.powf(snr_db / 10.0) * (NC + 1) as f64 / NC as f64;
    let g = carrier_gains(taps);
    g.iter().map(|&gk| q_func((esn0 * gk).sqrt())).sum::<f64>() / NC as f64
}

#[test]
fn llr_scale_is_consistent() {
    const SEED_LLR: u64 = 0xC1EA_0009;
    // True LLRs L·(1 − 2b) on AWGN are Gaussian with variance = 2·mean. Also check the
    // calibration directly: among bits with |L| in a bin, the error rate ≈ 1/(1 + e^|L|).
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED_LLR);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    for (snr, mp) in [(0.0, false), (-3.0, false), (0.0, true)] {
        let (mut s1, mut s2, mut cnt) = (0.0f64, 0.0f64, 0.0f64);
        let mut bins = [(0usize, 0usize, 0.0f64); 6]; // (count, errors, Σ predicted P(err))
        for _ in 0..6 {
            let imp = if mp {
                multipath(snr)(&mut rng)
            } else {
                awgn(snr)(&mut rng)
            };
            let cap = make_capture(&mut rng, BurstFormat::Nine, &imp, &scr);
            let hint = hint_for(&mut rng, &cap, imp.cfo_hz, 20.0);
            demod.demodulate(&cap.samples, hint, &mut out).unwrap();
            for (l, &b) in out.llrs.iter().zip(&cap.bits) {
                let ls = *l as f64 * if b == 0 { 1.0 } else { -1.0 };
                s1 += ls;
                s2 += ls * ls;
                cnt += 1.0;
                let a = l.abs() as f64;
                let k = ((a / 1.0) as usize).min(5);
                bins[k].0 += 1;
                bins[k].1 += (ls < 0.0) as usize;
                bins[k].2 += 1.0 / (1.0 + a.exp());
            }
        }
        let mean = s1 / cnt;
        let var = s2 / cnt - mean * mean;
        eprintln!(
            "LLR snr {snr} mp {mp}: mean {mean:.3} var {var:.3} ratio {:.3}",
            var / (2.0 * mean)
        );
        if !mp {
            // 43 200 samples: the ratio's statistical spread is ≈1 %; 8 % covers the
            // channel-estimate mismatch term.
            assert!((var / (2.0 * mean) - 1.0).abs() < 0.08);
        }
        for (k, (n, e, p)) in bins.iter().enumerate() {
            if *n > 2000 {
                let emp = *e as f64 / *n as f64;
                let pred = p / *n as f64;
                eprintln!("  |L| bin {k}: n {n} err {emp:.4} predicted {pred:.4}");
                // Calibration within 15 % relative (plus counting noise).
                assert!((emp - pred).abs() < 0.15 * pred + 3.0 * (pred / *n as f64).sqrt());
            }
        }
    }
}

/// Stress: random bursts (all formats, CFO up to ±187 kHz, hint ±25, multipath, ±20 ppm)
/// at +3 and −3 dB: no failures, no wrong formats, no integer-CFO slips. 120 trials (a few
/// seconds in release) so that it runs in CI; the seed is fixed.
#[test]
fn stress_random_bursts() {
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(0x57E5_5000);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    let (mut bad, n) = (0, 120);
    for t in 0..n {
        // Half at +3 dB, half at −3 dB (raw BER bound 0.25 / 0.33 flags an integer-CFO slip).
        let (snr, max_ber) = if t % 2 == 0 {
            (3.0, 0.25)
        } else {
            (-3.0, 0.33)
        };
        let format = [
            BurstFormat::Nine,
            BurstFormat::Eight,
            BurstFormat::EightLongFirstCp,
        ][(t / 2) % 3];
        let mut imp = multipath(snr)(&mut rng);
        imp.cfo_hz = rng.gen_range(-187_000.0..187_000.0);
        let cap = make_capture(&mut rng, format, &imp, &scr);
        let hint = hint_for(&mut rng, &cap, imp.cfo_hz, 25.0);
        let r = demod.demodulate(&cap.samples, hint, &mut out);
        let ber = bit_errors(&out.llrs, &cap.bits) as f64 / CODED_BITS as f64;
        let want = if format == BurstFormat::Nine {
            BurstFormat::Nine
        } else {
            BurstFormat::Eight
        };
        if r.is_err()
            || out.format != want
            || (out.cfo_hz - imp.cfo_hz).abs() > 500.0
            || ber > max_ber
        {
            bad += 1;
            eprintln!(
                "trial {t}: {r:?} {:?} cfo {} vs {} ber {ber}",
                out.format, out.cfo_hz, imp.cfo_hz
            );
        }
    }
    assert_eq!(bad, 0);
}

/// `equalised_symbols` divides by the channel: on a two-path channel with a −14 dB notch, the
/// points of every carrier (the faded ones included) lie on the transmitted QPSK points, with
/// unit magnitude, while the matched-filter output `Y·conj(Ĥ)` (the LLRs) of the faded
/// carriers is far smaller. Erased blocks and carriers outside the band are left out; a
/// failed call keeps the last burst's points; nothing is kept unless asked.
#[test]
fn equalised_symbols_undo_a_faded_channel() {
    let scr = scrambler();
    let mut rng = ChaCha8Rng::seed_from_u64(0xC1EA_0010);
    let mut demod = BurstDemodulator::new(&DemodConfig::default(), &scr[..BITS_PER_SYMBOL]);
    let mut out = DemodResult::default();
    // Nothing before the first burst.
    assert!(demod.equalised_symbols().is_empty());
    // 0.5 µs echo at −1.9 dB: |H| from 0.2 to 1.8, notches every 2 MHz.
    let taps = vec![
        (0.0, Complex64::new(1.0, 0.0)),
        (7.68, Complex64::from_polar(0.8, 1.0)),
    ];
    let imp = Impairments {
        snr_db: Some(45.0),
        cfo_hz: 3_210.0,
        taps: taps.clone(),
        ppm: 0.0,
    };
    let cap = make_capture(&mut rng, BurstFormat::Nine, &imp, &scr);
    let hint = hint_for(&mut rng, &cap, imp.cfo_hz, 10.0);
    // Not asked: nothing kept.
    demod.demodulate(&cap.samples, hint, &mut out).unwrap();
    assert!(demod.equalised_symbols().is_empty());
    demod.keep_equalised(true);
    demod.demodulate(&cap.samples, hint, &mut out).unwrap();
    let points = demod.equalised_symbols().to_vec();
    assert_eq!(points.len(), 6 * NC);
    let gains = carrier_gains(&taps);
    let mean_gain = gains.iter().sum::<f64>() / NC as f64;
    let mut sent = [Complex32::new(0.0, 0.0); NC];
    let (mut err2, mut n_faded, mut faded_mag, mut faded_mf) = (0.0f64, 0, 0.0f64, 0.0f64);
    let mut all_mf = 0.0f64;
    for b in 0..6 {
        qpsk_map(
            &cap.bits[b * BITS_PER_SYMBOL..(b + 1) * BITS_PER_SYMBOL],
            &mut sent,
        );
        let llr = &out.llrs[b * BITS_PER_SYMBOL..(b + 1) * BITS_PER_SYMBOL];
        for i in 0..NC {
            let p = points[b * NC + i];
            err2 += (p - sent[i]).norm_sqr() as f64;
            let mf = Complex32::new(llr[2 * i], llr[2 * i + 1]).norm() as f64;
            all_mf += mf;
            if gains[i] < 0.25 * mean_gain {
                n_faded += 1;
                faded_mag += p.norm() as f64;
                faded_mf += mf;
            }
        }
    }
    let evm = (err2 / (6 * NC) as f64).sqrt();
    let faded_mag = faded_mag / n_faded as f64;
    let faded_mf = faded_mf / n_faded as f64 / (all_mf / (6 * NC) as f64);
    eprintln!(
        "EVM against the sent symbols {:.2} %, {n_faded} faded cells: mean |Y/Ĥ| {faded_mag:.3}, \
         mean |Y·conj(Ĥ)| {faded_mf:.3} of the burst's mean",
        evm * 100.0
    );
    assert!(n_faded > 300, "{n_faded}");
    assert!(evm < 0.03, "EVM {evm}");
    assert!((faded_mag - 1.0).abs() < 0.05, "faded |Y/Ĥ| {faded_mag}");
    assert!(faded_mf < 0.4, "faded |Y·conj(Ĥ)| {faded_mf}");

    // Last 3000 samples missing: blocks 3..6 erased, their points left out.
    let end = (cap.burst_start.floor() as usize) + 9880 - 3000;
    demod
        .demodulate(&cap.samples[..end], hint, &mut out)
        .unwrap();
    assert_eq!(out.erased_blocks, 0b111000);
    assert_eq!(demod.equalised_symbols().len(), 3 * NC);
    // Half the band captured: only the carriers inside it.
    demod.set_valid_band(0.0, 5e6);
    demod.demodulate(&cap.samples, hint, &mut out).unwrap();
    let half = demod.equalised_symbols().to_vec();
    assert_eq!(half.len(), 6 * (NC - out.erased_carriers as usize));
    assert!(out.erased_carriers > 250 && out.erased_carriers < 350);
    // A failed call leaves them as they were.
    let zeros = vec![Complex32::new(0.0, 0.0); cap.samples.len()];
    assert!(demod.demodulate(&zeros, hint, &mut out).is_err());
    assert_eq!(demod.equalised_symbols(), &half[..]);
    demod.keep_equalised(false);
    assert!(demod.equalised_symbols().is_empty());
}
