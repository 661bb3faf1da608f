//! Shared helpers for the FEC integration tests: random blocks and an AWGN channel.
#![allow(dead_code)]

use droneid_fec::{append_crc24, encode_and_scramble, encode_block, BLOCK_BYTES, E, PAYLOAD_BYTES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Random 173-byte payload + CRC24A.
pub fn random_block(rng: &mut impl Rng) -> [u8; BLOCK_BYTES] {
    let mut p = [0u8; PAYLOAD_BYTES];
    rng.fill(&mut p[..]);
    append_crc24(&p)
}

/// Noise variance per real dimension for a unit-amplitude BPSK bit at the given Es/N0
/// (Es = QPSK symbol energy: each QPSK symbol = 2 such bits, so σ² = N0/Es = 10^(−Es/N0/10)).
pub fn sigma2(es_n0_db: f64) -> f64 {
    10f64.powf(-es_n0_db / 10.0)
}

/// BPSK x = 1 − 2b over AWGN, LLR = 2y/σ² (positive = bit 0).
pub fn awgn_llr(bits: &[u8], es_n0_db: f64, rng: &mut impl Rng, out: &mut [f32]) {
    let s2 = sigma2(es_n0_db);
    let sigma = s2.sqrt();
    for (o, &b) in out.iter_mut().zip(bits) {
        let n: f64 = StandardNormal.sample(rng);
        let y = (1.0 - 2.0 * b as f64) + sigma * n;
        *o = (2.0 * y / s2) as f32;
    }
}

/// A random block and the LLRs of its scrambled rate-matched bits at `es_n0_db`.
pub fn noisy_frame(es_n0_db: f64, rng: &mut impl Rng) -> ([u8; BLOCK_BYTES], [f32; E]) {
    let block = random_block(rng);
    let tx = encode_and_scramble(&block);
    let mut llr = [0f32; E];
    awgn_llr(&tx, es_n0_db, rng, &mut llr);
    (block, llr)
}

/// Noiseless, perfectly confident LLRs (±`mag`) of bits.
pub fn clean_llr(bits: &[u8], mag: f32) -> Vec<f32> {
    bits.iter()
        .map(|&b| if b == 0 { mag } else { -mag })
        .collect()
}

pub fn unscrambled(block: &[u8; BLOCK_BYTES]) -> [u8; E] {
    encode_block(block)
}

/// Whether this CPU has AVX2 (asked of the CPU, not of the decoder, so that a decoder that
/// falls back to scalar on an AVX2 machine fails the tests instead of skipping them).
pub fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
