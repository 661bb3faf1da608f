//! Allocation-free DSP kernels: NCO/rotator, FIR design and filtering, polyphase rational resampler, FFT correlators.
#![forbid(unsafe_code)]
