//! Sample formats: little-endian interleaved I/Q, and their SigMF datatype names.

use crate::IoError;
use droneid_core::Complex32;
use std::fmt;
use std::str::FromStr;

/// Supported sample formats (complex, interleaved I then Q, little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// 32-bit floats (SigMF `cf32_le`), used as is.
    Cf32,
    /// 64-bit floats (SigMF `cf64_le`), narrowed to f32.
    Cf64,
    /// Signed 16-bit (SigMF `ci16_le`), scaled by 1/32768.
    Ci16,
    /// Signed 8-bit (SigMF `ci8`, HackRF), scaled by 1/128.
    Ci8,
    /// Unsigned 8-bit (SigMF `cu8`, RTL-SDR), `(x - 127.5) / 128`.
    Cu8,
}

/// The names `--format` accepts.
pub const SUPPORTED_FORMATS: &str = "cf32, cf64, ci16, ci8, cu8";
/// The SigMF datatypes the reader accepts.
pub const SUPPORTED_SIGMF_DATATYPES: &str = "cf32_le, cf64_le, ci16_le, ci8, cu8";

impl SampleFormat {
    /// All formats.
    pub const ALL: [SampleFormat; 5] = [
        SampleFormat::Cf32,
        SampleFormat::Cf64,
        SampleFormat::Ci16,
        SampleFormat::Ci8,
        SampleFormat::Cu8,
    ];

