//! The DroneID receiver: channel search, burst detection, OFDM demodulation and decoding into frames.
#![forbid(unsafe_code)]
