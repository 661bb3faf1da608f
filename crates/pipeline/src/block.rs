//! [`SampleBlock`]: the unit that moves between the first pipeline stages.
//!
//! A block is a fixed-capacity buffer of complex baseband samples allocated once (by a
//! [`BlockPool`](crate::pool::BlockPool)) and then re-filled for its whole life: whole blocks
//! travel through the rings, never single samples.
#![forbid(unsafe_code)]

use droneid_core::Complex32;

/// Flags carried by a [`SampleBlock`] (a small bit set, `Copy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BlockFlags(u32);

impl BlockFlags {
    /// No flag set.
    pub const NONE: Self = Self(0);
    /// Samples were lost immediately before this block (device overflow or a dropped block);
    /// [`SampleBlock::lost_before`] says how many.
    pub const DISCONTINUITY: Self = Self(1 << 0);
    /// The source reported an overflow while filling this block.
    pub const OVERFLOW: Self = Self(1 << 1);
    /// Last block of a finite source.
    pub const END_OF_STREAM: Self = Self(1 << 2);

    /// `true` if every flag of `other` is set in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }
    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: Self) {
        self.0 &= !other.0;
    }
    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl std::ops::BitOr for BlockFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A pooled block of complex samples with absolute position metadata.
///
/// Invariant: `len() <= capacity()`; only `samples()[..len()]` is meaningful, the rest of
/// the buffer holds whatever the previous user left there.
#[derive(Debug, Clone)]
pub struct SampleBlock {
    /// Absolute index (since the start of the capture) of the first sample, in samples.
    pub start_sample: u64,
    /// Sequence number of the block as produced by its source (0, 1, 2, ...; gaps mean
    /// blocks were dropped).
    pub seq: u64,
    /// Samples lost between the previous block and this one (0 when contiguous).
    pub lost_before: u64,
    /// Status flags.
    pub flags: BlockFlags,
    len: usize,
    data: Box<[Complex32]>,
}

impl SampleBlock {
    /// Allocates a zeroed block able to hold `capacity` samples, with `len() == 0`.
    pub fn new(capacity: usize) -> Self {
        Self {
            start_sample: 0,
            seq: 0,
            lost_before: 0,
            flags: BlockFlags::NONE,
            len: 0,
            data: vec![Complex32::new(0.0, 0.0); capacity].into_boxed_slice(),
        }
    }

    /// Samples the buffer can hold.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Valid samples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Marks the first `len` samples of the buffer as valid.
    ///
    /// # Panics
    /// If `len > capacity()`.
    pub fn set_len(&mut self, len: usize) {
        assert!(
            len <= self.data.len(),
            "SampleBlock::set_len({len}) beyond capacity {}",
            self.data.len()
        );
        self.len = len;
    }

    /// The valid samples.
    pub fn samples(&self) -> &[Complex32] {
        &self.data[..self.len]
    }

    /// The valid samples, mutably (for in-place processing).
    pub fn samples_mut(&mut self) -> &mut [Complex32] {
        &mut self.data[..self.len]
    }

    /// The whole buffer, for a source to fill; follow with [`SampleBlock::set_len`].
    pub fn buffer_mut(&mut self) -> &mut [Complex32] {
        &mut self.data
    }

    /// Index one past the last valid sample (`start_sample + len`).
    pub fn end_sample(&self) -> u64 {
        self.start_sample + self.len as u64
    }

    /// Clears the metadata and `len` (not the samples) so a recycled block starts clean.
    pub fn reset(&mut self) {
        self.start_sample = 0;
        self.seq = 0;
        self.lost_before = 0;
        self.flags = BlockFlags::NONE;
        self.len = 0;
    }

    /// Copies `src` into the start of the buffer and sets `len`.
    ///
    /// # Panics
    /// If `src.len() > capacity()`.
    pub fn fill_from(&mut self, src: &[Complex32]) {
        self.set_len(src.len());
        self.data[..src.len()].copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_and_flags() {
        let mut b = SampleBlock::new(8);
        assert_eq!(b.capacity(), 8);
        assert!(b.is_empty());
        b.fill_from(&[Complex32::new(1.0, 2.0); 3]);
        b.start_sample = 100;
        assert_eq!(b.samples().len(), 3);
        assert_eq!(b.end_sample(), 103);
        b.flags
            .insert(BlockFlags::OVERFLOW | BlockFlags::DISCONTINUITY);
        assert!(b.flags.contains(BlockFlags::OVERFLOW));
        b.flags.remove(BlockFlags::OVERFLOW);
        assert!(!b.flags.contains(BlockFlags::OVERFLOW));
        assert!(b.flags.contains(BlockFlags::DISCONTINUITY));
        b.reset();
        assert!(b.is_empty());
        assert_eq!(b.flags, BlockFlags::NONE);
        assert_eq!(b.capacity(), 8);
    }

    #[test]
    #[should_panic(expected = "beyond capacity")]
    fn set_len_beyond_capacity_panics() {
        SampleBlock::new(4).set_len(5);
    }
}
