//! Burst modulator at the 15.36 MS/s base rate (spec §2.3, §2.5, §3.2).
//!
//! [`burst_carrier_symbols`] gives the frequency-domain content of every symbol (usable at any
//! sample rate); [`BaseRateModulator`] turns it into 15.36 MS/s time samples with a 1024-point
//! IFFT and cyclic prefixes. Scaling: each carrier has unit modulus and the time signal is
//! scaled by 1/√600, so the mean power of a burst sample is 1.0.

use std::sync::Arc;

use droneid_core::{
    carrier_bin, BurstFormat, Complex32, SymbolKind, BITS_PER_SYMBOL, CODED_BITS, FFT_LEN,
    NUM_CARRIERS,
};
use rustfft::{Fft, FftPlanner};

use crate::{qpsk_map, zc_carriers};

/// Carrier vectors (slot order, 600 each) of every symbol of a burst, in time order.
///
/// `scrambled_bits` is e' (7200 bits, 0/1) and `scrambler` is c(0..1200) for the symbol-0 pilot
/// of 9-symbol bursts (spec §3.3).
pub fn burst_carrier_symbols(
    format: BurstFormat,
    scrambled_bits: &[u8; CODED_BITS],
    scrambler_first_1200: &[u8],
) -> Vec<[Complex32; NUM_CARRIERS]> {
    assert!(scrambler_first_1200.len() >= BITS_PER_SYMBOL);
    format
        .symbol_kinds()
        .iter()
        .map(|kind| {
            let mut carriers = [Complex32::new(0.0, 0.0); NUM_CARRIERS];
            match *kind {
                SymbolKind::ScramblerPilot => {
                    qpsk_map(&scrambler_first_1200[..BITS_PER_SYMBOL], &mut carriers)
                }
                SymbolKind::Data(b) => {
                    let b = b as usize;
                    qpsk_map(
                        &scrambled_bits[b * BITS_PER_SYMBOL..(b + 1) * BITS_PER_SYMBOL],
                        &mut carriers,
                    )
                }
                SymbolKind::ZadoffChu(root) => carriers = zc_carriers(root),
            }
            carriers
        })
        .collect()
}

/// 15.36 MS/s burst modulator: 1024-point IFFT per symbol plus cyclic prefix.
pub struct BaseRateModulator {
    ifft: Arc<dyn Fft<f32>>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl Default for BaseRateModulator {
    fn default() -> Self {
        Self::new()
    }
}

impl BaseRateModulator {
    /// Plans the IFFT and allocates scratch once.
    pub fn new() -> Self {
        let ifft = FftPlanner::new().plan_fft_inverse(FFT_LEN);
        let scratch = vec![Complex32::new(0.0, 0.0); ifft.get_inplace_scratch_len()];
        Self {
            ifft,
            buf: vec![Complex32::new(0.0, 0.0); FFT_LEN],
            scratch,
        }
    }

    /// Time-domain useful part (1024 samples, no CP) of one symbol given its 600 carriers.
    pub fn symbol_time(&mut self, carriers: &[Complex32; NUM_CARRIERS], out: &mut [Complex32]) {
        assert_eq!(out.len(), FFT_LEN);
        self.buf.fill(Complex32::new(0.0, 0.0));
        for (i, c) in carriers.iter().enumerate() {
            self.buf[carrier_bin(i, FFT_LEN)] = *c;
        }
        self.ifft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let scale = 1.0 / (NUM_CARRIERS as f32).sqrt();
        for (o, v) in out.iter_mut().zip(&self.buf) {
            *o = v * scale;
        }
    }

    /// Whole burst at 15.36 MS/s: `format.len_base()` samples.
    pub fn modulate(
        &mut self,
        format: BurstFormat,
        scrambled_bits: &[u8; CODED_BITS],
        scrambler_first_1200: &[u8],
    ) -> Vec<Complex32> {
        let symbols = burst_carrier_symbols(format, scrambled_bits, scrambler_first_1200);
        let mut out = Vec::with_capacity(format.len_base());
        let mut useful = vec![Complex32::new(0.0, 0.0); FFT_LEN];
        for (carriers, &cp) in symbols.iter().zip(format.cp_lengths()) {
            self.symbol_time(carriers, &mut useful);
            out.extend_from_slice(&useful[FFT_LEN - cp..]);
            out.extend_from_slice(&useful);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_has_spec_length_and_unit_power() {
        let bits = [0u8; CODED_BITS];
        let scr = vec![1u8; BITS_PER_SYMBOL];
        let mut m = BaseRateModulator::new();
        for f in [
            BurstFormat::Nine,
            BurstFormat::Eight,
            BurstFormat::EightLongFirstCp,
        ] {
            let x = m.modulate(f, &bits, &scr);
            assert_eq!(x.len(), f.len_base());
            let p: f32 = x.iter().map(|v| v.norm_sqr()).sum::<f32>() / x.len() as f32;
            // Unit-modulus carriers scaled by 1/sqrt(600): mean power 1 (CP samples repeat useful ones).
            assert!((p - 1.0).abs() < 0.1, "power {p}");
            // Cyclic prefix equals the tail of the useful part.
            let cp0 = f.cp_lengths()[0];
            for n in 0..cp0 {
                assert!((x[n] - x[n + FFT_LEN]).norm() < 1e-5);
            }
        }
    }
}
