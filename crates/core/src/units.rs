//! Parsing of rates and frequencies written by people: `15.36e6`, `15360000`, `15.36M`, `2.4G`, `500k`.

/// Why a rate or frequency string was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseHzError {
    /// The text is not a number with an optional k/M/G suffix.
    #[error("'{0}' is not a frequency: write e.g. 15.36e6, 15360000 or 15.36M")]
    NotANumber(String),
    /// The number is NaN or infinite.
    #[error("'{0}' is not a finite number")]
    NotFinite(String),
}

/// Parses `15.36e6`, `15360000`, `15.36M`, `15.36MHz`, `2.4G`, `500k` into hertz.
///
/// Negative values are accepted (frequency offsets); range checks are the caller's.
pub fn parse_hz(text: &str) -> Result<f64, ParseHzError> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let stripped = lower
        .strip_suffix("hz")
        .or_else(|| lower.strip_suffix("sps"))
        .or_else(|| lower.strip_suffix("s/s"))
        .unwrap_or(&lower)
        .trim_end();
    let (num, mult) = match stripped.chars().last() {
        Some('k') => (&stripped[..stripped.len() - 1], 1e3),
        Some('m') => (&stripped[..stripped.len() - 1], 1e6),
        Some('g') => (&stripped[..stripped.len() - 1], 1e9),
        _ => (stripped, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| ParseHzError::NotANumber(text.to_string()))?;
    let v = v * mult;
    if !v.is_finite() {
        return Err(ParseHzError::NotFinite(text.to_string()));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_hz("15.36e6").unwrap(), 15.36e6);
        assert_eq!(parse_hz("15360000").unwrap(), 15.36e6);
        assert!((parse_hz("15.36M").unwrap() - 15.36e6).abs() < 1e-6);
        assert!((parse_hz("2.4295GHz").unwrap() - 2.4295e9).abs() < 1e-3);
        assert_eq!(parse_hz("-500k").unwrap(), -500e3);
        assert!(parse_hz("fast").is_err());
        assert!(parse_hz("nan").is_err());
        assert!(parse_hz("").is_err());
    }
}
