//! DroneID forward error correction: Gold scrambler, CRC24A, DJI CRC16, LTE turbo
//! encoder/decoder (scalar reference + AVX2), rate matching (spec §3.3, §4).
//!
//! Conventions (spec §0): bytes become bits MSB first; bit vectors hold one bit (0/1) per
//! `u8`; LLRs are `L = ln(P(b=0)/P(b=1))`, so a positive LLR means bit 0.
//!
//! `unsafe` is confined to `turbo/avx2.rs` (SIMD intrinsics, loads/stores): denied everywhere
//! else.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod crc;
mod decoder;
pub mod ratematch;
pub mod scrambler;
pub mod turbo;

pub use decoder::{Backend, BlockDecoder, DecodeOutcome, DecoderConfig, FecError};

/// Turbo code block size (information bits incl. the CRC24), spec §4.2.
pub const K: usize = 1408;
/// Length of each turbo encoder output stream (K + 4 tail positions).
pub const D: usize = K + 4;
/// Rate-matched length (6 symbols × 600 carriers × 2 bits).
pub const E: usize = 7200;
/// Transport block size in bytes (incl. CRC24).
pub const BLOCK_BYTES: usize = K / 8;
/// Payload bytes before the CRC24.
pub const PAYLOAD_BYTES: usize = BLOCK_BYTES - 3;

/// Unpacks bytes into bits, MSB first. `out.len()` must be `8 * bytes.len()`.
pub fn bytes_to_bits(bytes: &[u8], out: &mut [u8]) {
    assert_eq!(out.len(), bytes.len() * 8, "bit buffer length");
    for (byte, bits) in bytes.iter().zip(out.chunks_exact_mut(8)) {
        for (b, bit) in bits.iter_mut().enumerate() {
            *bit = (byte >> (7 - b)) & 1;
        }
    }
}

/// Packs bits (0/1, any non-zero counts as 1) into bytes, MSB first.
/// `out.len()` must be `bits.len() / 8` (bits.len() a multiple of 8).
pub fn pack_bits(bits: &[u8], out: &mut [u8]) {
    assert_eq!(bits.len(), out.len() * 8, "bit buffer length");
    for (byte, chunk) in out.iter_mut().zip(bits.chunks_exact(8)) {
        *byte = chunk
            .iter()
            .fold(0u8, |acc, &b| (acc << 1) | (b != 0) as u8);
    }
}

/// Whole transmit chain for one 176-byte transport block (bytes incl. its CRC24):
/// turbo encode + rate match, returns e (7200 bits, 0/1), NOT scrambled.
pub fn encode_block(block: &[u8; BLOCK_BYTES]) -> [u8; E] {
    let mut bits = [0u8; K];
    bytes_to_bits(block, &mut bits);
    let streams = turbo::encode(&bits);
    ratematch::rate_match(&streams)
}

/// `encode_block` XOR scrambler: e' as it goes onto QPSK.
pub fn encode_and_scramble(block: &[u8; BLOCK_BYTES]) -> [u8; E] {
    let mut e = encode_block(block);
    for (b, c) in e.iter_mut().zip(scrambler::droneid_scrambler().iter()) {
        *b ^= c;
    }
    e
}

/// Adds the CRC24A (big-endian) to 173 payload bytes.
pub fn append_crc24(payload: &[u8; PAYLOAD_BYTES]) -> [u8; BLOCK_BYTES] {
    let mut block = [0u8; BLOCK_BYTES];
    block[..PAYLOAD_BYTES].copy_from_slice(payload);
    let crc = crc::crc24a(payload);
    block[PAYLOAD_BYTES] = (crc >> 16) as u8;
    block[PAYLOAD_BYTES + 1] = (crc >> 8) as u8;
    block[PAYLOAD_BYTES + 2] = crc as u8;
    block
}
