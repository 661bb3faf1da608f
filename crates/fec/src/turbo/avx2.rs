//! AVX2 window-parallel max-log-MAP turbo decoder (i16 fixed point).
//!
//! The 1408-step trellis is split into 16 windows of 88 steps; window w runs in 16-bit lane w
//! of every `__m256i`. Each of the 8 trellis states lives in its own register, so a trellis
//! step needs no shuffles. Window boundaries are initialised from the previous iteration
//! (next-iteration initialisation); in the first iteration they start equiprobable. Window 0
//! starts in state 0 and window 15 ends in β_K computed from the terminated tail.
//!
//! Fixed point: per block the channel LLRs are scaled so that their mean magnitude is
//! `TARGET_MEAN`, then saturated to ±`CH_CLAMP`; extrinsics are saturated to ±`LA_CLAMP`.
//! With branch metrics |γ'| ≤ 2·1024 + 2048 and max-normalisation of α and β every step, the
//! state-metric spread stays below 6·|γ'|max < 32767, so only hopeless paths ever saturate.

use super::scalar::{hard_decide_crc, sanitize, tail_beta};
use super::{qpp_table, tail_position, NEXT, PARITY, PRED};
use crate::{BLOCK_BYTES, D, K};
use core::arch::x86_64::*;

const NW: usize = 16;
const WL: usize = K / NW;
const TARGET_MEAN: f32 = 32.0;
const CH_CLAMP: f32 = 1024.0;
const LA_CLAMP: i16 = 2048;
const NEG: i16 = -16384;
/// Training (overlap) steps run before each window edge, on top of next-iteration
/// initialisation.
const TRAIN: usize = 16;
/// ½ (doubled-domain metrics) × 0.75 (extrinsic scaling), Q15 for `_mm256_mulhrs_epi16`.
const LE_MUL: i16 = 12288;

/// 16 lanes of i16, aligned for `_mm256_load_si256`.
#[repr(C, align(32))]
#[derive(Clone, Copy, Debug, Default)]
struct V16([i16; NW]);

