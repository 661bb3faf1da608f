//! DroneID numerology (spec §2): LTE 10 MHz downlink numbers at the 15.36 MS/s base rate.

/// Base sample rate of a DroneID burst, samples per second (spec §2.1).
pub const BASE_SAMPLE_RATE_HZ: f64 = 15_360_000.0;
/// Lowest input sample rate decoded, Hz: a 4 MS/s capture holds about 240 of the 600 carriers
/// (the rest are erasures), which the rate-0.196 turbo code still decodes at moderate SNR.
pub const MIN_SAMPLE_RATE_HZ: f64 = 4_000_000.0;
/// Subcarrier spacing in Hz.
pub const SUBCARRIER_SPACING_HZ: f64 = 15_000.0;
/// FFT length at the base rate.
pub const FFT_LEN: usize = 1024;
/// Number of used (non-DC) subcarriers, k = -300..=-1 and +1..=+300.
pub const NUM_CARRIERS: usize = 600;
/// Long cyclic prefix at the base rate (samples).
pub const CP_LONG: usize = 80;
/// Short cyclic prefix at the base rate (samples).
pub const CP_SHORT: usize = 72;
/// Occupied bandwidth of a burst, Hz (601 × 15 kHz). Used for the in-band SNR definition.
pub const OCCUPIED_BANDWIDTH_HZ: f64 = 9_015_000.0;
/// Coded bits per burst (6 data symbols × 600 carriers × 2 bits).
pub const CODED_BITS: usize = 7200;
/// Coded bits per data symbol.
pub const BITS_PER_SYMBOL: usize = 1200;
/// Transport block length in bytes (record + filler + CRC24).
pub const TRANSPORT_BLOCK_BYTES: usize = 176;
/// Zadoff–Chu sequence length.
pub const ZC_LEN: usize = 601;
/// Root of the first Zadoff–Chu pilot symbol.
pub const ZC_ROOT_FIRST: u32 = 600;
/// Root of the second Zadoff–Chu pilot symbol.
pub const ZC_ROOT_SECOND: u32 = 147;
/// Distance between the useful parts of the two ZC symbols at the base rate (samples).
pub const ZC_SPACING: usize = 2192;

/// Subcarrier index k (signed, DC = 0) of carrier slot `i` in 0..600 (spec §2.2).
///
/// Panics (debug) if `i >= 600`.
#[inline]
pub const fn carrier_k(i: usize) -> i32 {
    debug_assert!(i < NUM_CARRIERS);
    if i < 300 {
        i as i32 - 300
    } else {
        i as i32 - 299
    }
}

/// FFT bin of carrier slot `i` for an `fft_len`-point FFT with bin 0 = DC.
#[inline]
pub const fn carrier_bin(i: usize, fft_len: usize) -> usize {
    let k = carrier_k(i);
    if k < 0 {
        (fft_len as i32 + k) as usize
    } else {
        k as usize
    }
}

/// What a symbol of a burst carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// Symbol 0 of a 9-symbol burst: QPSK of the scrambler sequence c(0..1200).
    ScramblerPilot,
    /// Data block `0..6` (1200 coded bits each).
    Data(u8),
    /// Zadoff–Chu pilot with the given root.
    ZadoffChu(u32),
}

/// Burst format: 9 symbols (OcuSync 2) or 8 symbols ("legacy", symbol 0 absent), spec §2.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BurstFormat {
    /// 9 symbols, CPs [80, 72×7, 80]: 9880 samples at 15.36 MS/s.
    Nine,
    /// 8 symbols, CPs [72×7, 80] (KZ/P17 schedule): 8776 samples.
    Eight,
    /// 8 symbols, CPs [80, 72×6, 80] (RUB schedule): 8784 samples.
    EightLongFirstCp,
}

