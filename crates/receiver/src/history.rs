//! A bounded ring of the most recent input samples, addressed by absolute sample index, from which
//! the burst receiver copies the samples around a candidate.

use droneid_core::Complex32;

/// Ring buffer of the last `capacity` samples of a stream.
pub struct SampleHistory {
    buf: Vec<Complex32>,
    /// Absolute index one past the newest sample.
    end: u64,
}

impl SampleHistory {
    /// Allocates room for `capacity` samples (≥ 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![Complex32::new(0.0, 0.0); capacity.max(1)],
            end: 0,
        }
    }

    /// Samples held at most.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Absolute index one past the newest sample pushed.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Absolute index of the oldest sample still held.
    pub fn start(&self) -> u64 {
        self.end.saturating_sub(self.buf.len() as u64)
    }

    /// Appends `block` (the stream's next samples).
    pub fn push(&mut self, block: &[Complex32]) {
        let cap = self.buf.len();
        let block = if block.len() > cap {
            self.end += (block.len() - cap) as u64;
            &block[block.len() - cap..]
        } else {
            block
        };
        let mut pos = (self.end % cap as u64) as usize;
        let mut rest = block;
        while !rest.is_empty() {
            let n = (cap - pos).min(rest.len());
            self.buf[pos..pos + n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            pos = (pos + n) % cap;
        }
        self.end += block.len() as u64;
    }

    /// Copies samples `start .. start + out.len()` (absolute, may be negative) into `out`;
    /// positions not held (before the stream, evicted, or not yet pushed) are zero.
    /// Returns how many samples were really available.
    pub fn extract(&self, start: i64, out: &mut [Complex32]) -> usize {
        let cap = self.buf.len() as i64;
        let lo = self.start() as i64;
        let hi = self.end as i64;
        let mut available = 0;
        for (i, o) in out.iter_mut().enumerate() {
            let idx = start + i as i64;
            if idx >= lo && idx < hi {
                *o = self.buf[idx.rem_euclid(cap) as usize];
                available += 1;
            } else {
                *o = Complex32::new(0.0, 0.0);
            }
        }
        available
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_zero_fills() {
        let mut h = SampleHistory::new(10);
        let data: Vec<Complex32> = (0..25).map(|i| Complex32::new(i as f32, 0.0)).collect();
        for chunk in data.chunks(7) {
            h.push(chunk);
        }
        assert_eq!(h.start(), 15);
        let mut out = vec![Complex32::new(9.0, 9.0); 14];
        let got = h.extract(13, &mut out);
        assert_eq!(got, 10);
        assert_eq!(out[0].re, 0.0);
        assert_eq!(out[2].re, 15.0);
        assert_eq!(out[11].re, 24.0);
        assert_eq!(out[12].re, 0.0);
        assert_eq!(h.extract(-5, &mut out[..3]), 0);
        let mut big = SampleHistory::new(4);
        big.push(&data);
        let mut o = [Complex32::new(0.0, 0.0); 4];
        assert_eq!(big.extract(21, &mut o), 4);
        assert_eq!(o[3].re, 24.0);
    }
}
