//! The SigMF metadata parser of `droneid-io` on arbitrary bytes: an error or a value, never a
//! panic; a value always has a datatype (the one required field).
#![no_main]

use droneid_io::parse_sigmf_meta;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    match parse_sigmf_meta(data, Path::new("fuzz.sigmf-meta")) {
        Ok(meta) => {
            // Must not panic either: the datatype check that open_input applies next.
            let _ = droneid_io::SampleFormat::from_sigmf_datatype(&meta.datatype);
        }
        Err(e) => {
            // Error messages are one line.
            let text = e.to_string();
            assert!(!text.is_empty());
        }
    }
});
