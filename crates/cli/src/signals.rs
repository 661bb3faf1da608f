//! SIGINT/SIGTERM: the first one asks the pipeline to stop (outputs are flushed, the summary
//! printed, exit 130/143); a second one ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// Flags set by the signal handlers.
#[derive(Debug, Clone)]
pub struct StopSignals {
    /// Set by either signal: the pipeline's stop flag.
    pub stop: Arc<AtomicBool>,
    sigint: Arc<AtomicBool>,
    sigterm: Arc<AtomicBool>,
}

impl StopSignals {
    /// Installs the handlers. Fails only if the OS refuses them.
    pub fn install() -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let sigint = Arc::new(AtomicBool::new(false));
        let sigterm = Arc::new(AtomicBool::new(false));
        // Order matters: the conditional exit fires only if `stop` was already set by an
        // earlier signal, so the first signal stops cleanly and the second exits at once.
        flag::register_conditional_shutdown(SIGINT, 130, stop.clone())?;
        flag::register_conditional_shutdown(SIGTERM, 143, stop.clone())?;
        flag::register(SIGINT, sigint.clone())?;
        flag::register(SIGTERM, sigterm.clone())?;
        flag::register(SIGINT, stop.clone())?;
        flag::register(SIGTERM, stop.clone())?;
        Ok(Self {
            stop,
            sigint,
            sigterm,
        })
    }

    /// Exit status for a run that a signal stopped: 130 (SIGINT) or 143 (SIGTERM).
    pub fn exit_code(&self) -> Option<u8> {
        if self.sigint.load(Ordering::Relaxed) {
            Some(130)
        } else if self.sigterm.load(Ordering::Relaxed) {
            Some(143)
        } else {
            None
        }
    }
}
