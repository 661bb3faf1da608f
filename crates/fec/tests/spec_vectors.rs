//! Spec §9 vectors for the encoder chain (§9.7 end-to-end frame, §9.1 real block).

use droneid_fec::crc::{crc16_dji, crc24a};
use droneid_fec::ratematch::{subblock_d_index, K_PI};
use droneid_fec::{
    append_crc24, bytes_to_bits, encode_and_scramble, encode_block, pack_bits, scrambler, turbo,
    Backend, BlockDecoder, DecodeOutcome, DecoderConfig, BLOCK_BYTES, D, E, K, PAYLOAD_BYTES,
};
use sha2::{Digest, Sha256};

/// Spec §9.7: the 91-byte record.
const RECORD_HEX: &str =
    "5810023412371f54455354534e3030303030303030303116b3230087de8b00640019009600b5ff\
140094110068e5cf8b0100002ede8b006fb2230081b223003fde8b003f00000000000000000000\
0000000000000000000000a8b4";

/// Spec §9.1 / shared/signals/expected.jsonl line 1: a real over-the-air block (type 0x11).
const REAL_BLOCK_HEX: &str = "8d11334e5a43484351303034335856310000ccaa02000000000000000000000000000000000000000000000000000000\
000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000041c3\
586098e0a1cc18cbd7a4299b883e240b4308f4488925093845742faffe7ef9c0";

/// expected.jsonl line 2: KZ's synthetic 8-symbol burst block (CRC24 valid, KZ's CRC16 bug).
const KZ_BLOCK_HEX: &str = "58100239300000536b7973656e73653030303030303030d9d52f006e329e005900e8030c007b000200b004a81a058084\
010000d5319e0090d32f0050d22f004e339e004413303132333435363738396162636465666768690000ce3400000000\
000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
00000000000000000000000000000000000000000000000000000000004dfdc5";

fn hex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn bitstr(bits: &[u8]) -> String {
    bits.iter().map(|b| char::from(b'0' + b)).collect()
}

fn hex64(bits: &[u8]) -> u64 {
    bits[..64]
        .iter()
        .fold(0u64, |acc, &b| (acc << 1) | b as u64)
}

fn sha256_bits(bits: &[u8; E]) -> String {
    let mut bytes = [0u8; E / 8];
    pack_bits(bits, &mut bytes);
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn spec_block() -> [u8; BLOCK_BYTES] {
    let record = hex(RECORD_HEX);
    assert_eq!(record.len(), 91);
    let mut payload = [0u8; PAYLOAD_BYTES];
    payload[..91].copy_from_slice(&record);
    append_crc24(&payload)
}

#[test]
fn spec_9_7_crcs() {
    let record = hex(RECORD_HEX);
    assert_eq!(crc16_dji(&record[..89]), 0xB4A8);
    assert_eq!(&record[89..91], &[0xa8, 0xb4]);
    assert_eq!(crc16_dji(&record), 0, "CRC16 residue");
    let block = spec_block();
    assert_eq!(crc24a(&block[..PAYLOAD_BYTES]), 0x725C08);
    assert_eq!(&block[PAYLOAD_BYTES..], &[0x72, 0x5c, 0x08]);
    assert_eq!(crc24a(&block), 0);
}

#[test]
fn spec_9_7_turbo_streams() {
    let block = spec_block();
    let mut bits = [0u8; K];
    bytes_to_bits(&block, &mut bits);
    let d = turbo::encode(&bits);
    assert_eq!(&d[0][..K], &bits[..]);
    assert_eq!(bitstr(&d[1][..16]), "0110100000011110");
    assert_eq!(bitstr(&d[2][..16]), "0111100101111101");
    assert_eq!(bitstr(&d[0][K..D]), "0000");
    assert_eq!(bitstr(&d[1][K..D]), "0011");
    assert_eq!(bitstr(&d[2][K..D]), "0011");
}

#[test]
fn spec_9_7_rate_matched_and_scrambled() {
    let block = spec_block();
    let e = encode_block(&block);
    assert_eq!(hex64(&e), 0x0184_8200_0000_01D8);
    assert_eq!(
        sha256_bits(&e),
        "d6235566d1d012b8d50ca14a2c10c18fa132cea8d5d3c8669ece2aab371880d3"
    );
    let ep = encode_and_scramble(&block);
    assert_eq!(hex64(&ep), 0xD365_5C79_4FEF_0AA8);
    assert_eq!(
        sha256_bits(&ep),
        "a5f8ed6977eea853d596ba7da1a88ec5499a7cda310fe85bada380df403a3c1c"
    );
    let c = scrambler::droneid_scrambler();
    assert!((0..E).all(|j| ep[j] == e[j] ^ c[j]));
}

/// RUB shortcut (spec §4.5, §9.7): descrambled e'(4148..5559) is the systematic stream in
/// sub-block-interleaved order.
#[test]
fn spec_9_7_rub_shortcut() {
    let block = spec_block();
    let ep = encode_and_scramble(&block);
    let c = scrambler::droneid_scrambler();
    let sys: Vec<u8> = (4148..5560).map(|j| ep[j] ^ c[j]).collect();
    let mut d0 = [0u8; D];
    let mut n = 0;
    for k in 0..K_PI {
        if let Some(i) = subblock_d_index(0, k) {
            d0[i] = sys[n];
            n += 1;
        }
    }
    assert_eq!(n, D);
    let mut bytes = [0u8; BLOCK_BYTES];
    pack_bits(&d0[..K], &mut bytes);
    assert_eq!(bytes, block);
}

#[test]
fn spec_9_1_real_block_crcs() {
    let b = hex(REAL_BLOCK_HEX);
    assert_eq!(b.len(), BLOCK_BYTES);
    assert_eq!(crc24a(&b), 0);
    // L = 0x8d: CRC16 over bytes 0..=141, stored little-endian at 142..143.
    assert_eq!(b[0], 0x8d);
    let crc = crc16_dji(&b[..142]);
    assert_eq!(crc.to_le_bytes(), [b[142], b[143]]);
    assert_eq!(crc16_dji(&b[..144]), 0);

    let kz = hex(KZ_BLOCK_HEX);
    assert_eq!(kz.len(), BLOCK_BYTES);
    assert_eq!(crc24a(&kz), 0);
}

/// The real block survives encode → noiseless LLRs → decode on every backend.
#[test]
fn real_block_roundtrip() {
    let block: [u8; BLOCK_BYTES] = hex(REAL_BLOCK_HEX).try_into().unwrap();
    let tx = encode_and_scramble(&block);
    let llr: Vec<f32> = tx
        .iter()
        .map(|&b| if b == 0 { 8.0 } else { -8.0 })
        .collect();
    let llr: [f32; E] = llr.try_into().unwrap();
    for backend in [Backend::Scalar, Backend::Auto] {
        let cfg = DecoderConfig {
            backend,
            ..DecoderConfig::default()
        };
        let mut dec = BlockDecoder::new(&cfg).unwrap();
        let mut out = [0u8; BLOCK_BYTES];
        assert_eq!(
            dec.decode(&llr, &mut out),
            DecodeOutcome::Decoded { iterations: 1 }
        );
        assert_eq!(out, block);
    }
}
