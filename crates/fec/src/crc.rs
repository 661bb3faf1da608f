//! CRCs of the DroneID chain.
//!
//! * CRC24A (TS 36.212 §5.1.1): polynomial 0x864CFB, init 0, no reflection, no final XOR;
//!   spec §4.1. Appended big-endian, the CRC over the whole 176-byte block is 0.
//! * DJI CRC16 (spec §5.2): polynomial 0x1021 processed reflected (0x8408), init 0x3692,
//!   no final XOR. Stored little-endian; the CRC over data + stored CRC is 0.

const fn crc24a_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 16;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 0x80_0000 != 0 {
                (crc << 1) ^ 0x86_4CFB
            } else {
                crc << 1
            };
            b += 1;
        }
        table[i] = crc & 0xFF_FFFF;
        i += 1;
    }
    table
}

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
            b += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC24A_TABLE: [u32; 256] = crc24a_table();
static CRC16_TABLE: [u16; 256] = crc16_table();

/// CRC24A of `data` (bytes taken MSB first). Returns a 24-bit value.
pub fn crc24a(data: &[u8]) -> u32 {
    let mut crc: u32 = 0;
    for &byte in data {
        let idx = ((crc >> 16) as u8 ^ byte) as usize;
        crc = ((crc << 8) ^ CRC24A_TABLE[idx]) & 0xFF_FFFF;
    }
    crc
}

/// Initial value of the DJI CRC16.
pub const CRC16_DJI_INIT: u16 = 0x3692;

/// DJI CRC16 of `data` (reflected 0x1021, init 0x3692, no final XOR).
pub fn crc16_dji(data: &[u8]) -> u16 {
    let mut crc = CRC16_DJI_INIT;
    for &byte in data {
        crc = (crc >> 8) ^ CRC16_TABLE[((crc ^ byte as u16) & 0xFF) as usize];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    // Spec §9.3.
    #[test]
    fn crc24a_check_values() {
        assert_eq!(crc24a(b"123456789"), 0xCDE703);
        assert_eq!(crc24a(&[0x58, 0x10, 0x02]), 0x2F0258);
        let mut with_crc = b"123456789".to_vec();
        with_crc.extend_from_slice(&[0xCD, 0xE7, 0x03]);
        assert_eq!(crc24a(&with_crc), 0);
    }

    #[test]
    fn crc16_check_values() {
        assert_eq!(crc16_dji(b"123456789"), 0x7109);
        assert_eq!(crc16_dji(&[0x58, 0x10, 0x02]), 0x2D11);
        let mut with_crc = b"123456789".to_vec();
        with_crc.extend_from_slice(&[0x09, 0x71]);
        assert_eq!(crc16_dji(&with_crc), 0);
    }
}