    /// Bytes per complex sample (I and Q).
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            SampleFormat::Cf32 => 8,
            SampleFormat::Cf64 => 16,
            SampleFormat::Ci16 => 4,
            SampleFormat::Ci8 | SampleFormat::Cu8 => 2,
        }
    }

    /// Short name (`cf32`, …), as `--format` takes it.
    pub const fn name(self) -> &'static str {
        match self {
            SampleFormat::Cf32 => "cf32",
            SampleFormat::Cf64 => "cf64",
            SampleFormat::Ci16 => "ci16",
            SampleFormat::Ci8 => "ci8",
            SampleFormat::Cu8 => "cu8",
        }
    }

    /// SigMF `core:datatype` (`cf32_le`, `cf64_le`, `ci16_le`, `ci8`, `cu8`).
    pub const fn sigmf_datatype(self) -> &'static str {
        match self {
            SampleFormat::Cf32 => "cf32_le",
            SampleFormat::Cf64 => "cf64_le",
            SampleFormat::Ci16 => "ci16_le",
            SampleFormat::Ci8 => "ci8",
            SampleFormat::Cu8 => "cu8",
        }
    }

    /// True for the float formats, which can carry NaN/Inf.
    pub const fn is_float(self) -> bool {
        matches!(self, SampleFormat::Cf32 | SampleFormat::Cf64)
    }

    /// Parses a SigMF `core:datatype`. Also accepts the short names and a missing `_le` on
    /// multi-byte types (read as little-endian). Big-endian, real-valued and other widths are
    /// [`IoError::UnsupportedDatatype`] with the reason.
    pub fn from_sigmf_datatype(datatype: &str) -> Result<Self, IoError> {
        let d = datatype.trim().to_ascii_lowercase();
        let unsupported = |reason: &str| IoError::UnsupportedDatatype {
            datatype: datatype.to_string(),
            reason: if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            },
        };
        let (core, endian_le) = if let Some(c) = d.strip_suffix("_le") {
            (c, true)
        } else if let Some(c) = d.strip_suffix("_be") {
            (c, false)
        } else {
            (d.as_str(), true)
        };
        let fmt = match core {
            "cf32" | "fc32" => SampleFormat::Cf32,
            "cf64" | "fc64" => SampleFormat::Cf64,
            "ci16" | "sc16" => SampleFormat::Ci16,
            "ci8" | "sc8" => SampleFormat::Ci8,
            "cu8" => SampleFormat::Cu8,
            c if c.starts_with('r')
                || c.starts_with('i')
                || c.starts_with('u')
                || c.starts_with('f') =>
            {
                return Err(unsupported("real-valued samples; complex I/Q is needed"))
            }
            _ => return Err(unsupported("")),
        };
        if !endian_le && fmt.bytes_per_sample() > 2 {
            return Err(unsupported("big-endian; convert to little-endian"));
        }
        Ok(fmt)
    }

    /// Decodes `bytes` (exactly `out.len() * bytes_per_sample()` of them) into `out`.
    /// Samples with a non-finite I or Q become 0 (an erasure); returns how many.
    pub fn decode(self, bytes: &[u8], out: &mut [Complex32]) -> u64 {
        debug_assert_eq!(bytes.len(), out.len() * self.bytes_per_sample());
        let mut nonfinite = 0u64;
        match self {
            SampleFormat::Cf32 => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                    let re = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    let im = f32::from_le_bytes([c[4], c[5], c[6], c[7]]);
                    *o = finite_or_zero(re, im, &mut nonfinite);
                }
            }
            SampleFormat::Cf64 => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(16)) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(&c[..8]);
                    let re = f64::from_le_bytes(a) as f32;
                    a.copy_from_slice(&c[8..]);
                    let im = f64::from_le_bytes(a) as f32;
                    // f64 values beyond f32 range become ±Inf here and are erased too.
                    *o = finite_or_zero(re, im, &mut nonfinite);
                }
            }
            SampleFormat::Ci16 => {
                const S: f32 = 1.0 / 32768.0;
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    let re = i16::from_le_bytes([c[0], c[1]]) as f32 * S;
                    let im = i16::from_le_bytes([c[2], c[3]]) as f32 * S;
                    *o = Complex32::new(re, im);
                }
            }
            SampleFormat::Ci8 => {
                const S: f32 = 1.0 / 128.0;
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = Complex32::new(c[0] as i8 as f32 * S, c[1] as i8 as f32 * S);
                }
            }
            SampleFormat::Cu8 => {
                const S: f32 = 1.0 / 128.0;
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = Complex32::new((c[0] as f32 - 127.5) * S, (c[1] as f32 - 127.5) * S);
                }
            }
        }
        nonfinite
    }

    /// Appends the encoding of `samples` to `out` (the inverse of [`decode`](Self::decode);
    /// integer formats round and saturate, NaN becomes 0).
    pub fn encode(self, samples: &[Complex32], out: &mut Vec<u8>) {
        out.reserve(samples.len() * self.bytes_per_sample());
        for s in samples {
            match self {
                SampleFormat::Cf32 => {
                    out.extend_from_slice(&s.re.to_le_bytes());
                    out.extend_from_slice(&s.im.to_le_bytes());
                }
                SampleFormat::Cf64 => {
                    out.extend_from_slice(&(s.re as f64).to_le_bytes());
                    out.extend_from_slice(&(s.im as f64).to_le_bytes());
                }
                SampleFormat::Ci16 => {
                    // `as` saturates and maps NaN to 0.
                    out.extend_from_slice(&((s.re * 32768.0).round() as i16).to_le_bytes());
                    out.extend_from_slice(&((s.im * 32768.0).round() as i16).to_le_bytes());
                }
                SampleFormat::Ci8 => {
                    out.push((s.re * 128.0).round() as i8 as u8);
                    out.push((s.im * 128.0).round() as i8 as u8);
                }
                SampleFormat::Cu8 => {
                    out.push((s.re * 128.0 + 127.5).round() as u8);
                    out.push((s.im * 128.0 + 127.5).round() as u8);
                }
            }
        }
    }
}

#[inline]
fn finite_or_zero(re: f32, im: f32, count: &mut u64) -> Complex32 {
    if re.is_finite() && im.is_finite() {
        Complex32::new(re, im)
    } else {
        *count += 1;
        Complex32::new(0.0, 0.0)
    }
}

