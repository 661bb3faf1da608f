//! Sample conversion in place, inside the caller's `Complex32` buffer: the crate's only
//! `unsafe`.
//!
//! [`SampleSource::read_block`](crate::SampleSource::read_block) reads the raw bytes straight
//! into the caller's buffer (no intermediate copy): cf32 at the front (then only non-finite
//! values are erased), the integer formats packed at the back of the region their samples will
//! occupy, from where they are widened forward to `Complex32`. Forward widening never
//! overwrites an input byte before it was loaded (see [`widen_in_place`]).
//!
//! Kernels: AVX2 where the CPU has it (detected once), a scalar path always. Both give
//! bit-identical results (every conversion is exact in f32); the tests compare them on seeded
//! random input and fail if the CPU has AVX2 but the AVX2 kernel did not run
//! ([`avx2_calls`]).

use std::sync::atomic::{AtomicU64, Ordering};

use droneid_core::Complex32;

use crate::SampleFormat;

/// Calls that ran an AVX2 kernel, process-wide (for the tests: proves the kernel was used).
static AVX2_CALLS: AtomicU64 = AtomicU64::new(0);

/// How many conversion calls ran an AVX2 kernel so far in this process.
#[cfg(test)]
pub(crate) fn avx2_calls() -> u64 {
    AVX2_CALLS.load(Ordering::Relaxed)
}

/// Whether the AVX2 kernels are used on this CPU.
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| std::is_x86_feature_detected!("avx2"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The bytes of `samples` (8 per sample: I then Q, native-endian f32).
pub(crate) fn as_bytes_mut(samples: &mut [Complex32]) -> &mut [u8] {
    let len = std::mem::size_of_val(samples);
    // SAFETY: `Complex32` (`num_complex::Complex<f32>`) is `#[repr(C)]` with two `f32` fields
    // and no padding, so the slice is `len` initialised bytes; every bit pattern is a valid
    // `u8` and every 4-byte pattern a valid `f32`, so writes through the byte view cannot
    // create an invalid `Complex32`. `u8` has alignment 1, and the returned slice borrows
    // `samples` mutably for its whole life, so nothing else can access it meanwhile.
    unsafe { std::slice::from_raw_parts_mut(samples.as_mut_ptr().cast::<u8>(), len) }
}

/// Little-endian cf32 samples now in `samples` (read as raw bytes): on a big-endian machine
/// byte-swaps them; then every sample with a non-finite I or Q becomes 0. Returns how many.
pub(crate) fn sanitize_cf32(samples: &mut [Complex32]) -> u64 {
    #[cfg(target_endian = "big")]
    for s in samples.iter_mut() {
        s.re = f32::from_bits(u32::from_le(s.re.to_bits()));
        s.im = f32::from_bits(u32::from_le(s.im.to_bits()));
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        AVX2_CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the CPU has AVX2 (checked above).
        return unsafe { x86::sanitize_cf32(samples) };
    }
    sanitize_scalar(samples)
}

fn sanitize_scalar(samples: &mut [Complex32]) -> u64 {
    let mut count = 0;
    for s in samples {
        if !(s.re.is_finite() && s.im.is_finite()) {
            *s = Complex32::new(0.0, 0.0);
            count += 1;
        }
    }
    count
}

/// Widens `n` packed integer samples of `format` (ci16, ci8 or cu8) that sit at byte `offset`
/// of `out` into `out[..n]`, in place, forward. Panics unless
/// `(8 − b)·n ≤ offset` and `offset + b·n ≤ 8·out.len()` (`b` = bytes per sample): then
/// widening sample `i` writes only bytes of input samples `< i + 1`, already loaded.
/// Float formats are not widened here (cf32 is read in place; cf64 needs a buffer).
pub(crate) fn widen_in_place(format: SampleFormat, out: &mut [Complex32], offset: usize, n: usize) {
    let b = format.bytes_per_sample();
    assert!(
        !format.is_float() && (8 - b) * n <= offset && offset + b * n <= 8 * out.len(),
        "widen_in_place: {format} n {n} offset {offset} len {}",
        out.len()
    );
    let base = out.as_mut_ptr().cast::<u8>();
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        AVX2_CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: AVX2 is present; `base` covers `8·out.len()` bytes of `out`, borrowed
        // mutably for this call, and the assertion above gives the kernel's layout
        // precondition (it loads each group of samples before storing its widened values).
        return unsafe { x86::widen(format, base, offset, n) };
    }
    // SAFETY: as above, without the AVX2 requirement.
    unsafe { widen_scalar(format, base, offset, 0, n) }
}

