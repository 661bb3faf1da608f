//! `droneid_fec::BlockDecoder` on arbitrary 7200-LLR arrays (NaN, ±Inf, huge, subnormal values
//! included): never a panic, and a block reported as decoded always passes its CRC24A.
#![no_main]

use droneid_fec::{BlockDecoder, DecoderConfig, BLOCK_BYTES, E};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    static DECODER: RefCell<BlockDecoder> =
        RefCell::new(BlockDecoder::new(&DecoderConfig::default()).expect("decoder"));
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    // Input bytes become f32 LLRs, 4 bytes each, repeated cyclically to fill 7200 values, so a
    // short input (e.g. one NaN) still covers the whole block.
    let mut llr = Box::new([0f32; E]);
    let words: Vec<f32> = data
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            f32::from_le_bytes(b)
        })
        .collect();
    for (i, v) in llr.iter_mut().enumerate() {
        *v = words[i % words.len()];
    }
    let mut block = [0u8; BLOCK_BYTES];
    let outcome = DECODER.with(|d| d.borrow_mut().decode(&llr, &mut block));
    if outcome.is_ok() {
        assert_eq!(
            droneid_fec::crc::crc24a(&block),
            0,
            "decoded block fails CRC24A"
        );
    }
});