const KINDS_9: [SymbolKind; 9] = [
    SymbolKind::ScramblerPilot,
    SymbolKind::Data(0),
    SymbolKind::Data(1),
    SymbolKind::ZadoffChu(ZC_ROOT_FIRST),
    SymbolKind::Data(2),
    SymbolKind::ZadoffChu(ZC_ROOT_SECOND),
    SymbolKind::Data(3),
    SymbolKind::Data(4),
    SymbolKind::Data(5),
];
const L: usize = CP_LONG;
const S: usize = CP_SHORT;
const CPS_9: [usize; 9] = [L, S, S, S, S, S, S, S, L];
const CPS_8: [usize; 8] = [S, S, S, S, S, S, S, L];
const CPS_8_LONG: [usize; 8] = [L, S, S, S, S, S, S, L];

impl BurstFormat {
    /// Number of OFDM symbols (9 or 8).
    pub const fn num_symbols(self) -> usize {
        match self {
            BurstFormat::Nine => 9,
            BurstFormat::Eight | BurstFormat::EightLongFirstCp => 8,
        }
    }

    /// Cyclic prefix lengths at the base rate, one per symbol.
    pub const fn cp_lengths(self) -> &'static [usize] {
        match self {
            BurstFormat::Nine => &CPS_9,
            BurstFormat::Eight => &CPS_8,
            BurstFormat::EightLongFirstCp => &CPS_8_LONG,
        }
    }

    /// What each symbol carries, in time order.
    pub fn symbol_kinds(self) -> &'static [SymbolKind] {
        match self {
            BurstFormat::Nine => &KINDS_9,
            BurstFormat::Eight | BurstFormat::EightLongFirstCp => &KINDS_9[1..],
        }
    }

    /// Burst length in samples at the base rate (9880, 8776 or 8784).
    pub fn len_base(self) -> usize {
        self.cp_lengths().iter().map(|cp| cp + FFT_LEN).sum()
    }

    /// Offset (base-rate samples) from the burst start to the first sample of symbol `s`'s
    /// cyclic prefix.
    pub fn symbol_start(self, s: usize) -> usize {
        self.cp_lengths()[..s].iter().map(|cp| cp + FFT_LEN).sum()
    }

    /// Offset (base-rate samples) from the burst start to the useful part of symbol `s`.
    pub fn useful_start(self, s: usize) -> usize {
        self.symbol_start(s) + self.cp_lengths()[s]
    }

    /// Index of the first ZC (root 600) symbol: 3 for 9-symbol, 2 for 8-symbol bursts.
    pub const fn first_zc_symbol(self) -> usize {
        match self {
            BurstFormat::Nine => 3,
            _ => 2,
        }
    }

    /// Offset from burst start to the useful part of the root-600 ZC symbol (3368 / 2264 / 2272).
    pub fn zc_first_useful_offset(self) -> usize {
        self.useful_start(self.first_zc_symbol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_lengths_match_spec() {
        assert_eq!(BurstFormat::Nine.len_base(), 9880);
        assert_eq!(BurstFormat::Eight.len_base(), 8776);
        assert_eq!(BurstFormat::EightLongFirstCp.len_base(), 8784);
        assert_eq!(BurstFormat::Nine.zc_first_useful_offset(), 3368);
        assert_eq!(BurstFormat::Eight.zc_first_useful_offset(), 2264);
        assert_eq!(BurstFormat::EightLongFirstCp.zc_first_useful_offset(), 2272);
        assert_eq!(
            BurstFormat::Nine.useful_start(5) - BurstFormat::Nine.useful_start(3),
            ZC_SPACING
        );
        assert_eq!(BurstFormat::Nine.symbol_start(8), 8776);
    }

    #[test]
    fn carrier_mapping_matches_spec_table() {
        assert_eq!(carrier_bin(0, 1024), 724);
        assert_eq!(carrier_bin(299, 1024), 1023);
        assert_eq!(carrier_bin(300, 1024), 1);
        assert_eq!(carrier_bin(599, 1024), 300);
        assert_eq!(carrier_bin(0, 4096), 3796);
    }
}
