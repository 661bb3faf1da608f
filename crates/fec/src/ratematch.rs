//! Rate matching for one code block, rv = 0 (TS 36.212 §5.1.4.1, spec §4.4), and the soft
//! inverse (spec §4.5 step 3).

use crate::{D, E};
use std::sync::OnceLock;

/// Sub-block interleaver columns.
pub const C_SUB: usize = 32;
/// Sub-block interleaver rows, ⌈D/32⌉.
pub const R_SUB: usize = D.div_ceil(C_SUB);
/// Interleaver size.
pub const K_PI: usize = C_SUB * R_SUB;
/// Dummy (NULL) bits per stream.
pub const N_DUMMY: usize = K_PI - D;
/// Circular buffer length.
pub const K_W: usize = 3 * K_PI;
/// Start position k0 = R_sub·(2·⌈N_cb/(8·R_sub)⌉·rv + 2) for rv = 0.
pub const K0: usize = 2 * R_SUB;

/// Column permutation (TS 36.212 Table 5.1.4-1).
pub const PERM: [usize; 32] = [
    0, 16, 8, 24, 4, 20, 12, 28, 2, 18, 10, 26, 6, 22, 14, 30, 1, 17, 9, 25, 5, 21, 13, 29, 3, 19,
    11, 27, 7, 23, 15, 31,
];

/// Sub-block interleaver: output order k → padded y-index (NULL if < N_DUMMY).
/// `stream` 0/1 use π(k), stream 2 uses π₂(k) = (π(k) + 1) mod K_Π.
pub fn subblock_y_index(stream: usize, k: usize) -> usize {
    let p = PERM[k / R_SUB] + C_SUB * (k % R_SUB);
    if stream == 2 {
        (p + 1) % K_PI
    } else {
        p
    }
}

/// Sub-block interleaver in the d-index; `None` for a NULL.
pub fn subblock_d_index(stream: usize, k: usize) -> Option<usize> {
    subblock_y_index(stream, k).checked_sub(N_DUMMY)
}

/// Circular buffer position w_k → (stream, d-index), `None` for NULL.
pub fn circular_buffer_entry(k: usize) -> Option<(usize, usize)> {
    if k < K_PI {
        subblock_d_index(0, k).map(|d| (0, d))
    } else {
        let r = k - K_PI;
        let s = 1 + (r & 1);
        subblock_d_index(s, r / 2).map(|d| (s, d))
    }
}

/// The bit-selection map j → (stream, index) packed as `stream << 16 | index`, computed once.
pub fn selection_map() -> &'static [u32; E] {
    static MAP: OnceLock<[u32; E]> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = [0u32; E];
        let mut j = 0;
        let mut k = K0;
        while j < E {
            if let Some((s, d)) = circular_buffer_entry(k % K_W) {
                map[j] = ((s as u32) << 16) | d as u32;
                j += 1;
            }
            k += 1;
        }
        map
    })
}

/// ±1.0 per e-position: −1 where the DroneID scrambler bit is 1.
fn descramble_signs() -> &'static [f32; E] {
    static S: OnceLock<[f32; E]> = OnceLock::new();
    S.get_or_init(|| {
        let c = crate::scrambler::droneid_scrambler();
        let mut s = [1f32; E];
        for (v, &b) in s.iter_mut().zip(c.iter()) {
            if b != 0 {
                *v = -1.0;
            }
        }
        s
    })
}

/// Rate matching: 3 encoder streams → e (7200 bits).
pub fn rate_match(streams: &[[u8; D]; 3]) -> [u8; E] {
    let mut e = [0u8; E];
    for (o, &m) in e.iter_mut().zip(selection_map().iter()) {
        *o = streams[(m >> 16) as usize][(m & 0xFFFF) as usize];
    }
    e
}

/// Soft de-rate-matcher with a precomputed map j → (stream, index).
#[derive(Clone)]
pub struct RateDematcher {
    map: Box<[(u8, u16); E]>,
    /// Gather form of the map, used by [`RateDematcher::dematch_descramble`]: the first
    /// e-position carrying each flat stream position p = s·D + i (every bit is sent at
    /// least once) ...
    first: Box<[u16; 3 * D]>,
    /// ... and (p, second e-position) for the bits that are sent twice.
    second: Vec<(u16, u16)>,
}

impl std::fmt::Debug for RateDematcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateDematcher").finish_non_exhaustive()
    }
}

impl Default for RateDematcher {
    fn default() -> Self {
        Self::new()
    }
}

impl RateDematcher {
    /// Builds the map (once per instance; the underlying walk is cached process-wide).
    pub fn new() -> Self {
        let mut map = Box::new([(0u8, 0u16); E]);
        let mut first = Box::new([u16::MAX; 3 * D]);
        let mut second = Vec::new();
        for (j, (o, &m)) in map.iter_mut().zip(selection_map().iter()).enumerate() {
            *o = ((m >> 16) as u8, (m & 0xFFFF) as u16);
            let p = (m >> 16) as usize * D + (m & 0xFFFF) as usize;
            if first[p] == u16::MAX {
                first[p] = j as u16;
            } else {
                second.push((p as u16, j as u16));
            }
        }
        assert!(
            first.iter().all(|&j| (j as usize) < E),
            "every coded bit is transmitted"
        );
        Self { map, first, second }
    }

