//! Allocation-free DSP kernels for the DroneID receiver.
//!
//! * [`Rotator`]: a phase-continuous NCO / frequency shifter (phase kept in `f64`).
//! * [`fir`]: Kaiser-windowed-sinc low-pass design ([`design_lowpass`],
//!   [`kaiser_beta_for_attenuation`], [`kaiser_num_taps`]).
//! * [`ChannelResampler`]: mix a channel to DC, low-pass it and resample it to any rate
//!   `≤` the input rate with a polyphase filter bank (exact phases for small rational
//!   ratios, linearly interpolated phases otherwise).
//! * [`FftCorrelator`]: streaming overlap-save correlation with a known template.
//! * [`SpectralExcisor`]: short-time FFT excision of narrowband interference.
//! * [`remove_significant_dc`]: subtract a receiver's DC offset when it stands out of the noise.
//!
//! Every processing method takes slices and never allocates; constructors allocate all
//! scratch once.
//!
//! ```
//! use droneid_dsp::{ChannelResampler, ResamplerConfig};
//! use droneid_core::Complex32;
//!
//! let cfg = ResamplerConfig {
//!     input_rate_hz: 61.44e6,
//!     output_rate_hz: 15.36e6,
//!     center_offset_hz: 10e6,
//!     passband_hz: 4.6e6,
//!     stopband_hz: 7.0e6,
//!     attenuation_db: 60.0,
//! };
//! let mut rs = ChannelResampler::new(&cfg).unwrap();
//! let input = vec![Complex32::new(0.0, 0.0); 8192];
//! let mut out = vec![Complex32::new(0.0, 0.0); rs.max_output_len(input.len())];
//! let produced = rs.process(&input, &mut out);
//! assert_eq!(produced, 2048);
//! // Output sample k is the filtered, mixed input at input time
//! // k * ratio - delay_input_samples().
//! let t = rs.output_to_input_index(1000);
//! assert!((t - (1000.0 * 4.0 - rs.delay_input_samples())).abs() < 1e-9);
//! ```
// `unsafe` is denied everywhere except `kernels` (AVX2 intrinsics behind run-time detection).
#![deny(unsafe_code)]

pub use droneid_core::Complex32;

mod complex;
pub mod correlator;
mod error;
pub mod excision;
pub mod fir;
pub mod kernels;
pub mod resampler;
pub mod rotator;

pub use complex::remove_significant_dc;
pub use correlator::FftCorrelator;
pub use error::DspError;
pub use excision::SpectralExcisor;
pub use fir::{design_lowpass, kaiser_beta_for_attenuation, kaiser_num_taps};
pub use kernels::Backend;
pub use resampler::{ChannelResampler, ResamplerConfig};
pub use rotator::Rotator;
