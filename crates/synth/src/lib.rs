//! The DroneID transmitter: records -> bursts -> captures at any rate with impairments and ground truth.
#![forbid(unsafe_code)]
