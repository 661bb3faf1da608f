//! The line-rate receiver pipeline (work in progress: see `source` for the stable source API).
#![forbid(unsafe_code)]

pub mod source;

pub use source::{BlockSource, SourceDescription, SourceError, SourceRead};
