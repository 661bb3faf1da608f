//! Scalar f32 max-log-MAP turbo decoder (reference implementation).
//!
//! Metrics are kept in the "doubled" domain: branch metric γ' = x_s·(L_s + L_a) + x_p·L_p with
//! x = +1 for bit 0 and −1 for bit 1 (= 2 × the log-probability), so the extrinsic output is
//! ½·(M₀ − M₁).

use super::{qpp_table, tail_input, NEXT, PARITY, PRED};
use crate::{BLOCK_BYTES, D, K};

/// Extrinsic scaling factor between the constituent decoders.
pub(crate) const EXT_SCALE: f32 = 0.75;
const NEG: f32 = -1.0e30;
/// Input LLRs are clamped to this magnitude (keeps all metric arithmetic finite).
pub(crate) const LLR_CLAMP: f32 = 1.0e15;

/// Replaces non-finite values by 0 (erasure) and clamps huge magnitudes.
#[inline]
pub(crate) fn sanitize(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-LLR_CLAMP, LLR_CLAMP)
    } else {
        0.0
    }
}

/// State metrics are max-normalised every this many steps (growth in between is at most
/// NORM_EVERY·|γ|max, harmless in f32; extrinsics only use differences).
const NORM_EVERY: usize = 8;

#[inline(always)]
fn normalize(x: &mut [f32; 8]) {
    let mx = x.iter().copied().fold(NEG, fmax);
    for v in x.iter_mut() {
        *v = fmax(*v - mx, NEG);
    }
}

