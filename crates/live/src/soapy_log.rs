//! SoapySDR's log through our own logging: modules (UHD, SoapyRemote's avahi browser, audio
//! devices, …) log banners and chatter through SoapySDR's logger, which by default prints every
//! line on stderr. [`route_soapy_log`] installs a handler instead: warnings and errors are
//! always shown, prefixed `soapysdr:`; notices, info and debug lines only when verbose.

use std::sync::atomic::{AtomicBool, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};

static VERBOSE: AtomicBool = AtomicBool::new(false);
static LOGGER: SoapyLogger = SoapyLogger;

struct SoapyLogger;

impl Log for SoapyLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target().starts_with("soapysdr")
            && (m.level() <= Level::Warn || VERBOSE.load(Ordering::Relaxed))
    }

    fn log(&self, r: &Record<'_>) {
        if self.enabled(r.metadata()) {
            let level = match r.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            eprintln!("soapysdr: {level}: {}", r.args().to_string().trim_end());
        }
    }

    fn flush(&self) {}
}

/// Routes SoapySDR's log (modules included) through the handler described in the module
/// documentation; `verbose` shows everything down to debug. Call before the first SoapySDR
/// call that loads modules (listing or opening devices). Calling it again only changes
/// `verbose`.
pub fn route_soapy_log(verbose: bool) {
    VERBOSE.store(verbose, Ordering::Relaxed);
    // Fails only when a logger is already installed (ours, from an earlier call).
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(if verbose {
        LevelFilter::Debug
    } else {
        LevelFilter::Warn
    });
    soapysdr::configure_logging();
}