#[target_feature(enable = "avx2")]
#[inline]
fn ld(v: &V16) -> __m256i {
    // SAFETY: `v` is a valid reference to 32 bytes aligned to 32 (repr(align(32))); AVX2 is
    // enabled for this function.
    unsafe { _mm256_load_si256(v as *const V16 as *const __m256i) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn st(v: &mut V16, x: __m256i) {
    // SAFETY: `v` is a valid, exclusive, 32-byte-aligned 32-byte destination.
    unsafe { _mm256_store_si256(v as *mut V16 as *mut __m256i, x) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn normalize(x: &mut [__m256i; 8]) {
    let m = _mm256_max_epi16(
        _mm256_max_epi16(_mm256_max_epi16(x[0], x[1]), _mm256_max_epi16(x[2], x[3])),
        _mm256_max_epi16(_mm256_max_epi16(x[4], x[5]), _mm256_max_epi16(x[6], x[7])),
    );
    for v in x.iter_mut() {
        *v = _mm256_subs_epi16(*v, m);
    }
}

/// Branch metrics γ' for (u, z) = (0,0), (0,1), (1,0), (1,1).
#[target_feature(enable = "avx2")]
#[inline]
fn branch(ls: __m256i, lp: __m256i) -> [__m256i; 4] {
    let z = _mm256_setzero_si256();
    let ga = _mm256_adds_epi16(ls, lp);
    let gb = _mm256_subs_epi16(ls, lp);
    [ga, gb, _mm256_subs_epi16(z, gb), _mm256_subs_epi16(z, ga)]
}

/// One constituent decoder over all 16 windows.
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
fn siso(
    sa: &[V16],
    par: &[V16],
    train: &Training,
    edge: &Edges,
    alpha: &mut [V16],
    le: &mut [V16],
    a_fin: &mut [V16; 8],
    b_fin: &mut [V16; 8],
) {
    assert!(sa.len() == WL && par.len() == WL && le.len() == WL && alpha.len() == 8 * WL);
    // Forward training: lane w starts TRAIN steps before its window (from the α that lane
    // w−1 saw there in the previous iteration); lane 0 is then forced to the known state 0.
    let mut a = [_mm256_setzero_si256(); 8];
    for s in 0..8 {
        a[s] = ld(&edge.a_init[s]);
    }
    for t in 0..TRAIN {
        a = alpha_step(&a, branch(ld(&train.sa_a[t]), ld(&train.par_a[t])));
    }
    let mut tmp = [V16::default(); 8];
    for s in 0..8 {
        st(&mut tmp[s], a[s]);
        tmp[s].0[0] = if s == 0 { 0 } else { NEG };
        a[s] = ld(&tmp[s]);
    }
    for t in 0..WL {
        if t == WL - TRAIN {
            for s in 0..8 {
                st(&mut a_fin[s], a[s]);
            }
        }
        for s in 0..8 {
            st(&mut alpha[8 * t + s], a[s]);
        }
        a = alpha_step(&a, branch(ld(&sa[t]), ld(&par[t])));
    }
    if TRAIN == 0 {
        for s in 0..8 {
            st(&mut a_fin[s], a[s]);
        }
    }

    // Backward training: lane w starts TRAIN steps after its window end; lane 15 is then
    // forced to β_K from the terminated tail.
    let mut b = [_mm256_setzero_si256(); 8];
    for s in 0..8 {
        b[s] = ld(&edge.b_init[s]);
    }
    for t in (0..TRAIN).rev() {
        b = beta_step(&b, branch(ld(&train.sa_b[t]), ld(&train.par_b[t])));
    }
    for s in 0..8 {
        st(&mut tmp[s], b[s]);
        tmp[s].0[NW - 1] = edge.tail_beta[s];
        b[s] = ld(&tmp[s]);
    }
    if TRAIN == 0 {
        for s in 0..8 {
            st(&mut b_fin[s], b[s]);
        }
    }
    let lo = _mm256_set1_epi16(i16::MIN);
    let la_max = _mm256_set1_epi16(LA_CLAMP);
    let la_min = _mm256_set1_epi16(-LA_CLAMP);
    let mul = _mm256_set1_epi16(LE_MUL);
    for t in (0..WL).rev() {
        let lp = ld(&par[t]);
        let g = branch(ld(&sa[t]), lp);
        // acc[u][z] = max over transitions with input u and parity z of α(s) + β(s').
        let mut acc = [[lo; 2]; 2];
        let mut nb = [_mm256_setzero_si256(); 8];
        for s in 0..8 {
            let al = ld(&alpha[8 * t + s]);
            let (n0, n1) = (NEXT[s][0], NEXT[s][1]);
            let (z0, z1) = (PARITY[s][0], PARITY[s][1]);
            acc[0][z0] = _mm256_max_epi16(acc[0][z0], _mm256_adds_epi16(al, b[n0]));
            acc[1][z1] = _mm256_max_epi16(acc[1][z1], _mm256_adds_epi16(al, b[n1]));
            nb[s] = _mm256_max_epi16(
                _mm256_adds_epi16(b[n0], g[z0]),
                _mm256_adds_epi16(b[n1], g[2 + z1]),
            );
        }
        let m0 = _mm256_max_epi16(
            _mm256_adds_epi16(acc[0][0], lp),
            _mm256_subs_epi16(acc[0][1], lp),
        );
        let m1 = _mm256_max_epi16(
            _mm256_adds_epi16(acc[1][0], lp),
            _mm256_subs_epi16(acc[1][1], lp),
        );
        let e = _mm256_mulhrs_epi16(_mm256_subs_epi16(m0, m1), mul);
        st(
            &mut le[t],
            _mm256_min_epi16(_mm256_max_epi16(e, la_min), la_max),
        );
        normalize(&mut nb);
        b = nb;
        if t == TRAIN {
            for s in 0..8 {
                st(&mut b_fin[s], b[s]);
            }
        }
    }
}

#[target_feature(enable = "avx2")]
#[inline]
fn alpha_step(a: &[__m256i; 8], g: [__m256i; 4]) -> [__m256i; 8] {
    let mut n = [_mm256_setzero_si256(); 8];
    for ns in 0..8 {
        let [(s0, u0), (s1, u1)] = PRED[ns];
        let m0 = _mm256_adds_epi16(a[s0], g[2 * u0 + PARITY[s0][u0]]);
        let m1 = _mm256_adds_epi16(a[s1], g[2 * u1 + PARITY[s1][u1]]);
        n[ns] = _mm256_max_epi16(m0, m1);
    }
    normalize(&mut n);
    n
}

#[target_feature(enable = "avx2")]
#[inline]
fn beta_step(b: &[__m256i; 8], g: [__m256i; 4]) -> [__m256i; 8] {
    let mut nb = [_mm256_setzero_si256(); 8];
    for s in 0..8 {
        let (n0, n1) = (NEXT[s][0], NEXT[s][1]);
        nb[s] = _mm256_max_epi16(
            _mm256_adds_epi16(b[n0], g[PARITY[s][0]]),
            _mm256_adds_epi16(b[n1], g[2 + PARITY[s][1]]),
        );
    }
    normalize(&mut nb);
    nb
}

/// Training-section inputs: `*_a[t]` lane w = position w·WL − TRAIN + t,
/// `*_b[t]` lane w = position (w+1)·WL + t (zero where outside the block).
#[derive(Clone, Copy, Default)]
struct Training {
    sa_a: [V16; TRAIN],
    par_a: [V16; TRAIN],
    sa_b: [V16; TRAIN],
    par_b: [V16; TRAIN],
}

/// Window-edge state metrics.
struct Edges {
    a_init: [V16; 8],
    b_init: [V16; 8],
    tail_beta: [i16; 8],
}

/// Views a slice of lane vectors as a flat i16 slice (index t·16 + w).
fn flat(v: &[V16]) -> &[i16] {
    // SAFETY: V16 is repr(C) around [i16; 16] (size 32, no padding), so `v` is a valid,
    // initialised, contiguous run of 16·len i16 values; lifetimes and mutability are kept.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const i16, v.len() * NW) }
}

/// Mutable flat view, see [`flat`].
fn flat_mut(v: &mut [V16]) -> &mut [i16] {
    // SAFETY: as in `flat`; the exclusive borrow of `v` is carried over to the result.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut i16, v.len() * NW) }
}

/// Natural position k → flat index in the window-transposed layout.
const fn tpos(k: usize) -> usize {
    (k % WL) * NW + k / WL
}

/// out = a + b (saturating), lane-wise over whole vectors.
#[target_feature(enable = "avx2")]
fn add_sat(a: &[V16], b: &[V16], out: &mut [V16]) {
    for ((x, y), o) in a.iter().zip(b).zip(out.iter_mut()) {
        st(o, _mm256_adds_epi16(ld(x), ld(y)));
    }
}

/// Sum of |x| over finite entries (non-finite count as 0).
#[target_feature(enable = "avx2")]
fn abs_sum(x: &[f32]) -> f64 {
    let absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let maxf = _mm256_set1_ps(f32::MAX);
    let mut acc = _mm256_setzero_ps();
    let chunks = x.chunks_exact(8);
    let rem: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| sanitize(v).abs() as f64)
        .sum();
    let mut total = 0f64;
    for (n, c) in chunks.enumerate() {
        // SAFETY: `c` has exactly 8 f32 values (chunks_exact); unaligned load.
        let v = unsafe { _mm256_loadu_ps(c.as_ptr()) };
        let a = _mm256_and_ps(v, absmask);
        let keep = _mm256_cmp_ps::<_CMP_LE_OQ>(a, maxf);
        acc = _mm256_add_ps(acc, _mm256_and_ps(a, keep));
        if n % 64 == 63 {
            total += hsum(acc);
            acc = _mm256_setzero_ps();
        }
    }
    total + hsum(acc) + rem
}

#[target_feature(enable = "avx2")]
fn hsum(v: __m256) -> f64 {
    let mut a = [0f32; 8];
    // SAFETY: `a` is a valid 32-byte destination; unaligned store.
    unsafe { _mm256_storeu_ps(a.as_mut_ptr(), v) };
    a.iter().map(|&x| x as f64).sum()
}

/// dst[k] = round(clamp(sanitize(src[k]) · scale, ±CH_CLAMP)).
#[target_feature(enable = "avx2")]
fn quantize(src: &[f32], scale: f32, dst: &mut [i16]) {
    assert_eq!(src.len(), dst.len());
    let absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let maxf = _mm256_set1_ps(f32::MAX);
    let sc = _mm256_set1_ps(scale);
    let hi = _mm256_set1_ps(CH_CLAMP);
    let lo = _mm256_set1_ps(-CH_CLAMP);
    let n8 = src.len() / 8 * 8;
    for (c, d) in src[..n8].chunks_exact(8).zip(dst[..n8].chunks_exact_mut(8)) {
        // SAFETY: `c` has exactly 8 f32 values; unaligned load.
        let v = unsafe { _mm256_loadu_ps(c.as_ptr()) };
        let keep = _mm256_cmp_ps::<_CMP_LE_OQ>(_mm256_and_ps(v, absmask), maxf);
        let v = _mm256_min_ps(
            _mm256_max_ps(_mm256_mul_ps(_mm256_and_ps(v, keep), sc), lo),
            hi,
        );
        let i = _mm256_cvtps_epi32(v);
        let p = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256::<1>(i));
        // SAFETY: `d` has exactly 8 i16 values (16 bytes); unaligned store.
        unsafe { _mm_storeu_si128(d.as_mut_ptr() as *mut __m128i, p) };
    }
    for (s, d) in src[n8..].iter().zip(dst[n8..].iter_mut()) {
        *d = (sanitize(*s) * scale).clamp(-CH_CLAMP, CH_CLAMP).round() as i16;
    }
}

/// Sign masks of sys + e1 + e2 per step: bit w of `masks[t]` = 1 ⇔ posterior of window w
/// at step t is negative (bit 1).
#[target_feature(enable = "avx2")]
fn sign_masks(sys: &[V16], e1: &[V16], e2: &[V16], masks: &mut [u16; WL]) {
    let zero = _mm256_setzero_si256();
    for t in 0..WL {
        let p = _mm256_adds_epi16(_mm256_adds_epi16(ld(&sys[t]), ld(&e1[t])), ld(&e2[t]));
        let neg = _mm256_cmpgt_epi16(zero, p);
        let m = _mm256_movemask_epi8(_mm256_packs_epi16(neg, zero)) as u32;
        masks[t] = ((m & 0xFF) | ((m >> 8) & 0xFF00)) as u16;
    }
}

/// AVX2 decoder working memory (allocated once). All natural-order quantities are kept in
/// the window-transposed layout (`[t].0[w]` = position w·WL + t).
pub(crate) struct Avx2Turbo {
    sys_t: Vec<V16>,
    par_t: [Vec<V16>; 2],
    sa_t: Vec<V16>,
    le_t: Vec<V16>,
    alpha: Vec<V16>,
    e1_t: Vec<V16>,
    e2_t: Vec<V16>,
    tmp_t: Vec<V16>,
    /// Decoder-2 flat index j (interleaved position i = w·WL + t) → flat index of Π(i)
    /// in the natural transposed layout.
    g2: Vec<u16>,
    /// Scratch for quantised natural-order streams.
    q: Vec<i16>,
    bnd_a: [[V16; 8]; 2],
    bnd_b: [[V16; 8]; 2],
    tail_beta: [[i16; 8]; 2],
    train: Box<Training>,
}

impl Avx2Turbo {
    /// Returns `None` when the CPU lacks AVX2.
    pub(crate) fn new() -> Option<Self> {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return None;
        }
        let pi = qpp_table();
        let mut g2 = vec![0u16; K];
        for i in 0..K {
            g2[tpos(i)] = tpos(pi[i] as usize) as u16;
        }
        let z = || vec![V16::default(); WL];
        Some(Self {
            sys_t: z(),
            par_t: [z(), z()],
            sa_t: z(),
            le_t: z(),
            alpha: vec![V16::default(); 8 * WL],
            e1_t: z(),
            e2_t: z(),
            tmp_t: z(),
            g2,
            q: vec![0; 3 * D],
            bnd_a: [[V16::default(); 8]; 2],
            bnd_b: [[V16::default(); 8]; 2],
            tail_beta: [[0; 8]; 2],
            train: Box::default(),
        })
    }

    /// Runs constituent decoder `dec` on `self.sa_t`, extrinsic into `le` (e1_t for dec 0).
    fn half_iteration(&mut self, dec: usize) {
        let mut edge = Edges {
            a_init: [V16::default(); 8],
            b_init: [V16::default(); 8],
            tail_beta: self.tail_beta[dec],
        };
        for s in 0..8 {
            edge.a_init[s].0[1..].copy_from_slice(&self.bnd_a[dec][s].0[..NW - 1]);
            edge.b_init[s].0[..NW - 1].copy_from_slice(&self.bnd_b[dec][s].0[1..]);
        }
        let tr = &mut self.train;
        let par = &self.par_t[dec];
        for t in 0..TRAIN {
            tr.sa_a[t].0[1..].copy_from_slice(&self.sa_t[WL - TRAIN + t].0[..NW - 1]);
            tr.par_a[t].0[1..].copy_from_slice(&par[WL - TRAIN + t].0[..NW - 1]);
            tr.sa_b[t].0[..NW - 1].copy_from_slice(&self.sa_t[t].0[1..]);
            tr.par_b[t].0[..NW - 1].copy_from_slice(&par[t].0[1..]);
        }
        let le = if dec == 0 {
            &mut self.e1_t
        } else {
            &mut self.le_t
        };
        let (mut a_fin, mut b_fin) = ([V16::default(); 8], [V16::default(); 8]);
        // SAFETY: `Avx2Turbo` is only constructed after `is_x86_feature_detected!("avx2")`
        // returned true (see `new`), so the AVX2 target feature is available.
        unsafe {
            siso(
                &self.sa_t,
                par,
                &self.train,
                &edge,
                &mut self.alpha,
                le,
                &mut a_fin,
                &mut b_fin,
            );
        }
        self.bnd_a[dec] = a_fin;
        self.bnd_b[dec] = b_fin;
    }

    /// Runs up to `max_it` iterations; returns (iterations used, CRC24 ok).
    pub(crate) fn decode(
        &mut self,
        streams: &[[f32; D]; 3],
        max_it: u32,
        early_stop: bool,
        out: &mut [u8; BLOCK_BYTES],
    ) -> (u32, bool) {
        let src = streams.as_flattened();
        // SAFETY (both calls): AVX2 was detected when `self` was constructed.
        let sum = unsafe { abs_sum(src) };
        let mean = (sum / src.len() as f64) as f32;
        let scale = if mean > 0.0 && mean.is_finite() {
            TARGET_MEAN / mean
        } else {
            0.0
        };
        // SAFETY: see above.
        unsafe { quantize(src, scale, &mut self.q) };
        {
            let q = &self.q;
            let (sys, p1, p2) = (&q[..K], &q[D..D + K], &q[2 * D..2 * D + K]);
            let sys_f = flat_mut(&mut self.sys_t);
            for k in 0..K {
                sys_f[tpos(k)] = sys[k];
            }
            let [pt1, pt2] = &mut self.par_t;
            let (f1, f2) = (flat_mut(pt1), flat_mut(pt2));
            for i in 0..K {
                f1[tpos(i)] = p1[i];
                f2[tpos(i)] = p2[i];
            }
        }
        let mut tl = [0f32; 12];
        for (j, v) in tl.iter_mut().enumerate() {
            let (s, i) = tail_position(j);
            *v = self.q[s * D + i] as f32;
        }
        for dec in 0..2 {
            let tb = tail_beta(tl[6 * dec..6 * dec + 6].try_into().expect("6 tail LLRs"));
            for s in 0..8 {
                self.tail_beta[dec][s] = tb[s].clamp(NEG as f32, 0.0) as i16;
            }
        }
        self.bnd_a = [[V16::default(); 8]; 2];
        self.bnd_b = [[V16::default(); 8]; 2];
        self.e2_t.fill(V16::default());
        let mut ok = false;
        let mut it = 0;
        let mut masks = [0u16; WL];
        while it < max_it {
            it += 1;
            // SAFETY: AVX2 was detected at construction.
            unsafe { add_sat(&self.sys_t, &self.e2_t, &mut self.sa_t) };
            self.half_iteration(0);
            // SAFETY: AVX2 was detected at construction.
            unsafe { add_sat(&self.sys_t, &self.e1_t, &mut self.tmp_t) };
            {
                let src = flat(&self.tmp_t);
                let dst = flat_mut(&mut self.sa_t);
                for (d, &g) in dst.iter_mut().zip(self.g2.iter()) {
                    *d = src[g as usize];
                }
            }
            self.half_iteration(1);
            {
                let src = flat(&self.le_t);
                let dst = flat_mut(&mut self.e2_t);
                for (&s, &g) in src.iter().zip(self.g2.iter()) {
                    dst[g as usize] = s;
                }
            }
            if early_stop || it == max_it {
                // SAFETY: AVX2 was detected at construction.
                unsafe { sign_masks(&self.sys_t, &self.e1_t, &self.e2_t, &mut masks) };
                ok = hard_decide_crc(|k| masks[k % WL] >> (k / WL), |m: u16| m & 1 != 0, out);
                if ok && early_stop {
                    break;
                }
            }
        }
        (it, ok)
    }
}