/// max without NaN handling (inputs are always finite): compiles to a single `maxss`.
#[inline(always)]
fn fmax(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

#[inline]
fn gamma(u: usize, z: usize, ga: f32, gb: f32) -> f32 {
    // (u,z): (0,0) → ga = Lsa+Lp, (0,1) → gb = Lsa−Lp, (1,0) → −gb, (1,1) → −ga.
    match (u, z) {
        (0, 0) => ga,
        (0, _) => gb,
        (_, 0) => -gb,
        _ => -ga,
    }
}

/// β at step K from the three known-terminated tail steps (`tail` = x, z, x, z, x, z).
pub(crate) fn tail_beta(tail: &[f32; 6]) -> [f32; 8] {
    let mut beta = [NEG; 8];
    beta[0] = 0.0;
    for m in (0..3).rev() {
        let (ls, lp) = (tail[2 * m], tail[2 * m + 1]);
        let mut nb = [0f32; 8];
        for (s, b) in nb.iter_mut().enumerate() {
            let u = tail_input(s);
            let z = PARITY[s][u];
            let xs = if u == 0 { ls } else { -ls };
            let xp = if z == 0 { lp } else { -lp };
            *b = beta[NEXT[s][u]] + xs + xp;
        }
        let mx = nb.iter().copied().fold(NEG, fmax);
        for b in nb.iter_mut() {
            *b = fmax(*b - mx, NEG);
        }
        beta = nb;
    }
    beta
}

/// One constituent max-log-MAP decoder. `lsa` = systematic + a-priori, `lp` = parity.
/// Writes the (unscaled) extrinsic LLRs into `le`.
fn siso(lsa: &[f32], lp: &[f32], tail: &[f32; 6], alpha: &mut [[f32; 8]], le: &mut [f32]) {
    let mut a = [NEG; 8];
    a[0] = 0.0;
    for k in 0..K {
        alpha[k] = a;
        let ga = lsa[k] + lp[k];
        let gb = lsa[k] - lp[k];
        let mut n = [0f32; 8];
        for (ns, nv) in n.iter_mut().enumerate() {
            let [(s0, u0), (s1, u1)] = PRED[ns];
            let m0 = a[s0] + gamma(u0, PARITY[s0][u0], ga, gb);
            let m1 = a[s1] + gamma(u1, PARITY[s1][u1], ga, gb);
            *nv = fmax(m0, m1);
        }
        if k % NORM_EVERY == NORM_EVERY - 1 {
            normalize(&mut n);
        }
        a = n;
    }
    let mut beta = tail_beta(tail);
    for k in (0..K).rev() {
        let ga = lsa[k] + lp[k];
        let gb = lsa[k] - lp[k];
        let al = &alpha[k];
        let mut nb = [0f32; 8];
        let mut m = [NEG; 2];
        for s in 0..8 {
            let mut best = NEG;
            for u in 0..2 {
                let ns = NEXT[s][u];
                let z = PARITY[s][u];
                best = fmax(best, beta[ns] + gamma(u, z, ga, gb));
                let xp = if z == 0 { lp[k] } else { -lp[k] };
                m[u] = fmax(m[u], al[s] + xp + beta[ns]);
            }
            nb[s] = best;
        }
        le[k] = 0.5 * (m[0] - m[1]);
        if k % NORM_EVERY == 0 {
            normalize(&mut nb);
        }
        beta = nb;
    }
}

/// Hard decisions from posterior LLRs, packed into bytes; returns CRC24A remainder == 0.
pub(crate) fn hard_decide_crc<T: Copy>(
    post: impl Fn(usize) -> T,
    is_one: impl Fn(T) -> bool,
    out: &mut [u8; BLOCK_BYTES],
) -> bool {
    for (b, byte) in out.iter_mut().enumerate() {
        let mut v = 0u8;
        for i in 0..8 {
            v = (v << 1) | is_one(post(8 * b + i)) as u8;
        }
        *byte = v;
    }
    crate::crc::crc24a(out) == 0
}

/// Scalar decoder working memory (allocated once).
pub(crate) struct ScalarTurbo {
    alpha: Vec<[f32; 8]>,
    sys: Vec<f32>,
    par1: Vec<f32>,
    par2: Vec<f32>,
    lsa: Vec<f32>,
    le: Vec<f32>,
    /// Scaled extrinsic of decoder 1, natural order.
    e1: Vec<f32>,
    /// Scaled extrinsic of decoder 2, de-interleaved to natural order (= a-priori of dec. 1).
    e2: Vec<f32>,
}

impl ScalarTurbo {
    pub(crate) fn new() -> Self {
        Self {
            alpha: vec![[0.0; 8]; K],
            sys: vec![0.0; K],
            par1: vec![0.0; K],
            par2: vec![0.0; K],
            lsa: vec![0.0; K],
            le: vec![0.0; K],
            e1: vec![0.0; K],
            e2: vec![0.0; K],
        }
    }

    /// Runs up to `max_it` iterations; returns (iterations used, CRC24 ok).
    pub(crate) fn decode(
        &mut self,
        streams: &[[f32; D]; 3],
        max_it: u32,
        early_stop: bool,
        out: &mut [u8; BLOCK_BYTES],
    ) -> (u32, bool) {
        let pi = qpp_table();
        for k in 0..K {
            self.sys[k] = sanitize(streams[0][k]);
            self.par1[k] = sanitize(streams[1][k]);
            self.par2[k] = sanitize(streams[2][k]);
        }
        let mut tl = [0f32; 12];
        for (j, t) in tl.iter_mut().enumerate() {
            let (s, i) = super::tail_position(j);
            *t = sanitize(streams[s][i]);
        }
        let tail1: [f32; 6] = tl[..6].try_into().expect("6 tail LLRs");
        let tail2: [f32; 6] = tl[6..].try_into().expect("6 tail LLRs");
        self.e2.fill(0.0);
        let mut ok = false;
        let mut it = 0;
        while it < max_it {
            it += 1;
            for k in 0..K {
                self.lsa[k] = self.sys[k] + self.e2[k];
            }
            siso(&self.lsa, &self.par1, &tail1, &mut self.alpha, &mut self.le);
            for k in 0..K {
                self.e1[k] = EXT_SCALE * self.le[k];
            }
            for i in 0..K {
                let k = pi[i] as usize;
                self.lsa[i] = self.sys[k] + self.e1[k];
            }
            siso(&self.lsa, &self.par2, &tail2, &mut self.alpha, &mut self.le);
            for i in 0..K {
                self.e2[pi[i] as usize] = EXT_SCALE * self.le[i];
            }
            if early_stop || it == max_it {
                let (sys, e1, e2) = (&self.sys, &self.e1, &self.e2);
                ok = hard_decide_crc(|k| sys[k] + e1[k] + e2[k], |l: f32| l < 0.0, out);
                if ok && early_stop {
                    break;
                }
            }
        }
        (it, ok)
    }
}
