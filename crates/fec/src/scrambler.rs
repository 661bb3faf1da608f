//! LTE Gold pseudo-random sequence (TS 36.211 §7.2), spec §3.3.

use std::sync::OnceLock;

/// DroneID scrambler initial value.
pub const DRONEID_C_INIT: u32 = 0x1234_5678;
/// Gold sequence offset.
pub const NC: usize = 1600;

/// Gold sequence c(0..len) for `c_init` (bits 0/1), Nc = 1600.
pub fn gold_sequence(c_init: u32, len: usize) -> Vec<u8> {
    let total = NC + len + 31;
    let mut x1 = vec![0u8; total];
    let mut x2 = vec![0u8; total];
    x1[0] = 1;
    for (i, x) in x2.iter_mut().enumerate().take(31) {
        *x = ((c_init >> i) & 1) as u8;
    }
    for n in 0..total - 31 {
        x1[n + 31] = x1[n + 3] ^ x1[n];
        x2[n + 31] = x2[n + 3] ^ x2[n + 2] ^ x2[n + 1] ^ x2[n];
    }
    (0..len).map(|n| x1[n + NC] ^ x2[n + NC]).collect()
}

/// The 7200-bit DroneID scrambler c(0..7199), computed once.
pub fn droneid_scrambler() -> &'static [u8; 7200] {
    static SEQ: OnceLock<[u8; 7200]> = OnceLock::new();
    SEQ.get_or_init(|| {
        let v = gold_sequence(DRONEID_C_INIT, 7200);
        let mut a = [0u8; 7200];
        a.copy_from_slice(&v);
        a
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex64(bits: &[u8]) -> u64 {
        bits[..64]
            .iter()
            .fold(0u64, |acc, &b| (acc << 1) | b as u64)
    }

    // Spec §9.2.
    #[test]
    fn spec_9_2_vectors() {
        let c = droneid_scrambler();
        let s: String = c[..64].iter().map(|b| char::from(b'0' + b)).collect();
        assert_eq!(
            s,
            "1101001011100001110111100111100101001111111011110000101101110000"
        );
        assert_eq!(hex64(&c[..]), 0xD2E1_DE79_4FEF_0B70);
        let s: String = c[1200..1264].iter().map(|b| char::from(b'0' + b)).collect();
        assert_eq!(
            s,
            "1000111000100101101000011011111000001100000010100011010000100000"
        );
        assert_eq!(c.iter().map(|&b| b as usize).sum::<usize>(), 3614);
        assert_eq!(&gold_sequence(DRONEID_C_INIT, 100)[..], &c[..100]);
    }
}
