//! Sample sources (raw cf32/cf64/ci16/ci8, SigMF, stdin) read in bounded blocks, and SigMF writing.
#![forbid(unsafe_code)]