/// Scalar widening of samples `from..n` (see [`widen_in_place`]).
///
/// # Safety
/// `base` must be valid for reads and writes of `8·n` and `offset + b·n` bytes, nothing else
/// may access them during the call, and `(8 − b)·n ≤ offset`.
unsafe fn widen_scalar(format: SampleFormat, base: *mut u8, offset: usize, from: usize, n: usize) {
    let b = format.bytes_per_sample();
    for i in from..n {
        // SAFETY: input sample i lies in `offset + b·i .. offset + b·(i+1) ≤ offset + b·n`
        // and output i in `8i .. 8i + 8 ≤ 8n`, both in bounds (caller). The input is read
        // into locals before the output is written, and the output can only overlap input
        // samples ≤ i (8i + 8 ≤ offset + b·(i + 1) since (8 − b)(i + 1) ≤ (8 − b)·n ≤ offset).
        unsafe {
            let src = base.add(offset + b * i);
            let v = match format {
                SampleFormat::Ci16 => {
                    const S: f32 = 1.0 / 32768.0;
                    let re = i16::from_le_bytes([*src, *src.add(1)]);
                    let im = i16::from_le_bytes([*src.add(2), *src.add(3)]);
                    Complex32::new(f32::from(re) * S, f32::from(im) * S)
                }
                SampleFormat::Ci8 => {
                    const S: f32 = 1.0 / 128.0;
                    Complex32::new(f32::from(*src as i8) * S, f32::from(*src.add(1) as i8) * S)
                }
                SampleFormat::Cu8 => {
                    const S: f32 = 1.0 / 128.0;
                    Complex32::new(
                        (f32::from(*src) - 127.5) * S,
                        (f32::from(*src.add(1)) - 127.5) * S,
                    )
                }
                SampleFormat::Cf32 | SampleFormat::Cf64 => unreachable!("float format"),
            };
            base.add(8 * i).cast::<Complex32>().write_unaligned(v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use droneid_core::Complex32;

    use super::SampleFormat;

    /// AVX2 [`super::sanitize_scalar`]: 4 samples per step, a scalar fix-up only for groups
    /// holding a non-finite value.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn sanitize_cf32(samples: &mut [Complex32]) -> u64 {
        let mut count = 0;
        let exp = _mm256_set1_epi32(0x7f80_0000);
        let mut chunks = samples.chunks_exact_mut(4);
        for c in &mut chunks {
            // SAFETY: `c` is 4 samples = 32 bytes, readable; unaligned load.
            let v = unsafe { _mm256_loadu_si256(c.as_ptr().cast::<__m256i>()) };
            // A float is non-finite iff all its exponent bits are set.
            let bad = _mm256_cmpeq_epi32(_mm256_and_si256(v, exp), exp);
            if _mm256_movemask_epi8(bad) != 0 {
                count += super::sanitize_scalar(c);
            }
        }
        count + super::sanitize_scalar(chunks.into_remainder())
    }

    /// AVX2 [`super::widen_scalar`] over samples `0..n`, 8 samples per step.
    ///
    /// # Safety
    /// AVX2, and the conditions of [`super::widen_scalar`].
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn widen(format: SampleFormat, base: *mut u8, offset: usize, n: usize) {
        let b = format.bytes_per_sample();
        let steps = n / 8;
        for k in 0..steps {
            let i = 8 * k;
            // SAFETY: input samples i..i+8 are `b·8` bytes at `offset + b·i`, inside the
            // input (i + 8 ≤ n); output samples i..i+8 are 64 bytes at `8i`, inside the
            // output. Both input vectors are loaded before either store, and the stores can
            // only overlap input samples < i + 8 (the layout condition), so no input byte
            // is overwritten before it is read.
            unsafe {
                let src = base.add(offset + b * i);
                let (lo, hi) = match format {
                    SampleFormat::Ci16 => {
                        let a = _mm_loadu_si128(src.cast::<__m128i>());
                        let c = _mm_loadu_si128(src.add(16).cast::<__m128i>());
                        let s = _mm256_set1_ps(1.0 / 32768.0);
                        (
                            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(a)), s),
                            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(c)), s),
                        )
                    }
                    SampleFormat::Ci8 => {
                        let a = _mm_loadu_si128(src.cast::<__m128i>());
                        let s = _mm256_set1_ps(1.0 / 128.0);
                        (
                            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(a)), s),
                            _mm256_mul_ps(
                                _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(a, 8))),
                                s,
                            ),
                        )
                    }
                    SampleFormat::Cu8 => {
                        let a = _mm_loadu_si128(src.cast::<__m128i>());
                        let (m, s) = (_mm256_set1_ps(127.5), _mm256_set1_ps(1.0 / 128.0));
                        (
                            _mm256_mul_ps(
                                _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(a)), m),
                                s,
                            ),
                            _mm256_mul_ps(
                                _mm256_sub_ps(
                                    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(a, 8))),
                                    m,
                                ),
                                s,
                            ),
                        )
                    }
                    SampleFormat::Cf32 | SampleFormat::Cf64 => unreachable!("float format"),
                };
                let dst = base.add(8 * i).cast::<f32>();
                _mm256_storeu_ps(dst, lo);
                _mm256_storeu_ps(dst.add(8), hi);
            }
        }
        // SAFETY: the caller's conditions cover the remaining samples.
        unsafe { super::widen_scalar(format, base, offset, 8 * steps, n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The reference: `SampleFormat::decode` (scalar, from a separate byte buffer).
    fn reference(format: SampleFormat, bytes: &[u8]) -> (Vec<Complex32>, u64) {
        let n = bytes.len() / format.bytes_per_sample();
        let mut out = vec![Complex32::new(0.0, 0.0); n];
        let bad = format.decode(bytes, &mut out);
        (out, bad)
    }

    fn random_bytes(rng: &mut impl Rng, format: SampleFormat, n: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; n * format.bytes_per_sample()];
        rng.fill(&mut bytes[..]);
        if format == SampleFormat::Cf32 {
            // Mostly ordinary values, with NaN, ±Inf and subnormals sprinkled in.
            for c in bytes.chunks_exact_mut(4) {
                let v: f32 = match rng.gen_range(0..40) {
                    0 => f32::NAN,
                    1 => f32::INFINITY,
                    2 => f32::NEG_INFINITY,
                    3 => f32::from_bits(rng.gen_range(1..0x0080_0000)),
                    _ => rng.gen_range(-2.0..2.0),
                };
                c.copy_from_slice(&v.to_le_bytes());
            }
        }
        bytes
    }

    /// What `read_block` does: bytes into the caller's buffer, converted in place.
    fn in_place(format: SampleFormat, bytes: &[u8], extra: usize) -> (Vec<Complex32>, u64) {
        let b = format.bytes_per_sample();
        let n = bytes.len() / b;
        let mut out = vec![Complex32::new(7.0, 7.0); n + extra];
        if format == SampleFormat::Cf32 {
            as_bytes_mut(&mut out)[..8 * n].copy_from_slice(bytes);
            let bad = sanitize_cf32(&mut out[..n]);
            return (out[..n].to_vec(), bad);
        }
        let offset = (8 - b) * (n + extra);
        as_bytes_mut(&mut out)[offset..offset + b * n].copy_from_slice(bytes);
        widen_in_place(format, &mut out, offset, n);
        (out[..n].to_vec(), 0)
    }

    fn same(a: &[Complex32], b: &[Complex32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.re.to_bits() == y.re.to_bits() && x.im.to_bits() == y.im.to_bits())
    }

    #[test]
    fn in_place_kernels_match_the_scalar_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_0015);
        let before = avx2_calls();
        for format in [
            SampleFormat::Cf32,
            SampleFormat::Ci16,
            SampleFormat::Ci8,
            SampleFormat::Cu8,
        ] {
            for n in [0usize, 1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 1000, 4099] {
                for extra in [0usize, 1, 5] {
                    let bytes = random_bytes(&mut rng, format, n);
                    let (want, want_bad) = reference(format, &bytes);
                    let (got, got_bad) = in_place(format, &bytes, extra);
                    assert!(same(&got, &want), "{format} n {n} extra {extra}");
                    assert_eq!(got_bad, want_bad, "{format} n {n}");
                }
            }
            // The scalar paths too, on the same kind of input.
            let bytes = random_bytes(&mut rng, format, 777);
            let (want, want_bad) = reference(format, &bytes);
            let mut out = vec![Complex32::new(0.0, 0.0); 777];
            if format == SampleFormat::Cf32 {
                as_bytes_mut(&mut out).copy_from_slice(&bytes);
                assert_eq!(sanitize_scalar(&mut out), want_bad);
            } else {
                let offset = (8 - format.bytes_per_sample()) * 777;
                as_bytes_mut(&mut out)[offset..].copy_from_slice(&bytes);
                // SAFETY: the buffer is `out`'s 8·777 bytes, input packed at its back.
                unsafe { widen_scalar(format, out.as_mut_ptr().cast(), offset, 0, 777) };
            }
            assert!(same(&out, &want), "scalar {format}");
        }
        let used = avx2_calls() - before;
        if has_avx2() {
            assert!(used > 0, "the CPU has AVX2 but no AVX2 kernel ran");
        } else {
            eprintln!("no AVX2 on this CPU: only the scalar kernels were tested");
        }
    }

    #[test]
    #[should_panic(expected = "widen_in_place")]
    fn widening_refuses_a_layout_that_would_overwrite_its_input() {
        let mut out = vec![Complex32::new(0.0, 0.0); 16];
        // ci16 input at the front: widening sample 0 would clobber sample 1 before it is read.
        widen_in_place(SampleFormat::Ci16, &mut out, 0, 16);
    }
}
