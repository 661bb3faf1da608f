//! The 176-byte transport block (spec §4.1, §5.1).

use crate::PayloadError;
use droneid_fec::crc::crc24a;

/// Bytes in a transport block, CRC24A included.
pub const TRANSPORT_BLOCK_BYTES: usize = 176;
/// End (exclusive) of the record + filler area; the CRC24A covers bytes `0..FILLER_END`.
pub const FILLER_END: usize = 173;
/// Offset of the big-endian CRC24A.
pub const BLOCK_CRC_OFFSET: usize = 173;

/// Builds a transport block from a logical record (at most 173 bytes) and an optional filler,
/// then appends the CRC24A big-endian at bytes 173..176.
///
/// `filler` semantics:
/// * `None`: bytes `record.len()..173` are zero (what public transmitters send);
/// * `Some(f)` with `f.len() == 173 - record.len()`: `f` supplies bytes `record.len()..173` exactly
///   (what [`crate::ParsedMessage::filler`] returns, so parse → build reproduces a block);
/// * `Some(f)` with `f.len() == 173`: `f` is a whole block pre-image and only its bytes
///   `record.len()..173` are used (the record overrides the rest).
///
/// Any other filler length is [`PayloadError::FillerLength`].
pub fn build_transport_block(
    record: &[u8],
    filler: Option<&[u8]>,
) -> Result<[u8; TRANSPORT_BLOCK_BYTES], PayloadError> {
    if record.len() > FILLER_END {
        return Err(PayloadError::RecordTooLong { len: record.len() });
    }
    let mut block = [0u8; TRANSPORT_BLOCK_BYTES];
    block[..record.len()].copy_from_slice(record);
    if let Some(f) = filler {
        let expected = FILLER_END - record.len();
        if f.len() == expected {
            block[record.len()..FILLER_END].copy_from_slice(f);
        } else if f.len() == FILLER_END {
            block[record.len()..FILLER_END].copy_from_slice(&f[record.len()..]);
        } else {
            return Err(PayloadError::FillerLength {
                got: f.len(),
                expected,
                record_len: record.len(),
            });
        }
    }
    let crc = crc24a(&block[..FILLER_END]);
    block[BLOCK_CRC_OFFSET..].copy_from_slice(&crc.to_be_bytes()[1..]);
    Ok(block)
}

/// True when the CRC24A over bytes 0..173 equals the big-endian value at 173..176.
pub fn block_crc24_ok(block: &[u8; TRANSPORT_BLOCK_BYTES]) -> bool {
    crc24a(block) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc24_appended_and_checked() {
        let block = build_transport_block(&[0x58, 0x10, 0x02], None).unwrap();
        assert!(block_crc24_ok(&block));
        let stored = u32::from_be_bytes([0, block[173], block[174], block[175]]);
        assert_eq!(stored, crc24a(&block[..173]));
        let mut bad = block;
        bad[10] ^= 1;
        assert!(!block_crc24_ok(&bad));
    }

    #[test]
    fn filler_forms() {
        let rec = [1u8, 2, 3];
        let tail: Vec<u8> = (0..170).map(|i| i as u8).collect();
        let a = build_transport_block(&rec, Some(&tail)).unwrap();
        assert_eq!(&a[3..173], &tail[..]);
        let mut whole = vec![0xEEu8; 3];
        whole.extend_from_slice(&tail);
        let b = build_transport_block(&rec, Some(&whole)).unwrap();
        assert_eq!(a, b);
        assert_eq!(&b[..3], &rec);
        assert_eq!(
            build_transport_block(&rec, Some(&[0u8; 5])),
            Err(PayloadError::FillerLength {
                got: 5,
                expected: 170,
                record_len: 3
            })
        );
        assert_eq!(
            build_transport_block(&[0u8; 174], None),
            Err(PayloadError::RecordTooLong { len: 174 })
        );
        // A full-length record leaves no filler; an empty filler is then accepted.
        assert!(build_transport_block(&[0u8; 173], Some(&[])).is_ok());
    }
}