    /// Fused receive step (spec §4.5 steps 2–3): `out[s][i] = Σ L(j)·(1 − 2c(j))` over the
    /// e-positions j carrying (s, i), with `c` the DroneID scrambler. Non-finite LLRs count
    /// as 0 (erasure); magnitudes are clamped to 1e15. `scratch` is caller-provided working
    /// memory (keeps this allocation-free).
    pub fn dematch_descramble(
        &self,
        llr_scrambled: &[f32; E],
        scratch: &mut [f32; E],
        out: &mut [[f32; D]; 3],
    ) {
        let signs = descramble_signs();
        for ((d, &l), &sg) in scratch
            .iter_mut()
            .zip(llr_scrambled.iter())
            .zip(signs.iter())
        {
            let l = if l.is_finite() { l } else { 0.0 };
            *d = l.clamp(-1e15, 1e15) * sg;
        }
        let out = out.as_flattened_mut();
        for (o, &j) in out.iter_mut().zip(self.first.iter()) {
            *o = scratch[j as usize];
        }
        for &(p, j) in &self.second {
            out[p as usize] += scratch[j as usize];
        }
    }

    /// (stream, index) that e(j) carries.
    pub fn position(&self, j: usize) -> (usize, usize) {
        let (s, i) = self.map[j];
        (s as usize, i as usize)
    }

    /// Zeroes `out` and accumulates `out[s][i] += llr_e[j]` (repeats are soft-combined).
    /// `llr_e` is normally E long; a shorter input leaves the missing positions as erasures.
    pub fn dematch(&self, llr_e: &[f32], out: &mut [[f32; D]; 3]) {
        for s in out.iter_mut() {
            s.fill(0.0);
        }
        for (&l, &(s, i)) in llr_e.iter().zip(self.map.iter()) {
            out[s as usize][i as usize] += l;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        assert_eq!((R_SUB, K_PI, N_DUMMY, K_W, K0), (45, 1440, 28, 4320, 90));
    }

    // Spec §9.6.
    #[test]
    fn spec_9_6_interleavers() {
        let y01: Vec<usize> = (0..16).map(|k| subblock_y_index(0, k)).collect();
        assert_eq!(y01, (0..16).map(|k| 32 * k).collect::<Vec<_>>());
        let d01: Vec<Option<usize>> = (0..16).map(|k| subblock_d_index(1, k)).collect();
        let mut exp = vec![None];
        exp.extend((1..16).map(|k| Some(32 * k - 28)));
        assert_eq!(d01, exp);
        let y2: Vec<usize> = (0..16).map(|k| subblock_y_index(2, k)).collect();
        assert_eq!(y2, (0..16).map(|k| 32 * k + 1).collect::<Vec<_>>());
        let d2: Vec<Option<usize>> = (0..16).map(|k| subblock_d_index(2, k)).collect();
        let mut exp = vec![None];
        exp.extend((1..16).map(|k| Some(32 * k - 27)));
        assert_eq!(d2, exp);

        let map = selection_map();
        for j in 0..16 {
            assert_eq!(map[j], 12 + 32 * j as u32, "e({j})");
        }
        for (j, d) in [(4148, 4), (4149, 36), (4150, 68), (4151, 100)] {
            assert_eq!(map[j], d);
        }
        let nulls: Vec<usize> = (0..K_W)
            .filter(|&k| circular_buffer_entry(k).is_none())
            .collect();
        assert_eq!(nulls.len(), 84);
        assert_eq!(&nulls[..8], &[0, 45, 90, 135, 180, 225, 270, 360]);
    }

    #[test]
    fn repetition_counts() {
        let mut counts = [[0u32; D]; 3];
        for &m in selection_map().iter() {
            counts[(m >> 16) as usize][(m & 0xFFFF) as usize] += 1;
        }
        let tot: Vec<u32> = counts.iter().map(|c| c.iter().sum()).collect();
        assert_eq!(tot, vec![2736, 2232, 2232]);
        assert!(counts.iter().flatten().all(|&c| (1..=2).contains(&c)));
    }

    #[test]
    fn dematch_inverts_rate_match() {
        let mut streams = [[0u8; D]; 3];
        for (s, st) in streams.iter_mut().enumerate() {
            for (i, b) in st.iter_mut().enumerate() {
                *b = ((i * 7 + s * 3) % 5 == 0) as u8;
            }
        }
        let e = rate_match(&streams);
        let llr: Vec<f32> = e.iter().map(|&b| 1.0 - 2.0 * b as f32).collect();
        let dm = RateDematcher::new();
        let mut out = [[0f32; D]; 3];
        dm.dematch(&llr, &mut out);
        for s in 0..3 {
            for i in 0..D {
                assert!(out[s][i] != 0.0);
                assert_eq!((out[s][i] < 0.0) as u8, streams[s][i]);
            }
        }
        // Fused descramble + gather form gives the same sums.
        let c = crate::scrambler::droneid_scrambler();
        let mut scr = [0f32; E];
        for j in 0..E {
            scr[j] = if c[j] != 0 { -llr[j] } else { llr[j] };
        }
        let mut out2 = [[0f32; D]; 3];
        dm.dematch_descramble(&scr, &mut [0f32; E], &mut out2);
        assert_eq!(out, out2);
    }
}