impl fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SampleFormat {
    type Err = IoError;
    /// `cf32|cf64|ci16|ci8|cu8`, or any SigMF datatype [`from_sigmf_datatype`](Self::from_sigmf_datatype) takes.
    fn from_str(s: &str) -> Result<Self, IoError> {
        SampleFormat::from_sigmf_datatype(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        for f in SampleFormat::ALL {
            assert_eq!(f.name().parse::<SampleFormat>().unwrap(), f);
            assert_eq!(
                SampleFormat::from_sigmf_datatype(f.sigmf_datatype()).unwrap(),
                f
            );
        }
        assert_eq!(
            "CF32_LE".parse::<SampleFormat>().unwrap(),
            SampleFormat::Cf32
        );
        assert_eq!("ci8_le".parse::<SampleFormat>().unwrap(), SampleFormat::Ci8);
        assert_eq!("cu8".parse::<SampleFormat>().unwrap(), SampleFormat::Cu8);
        let e = "cf32_be".parse::<SampleFormat>().unwrap_err().to_string();
        assert!(e.contains("big-endian") && e.contains("cf32_le"), "{e}");
        let e = "rf32_le".parse::<SampleFormat>().unwrap_err().to_string();
        assert!(e.contains("real-valued"), "{e}");
        let e = "i8".parse::<SampleFormat>().unwrap_err().to_string();
        assert!(e.contains("real-valued"), "{e}");
        let e = "ci32_le".parse::<SampleFormat>().unwrap_err().to_string();
        assert!(e.contains("supported"), "{e}");
    }

    #[test]
    fn scaling() {
        let mut out = [Complex32::default(); 1];
        SampleFormat::Ci16.decode(&[0x00, 0x80, 0x00, 0x40], &mut out);
        assert_eq!(out[0], Complex32::new(-1.0, 0.5));
        SampleFormat::Ci8.decode(&[0x80, 0x40], &mut out);
        assert_eq!(out[0], Complex32::new(-1.0, 0.5));
        SampleFormat::Cu8.decode(&[0, 255], &mut out);
        assert_eq!(out[0], Complex32::new(-127.5 / 128.0, 127.5 / 128.0));
    }

    #[test]
    fn integer_formats_round_trip_every_code() {
        for f in [SampleFormat::Ci8, SampleFormat::Cu8] {
            let bytes: Vec<u8> = (0..=255u8).flat_map(|b| [b, b.wrapping_add(7)]).collect();
            let mut s = vec![Complex32::default(); 256];
            assert_eq!(f.decode(&bytes, &mut s), 0);
            let mut back = Vec::new();
            f.encode(&s, &mut back);
            assert_eq!(back, bytes, "{f}");
        }
        let bytes: Vec<u8> = (0..=u16::MAX)
            .step_by(3)
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bytes = &bytes[..bytes.len() / 4 * 4];
        let mut s = vec![Complex32::default(); bytes.len() / 4];
        SampleFormat::Ci16.decode(bytes, &mut s);
        let mut back = Vec::new();
        SampleFormat::Ci16.encode(&s, &mut back);
        assert_eq!(back, bytes);
    }

    #[test]
    fn nonfinite_erased() {
        let mut bytes = Vec::new();
        for (re, im) in [
            (1.0f32, 2.0f32),
            (f32::NAN, 0.0),
            (0.0, f32::INFINITY),
            (3.0, 4.0),
        ] {
            bytes.extend_from_slice(&re.to_le_bytes());
            bytes.extend_from_slice(&im.to_le_bytes());
        }
        let mut out = [Complex32::default(); 4];
        assert_eq!(SampleFormat::Cf32.decode(&bytes, &mut out), 2);
        assert_eq!(
            out,
            [
                Complex32::new(1.0, 2.0),
                Complex32::new(0.0, 0.0),
                Complex32::new(0.0, 0.0),
                Complex32::new(3.0, 4.0)
            ]
        );
        let mut b64 = Vec::new();
        for v in [1e300f64, 0.0, f64::NEG_INFINITY, 1.0] {
            b64.extend_from_slice(&v.to_le_bytes());
        }
        let mut out = [Complex32::default(); 2];
        assert_eq!(SampleFormat::Cf64.decode(&b64, &mut out), 2);
    }
}
