//! LTE turbo code (TS 36.212 §5.1.3.2, spec §4.3): encoder, QPP interleaver, trellis tables
//! and the max-log-MAP decoders (scalar reference, AVX2 window-parallel).

pub(crate) mod scalar;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(crate) mod avx2;

use crate::{D, K};
use std::sync::OnceLock;

/// QPP coefficients for K = 1408.
pub const F1: usize = 43;
/// QPP coefficients for K = 1408.
pub const F2: usize = 88;

/// QPP interleaver Π(i) = (43·i + 88·i²) mod 1408. `i` must be < K.
pub fn qpp(i: usize) -> usize {
    debug_assert!(i < K);
    (F1 * i + F2 * ((i * i) % K)) % K
}

/// Table of Π(0..K), computed once.
pub fn qpp_table() -> &'static [u16; K] {
    static T: OnceLock<[u16; K]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [0u16; K];
        for (i, v) in t.iter_mut().enumerate() {
            *v = qpp(i) as u16;
        }
        t
    })
}

/// Trellis state index: s = s₁·4 + s₂·2 + s₃ with (s₁, s₂, s₃) = (a_{k−1}, a_{k−2}, a_{k−3}).
/// Returns (next state, parity bit z) for input bit `u`.
pub(crate) const fn rsc_step(s: usize, u: usize) -> (usize, usize) {
    let s1 = (s >> 2) & 1;
    let s2 = (s >> 1) & 1;
    let s3 = s & 1;
    let a = u ^ s2 ^ s3;
    let z = a ^ s1 ^ s3;
    ((a << 2) | (s1 << 1) | s2, z)
}

/// `NEXT[s][u]` and `PARITY[s][u]` tables.
pub(crate) const NEXT: [[usize; 2]; 8] = {
    let mut t = [[0usize; 2]; 8];
    let mut s = 0;
    while s < 8 {
        t[s][0] = rsc_step(s, 0).0;
        t[s][1] = rsc_step(s, 1).0;
        s += 1;
    }
    t
};
pub(crate) const PARITY: [[usize; 2]; 8] = {
    let mut t = [[0usize; 2]; 8];
    let mut s = 0;
    while s < 8 {
        t[s][0] = rsc_step(s, 0).1;
        t[s][1] = rsc_step(s, 1).1;
        s += 1;
    }
    t
};
/// `PRED[s'] = [(s, u); 2]`: the two transitions ending in s'.
pub(crate) const PRED: [[(usize, usize); 2]; 8] = {
    let mut t = [[(0usize, 0usize); 2]; 8];
    let mut n = [0usize; 8];
    let mut s = 0;
    while s < 8 {
        let mut u = 0;
        while u < 2 {
            let ns = NEXT[s][u];
            t[ns][n[ns]] = (s, u);
            n[ns] += 1;
            u += 1;
        }
        s += 1;
    }
    t
};
/// Termination input for state s (drives a = 0): x = s₂ ⊕ s₃.
pub(crate) const fn tail_input(s: usize) -> usize {
    ((s >> 1) ^ s) & 1
}

/// One RSC encoder over K bits (via `input(k)`), parity into `z`, returns the 6 tail bits
/// (x_K, z_K, x_{K+1}, z_{K+1}, x_{K+2}, z_{K+2}).
fn rsc_encode(input: impl Fn(usize) -> u8, z: &mut [u8]) -> [u8; 6] {
    let mut s = 0usize;
    for (k, zk) in z.iter_mut().enumerate().take(K) {
        let (ns, p) = rsc_step(s, input(k) as usize);
        *zk = p as u8;
        s = ns;
    }
    let mut tail = [0u8; 6];
    for m in 0..3 {
        let x = tail_input(s);
        let (ns, p) = rsc_step(s, x);
        tail[2 * m] = x as u8;
        tail[2 * m + 1] = p as u8;
        s = ns;
    }
    debug_assert_eq!(s, 0);
    tail
}

/// Position of tail bit `j` (0..12, order x_K, z_K, x_{K+1}, …, z'_{K+2}) in the output
/// streams: (stream j mod 3, index K + j div 3) — spec §4.3 table.
pub const fn tail_position(j: usize) -> (usize, usize) {
    (j % 3, K + j / 3)
}

/// Turbo encoder: K bits (0/1) → streams d⁽⁰⁾, d⁽¹⁾, d⁽²⁾ of D bits each.
pub fn encode(bits: &[u8; K]) -> [[u8; D]; 3] {
    let pi = qpp_table();
    let mut d = [[0u8; D]; 3];
    d[0][..K].copy_from_slice(bits);
    let t1 = rsc_encode(|k| bits[k], &mut d[1][..K]);
    let t2 = rsc_encode(|k| bits[pi[k] as usize], &mut d[2][..K]);
    for j in 0..12 {
        let (s, i) = tail_position(j);
        d[s][i] = if j < 6 { t1[j] } else { t2[j - 6] };
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    // Spec §9.5.
    #[test]
    fn spec_9_5_qpp() {
        let t = qpp_table();
        assert_eq!(&t[..8], &[0, 131, 438, 921, 172, 1007, 610, 389]);
        assert_eq!(t[1407], 45);
        let mut seen = [false; K];
        for &v in t.iter() {
            assert!(!seen[v as usize]);
            seen[v as usize] = true;
        }
    }

    #[test]
    fn trellis_tables_consistent() {
        for s in 0..8 {
            // z = u ⊕ s₁ ⊕ s₂ and the two inputs give distinct parities.
            assert_ne!(PARITY[s][0], PARITY[s][1]);
            assert_ne!(NEXT[s][0], NEXT[s][1]);
            let t = tail_input(s);
            assert_eq!(NEXT[s][t] >> 2, 0);
        }
        for ns in 0..8 {
            for &(s, u) in &PRED[ns] {
                assert_eq!(NEXT[s][u], ns);
            }
        }
    }
}
