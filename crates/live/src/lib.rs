//! Live input for `droneid`: SoapySDR receivers as a [`BlockSource`], device listing, channel
//! scanning and one SigMF recording per detected burst.
//!
//! * [`list_devices`] / [`devices_table`]: what `droneid devices` prints (driver, label, serial,
//!   and per receive channel the sample-rate and frequency ranges, gains, antennas, formats).
//! * [`SoapySource`]: opens a device from a [`LiveConfig`] after checking every setting against
//!   what the device offers (an error names the device's actual ranges or choices), then streams
//!   CF32, or CS16 converted to [`Complex32`] (half the bus bandwidth). Overflows become
//!   [`SourceRead::lost_before`] at sample-accurate positions when the device timestamps its
//!   samples; a stream error or a lost device becomes [`SourceError::Io`].
//! * Scan mode ([`ScanConfig`]): hops over centre frequencies ([`scan_centers`] picks them so that
//!   every DroneID channel of a band lies inside one of them), dwells, locks while frames keep
//!   arriving (reported through the shared [`ScanFeedback`]) and discards the samples of each
//!   retune's settling time, reporting them as lost.
//! * [`write_burst_sigmf`]: one SigMF recording of a burst with its margins and an annotation.
//! * [`route_soapy_log`]: SoapySDR's (and its modules') log lines through our handler: warnings
//!   and errors shown, the rest only when verbose.
//!
//! ```no_run
//! use droneid_engine::BlockSource;
//! use droneid_live::{LiveConfig, SoapySource};
//!
//! let mut cfg = LiveConfig::new("driver=replay,file=capture.sigmf-meta", 61.44e6);
//! cfg.center_freq_hz = Some(2444.5e6);
//! let mut source = SoapySource::open(&cfg)?;
//! let mut buf = vec![droneid_core::Complex32::new(0.0, 0.0); 1 << 16];
//! let read = source.read_block(&mut buf)?;
//! println!("{} samples at {:?} Hz, {} lost before", read.samples, read.center_freq_hz, read.lost_before);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Without hardware, the SoapySDR module in `scripts/soapy-replay` (built by `scripts/setup.sh`
//! into `target/soapy/`, loaded with `SOAPY_SDR_PLUGIN_PATH`) serves recordings as a device.
#![forbid(unsafe_code)]

mod devices;
mod error;
mod record;
mod scan;
mod soapy_log;
mod source;

pub use devices::{devices_table, list_devices, ChannelInfo, DeviceInfo};
pub use droneid_core::Complex32;
pub use droneid_engine::{BlockSource, SourceDescription, SourceError, SourceRead};
pub use error::LiveError;
pub use record::{burst_file_stem, write_burst_sigmf, BurstAnnotation};
pub use scan::{
    parse_scan, scan_centers, ScanConfig, ScanFeedback, CHANNELS_2G4_HZ, CHANNELS_5G8_HZ,
    DEFAULT_DWELL_S, DEFAULT_SETTLE_S,
};
pub use soapy_log::route_soapy_log;
pub use source::{
    fmt_ranges, Gain, LiveConfig, SoapySource, SourceStatus, StreamFormat, READ_TIMEOUT_US,
};
