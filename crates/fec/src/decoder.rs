//! Receive chain for one burst (spec §4.5): descramble, soft de-rate-match, turbo decode,
//! CRC24A check.

use crate::ratematch::RateDematcher;
use crate::turbo::scalar::ScalarTurbo;
use crate::{BLOCK_BYTES, D, E};

/// Turbo decoder implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// AVX2 if the CPU has it, else scalar.
    Auto,
    /// Portable f32 max-log-MAP.
    Scalar,
    /// x86-64 AVX2 window-parallel i16 max-log-MAP.
    Avx2,
}

/// Decoder settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Maximum number of full turbo iterations (both constituent decoders). Must be ≥ 1.
    pub max_iterations: u32,
    /// Implementation to use.
    pub backend: Backend,
    /// Stop as soon as the CRC24A over the hard decisions is 0 (checked after each iteration).
    pub early_stop: bool,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            max_iterations: 8,
            backend: Backend::Auto,
            early_stop: true,
        }
    }
}

/// Result of decoding one block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DecodeOutcome {
    /// CRC24A passed after `iterations` full iterations.
    Decoded { iterations: u32 },
    /// CRC24A still failing after `iterations` full iterations (block_out holds the hard
    /// decisions anyway). `iterations` is 0 when the input carried no information at all
    /// (every LLR zero or non-finite): the all-zero block would otherwise pass its CRC.
    CrcFailed { iterations: u32 },
}

impl DecodeOutcome {
    /// True for `Decoded`.
    pub fn is_ok(&self) -> bool {
        matches!(self, DecodeOutcome::Decoded { .. })
    }
    /// Iterations used.
    pub fn iterations(&self) -> u32 {
        match *self {
            DecodeOutcome::Decoded { iterations } | DecodeOutcome::CrcFailed { iterations } => {
                iterations
            }
        }
    }
}

/// Errors of the FEC crate.
#[derive(Debug, thiserror::Error)]
pub enum FecError {
    /// `Backend::Avx2` requested on a CPU (or target) without AVX2.
    #[error("AVX2 backend requested but this CPU/target does not support AVX2")]
    Avx2Unavailable,
    /// Invalid decoder configuration.
    #[error("invalid decoder configuration: {0}")]
    InvalidConfig(&'static str),
}

enum Engine {
    Scalar(Box<ScalarTurbo>),
    #[cfg(target_arch = "x86_64")]
    Avx2(Box<crate::turbo::avx2::Avx2Turbo>),
}

/// Turbo block decoder. Allocation-free after [`BlockDecoder::new`]; reusable across blocks
/// (no state leaks from one block into the next).
pub struct BlockDecoder {
    cfg: DecoderConfig,
    dematcher: RateDematcher,
    scratch: Box<[f32; E]>,
    streams: Box<[[f32; D]; 3]>,
    engine: Engine,
}

impl std::fmt::Debug for BlockDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockDecoder")
            .field("cfg", &self.cfg)
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl BlockDecoder {
    /// Builds a decoder; resolves `Backend::Auto` at construction.
    pub fn new(cfg: &DecoderConfig) -> Result<Self, FecError> {
        if cfg.max_iterations == 0 {
            return Err(FecError::InvalidConfig("max_iterations must be >= 1"));
        }
        let engine = match cfg.backend {
            Backend::Scalar => Engine::Scalar(Box::new(ScalarTurbo::new())),
            Backend::Avx2 => Self::avx2_engine().ok_or(FecError::Avx2Unavailable)?,
            Backend::Auto => {
                Self::avx2_engine().unwrap_or_else(|| Engine::Scalar(Box::new(ScalarTurbo::new())))
            }
        };
        Ok(Self {
            cfg: cfg.clone(),
            dematcher: RateDematcher::new(),
            scratch: Box::new([0.0; E]),
            streams: Box::new([[0.0; D]; 3]),
            engine,
        })
    }

    #[cfg(target_arch = "x86_64")]
    fn avx2_engine() -> Option<Engine> {
        crate::turbo::avx2::Avx2Turbo::new().map(|t| Engine::Avx2(Box::new(t)))
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn avx2_engine() -> Option<Engine> {
        None
    }

    /// The resolved backend (Scalar or Avx2).
    pub fn backend(&self) -> Backend {
        match self.engine {
            Engine::Scalar(_) => Backend::Scalar,
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2(_) => Backend::Avx2,
        }
    }

    /// Receive chain for one burst: `llr_scrambled` = 7200 LLRs of e' (as demapped from
    /// QPSK). Descrambles, soft de-rate-matches, turbo decodes, checks the CRC24A.
    /// Non-finite LLRs are treated as erasures (0).
    pub fn decode(
        &mut self,
        llr_scrambled: &[f32; E],
        block_out: &mut [u8; BLOCK_BYTES],
    ) -> DecodeOutcome {
        self.dematcher
            .dematch_descramble(llr_scrambled, &mut self.scratch, &mut self.streams);
        run_engine(&mut self.engine, &self.cfg, &self.streams, block_out)
    }

    /// Lower level: decodes already de-rate-matched streams (A0 systematic, A1, A2 parity,
    /// tail positions per spec §4.3).
    pub fn decode_streams(
        &mut self,
        streams: &[[f32; D]; 3],
        block_out: &mut [u8; BLOCK_BYTES],
    ) -> DecodeOutcome {
        run_engine(&mut self.engine, &self.cfg, streams, block_out)
    }
}

fn run_engine(
    engine: &mut Engine,
    cfg: &DecoderConfig,
    streams: &[[f32; D]; 3],
    block_out: &mut [u8; BLOCK_BYTES],
) -> DecodeOutcome {
    // No information at all (all LLRs zero or non-finite): the all-zero block is a valid
    // codeword with CRC24 = 0, so "decoding" erasures would falsely pass. Report a failure.
    if !streams.iter().flatten().any(|&x| x.is_finite() && x != 0.0) {
        block_out.fill(0);
        return DecodeOutcome::CrcFailed { iterations: 0 };
    }
    let (max_it, es) = (cfg.max_iterations, cfg.early_stop);
    let (iterations, ok) = match engine {
        Engine::Scalar(t) => t.decode(streams, max_it, es, block_out),
        #[cfg(target_arch = "x86_64")]
        Engine::Avx2(t) => t.decode(streams, max_it, es, block_out),
    };
    if ok {
        DecodeOutcome::Decoded { iterations }
    } else {
        DecodeOutcome::CrcFailed { iterations }
    }
}
