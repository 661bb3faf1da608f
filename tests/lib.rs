//! Whole-pipeline tests live beside this file (`tests/*.rs` as `[[test]]` targets).
#![forbid(unsafe_code)]
