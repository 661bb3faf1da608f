//! `droneid_payload::parse_block` on arbitrary 176-byte blocks and `parse_bytes` on arbitrary
//! lengths: never a panic, and the parsed value is consistent with the bytes it came from.
#![no_main]

use droneid_payload::{
    block_crc24_ok, parse_block, parse_bytes, MessageBody, FILLER_END, TRANSPORT_BLOCK_BYTES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Any length: a transport block when exactly 176 bytes, else a bare record.
    let any = parse_bytes(data);
    if let Some(m) = &any {
        assert!(m.message.len() + m.filler.len() == FILLER_END);
        assert!(!data.is_empty());
    }
    // The same bytes as a whole block (zero-padded or truncated to 176).
    let mut block = [0u8; TRANSPORT_BLOCK_BYTES];
    let n = data.len().min(TRANSPORT_BLOCK_BYTES);
    block[..n].copy_from_slice(&data[..n]);
    let m = parse_block(&block);
    assert_eq!(m.crc24_ok, block_crc24_ok(&block));
    assert_eq!(m.pkt_len, block[0]);
    assert_eq!(m.msg_type, block[1]);
    assert_eq!(m.message.len() + m.filler.len(), FILLER_END);
    assert_eq!(&block[..m.message.len()], &m.message[..]);
    let fits = block[0] as usize + 3 <= FILLER_END;
    assert_eq!(m.crc16_stored.is_some(), fits);
    assert!(!m.crc16_ok || fits);
    if !fits {
        assert!(matches!(m.body, MessageBody::Unknown));
    }
    // The JSON fields and the serial number must not panic either (non-UTF-8 serials,
    // out-of-range coordinates, …).
    let json = m.json_fields();
    let _ = serde_json::to_string(&json);
    let _ = m.serial_number();
});
