use thiserror::Error;

/// Configuration errors of the DSP kernels. Processing methods never fail; they panic only on
/// documented caller bugs (output slices that are too short).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DspError {
    /// A rate or frequency is NaN, infinite, or out of its valid range.
    #[error("{name} = {value} is out of range: {reason}")]
    OutOfRange {
        /// The parameter name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What was expected.
        reason: &'static str,
    },
    /// Passband edge not below stopband edge.
    #[error("passband {passband_hz} Hz must be below stopband {stopband_hz} Hz")]
    BadTransition {
        /// One-sided passband edge in Hz.
        passband_hz: f64,
        /// One-sided stopband edge in Hz.
        stopband_hz: f64,
    },
    /// The filter needs more taps than the implementation allows.
    #[error("filter would need {taps} taps per phase (limit {limit})")]
    TooManyTaps {
        /// Taps per phase required.
        taps: usize,
        /// Limit.
        limit: usize,
    },
}
