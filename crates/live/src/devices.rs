//! Device enumeration for `droneid devices`.

use soapysdr::{Device, Direction};

use crate::source::{fmt_hz_ranges, fmt_ranges};
use crate::LiveError;

/// One receive channel of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelInfo {
    /// Channel number (`--channel`).
    pub index: usize,
    /// Sample-rate ranges, (min, max) S/s.
    pub sample_rate_ranges: Vec<(f64, f64)>,
    /// Centre-frequency ranges, (min, max) Hz.
    pub freq_ranges: Vec<(f64, f64)>,
    /// Overall gain range (min, max, step) dB.
    pub gain_range: (f64, f64, f64),
    /// Named gain elements.
    pub gains: Vec<String>,
    /// Automatic gain control available (`--agc`).
    pub agc: bool,
    /// Antenna names (`--antenna`).
    pub antennas: Vec<String>,
    /// Stream formats (CF32, CS16, ...).
    pub formats: Vec<String>,
}

/// One device found by SoapySDR.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// Device string that opens exactly this device (`driver=...,serial=...`).
    pub args: String,
    /// Driver key.
    pub driver: String,
    /// Human-readable label.
    pub label: String,
    /// Serial number, when the driver gives one.
    pub serial: String,
    /// Receive channels; empty when the device could not be opened (see `open_error`).
    pub channels: Vec<ChannelInfo>,
    /// Why the device could not be opened to read its ranges (busy, permissions, ...).
    pub open_error: Option<String>,
}

/// Every device matching `filter` (a SoapySDR device string; "" for all), opened one by one to
/// read its receive channels' ranges.
pub fn list_devices(filter: &str) -> Result<Vec<DeviceInfo>, LiveError> {
    let found = soapysdr::enumerate(filter)
        .map_err(|e| LiveError::soapy(format!("enumerating SoapySDR devices '{filter}'"), e))?;
    let mut out = Vec::new();
    for args in found {
        let get = |k: &str| args.get(k).unwrap_or("").to_string();
        // Identify the device by driver and serial when it has one, else by everything found.
        let open_args = if !get("serial").is_empty() && get("driver") != "replay" {
            format!("driver={},serial={}", get("driver"), get("serial"))
        } else {
            args.iter()
                .filter(|(k, _)| *k != "label")
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut info = DeviceInfo {
            args: open_args,
            driver: get("driver"),
            label: get("label"),
            serial: get("serial"),
            channels: Vec::new(),
            open_error: None,
        };
        match Device::new(args) {
            Ok(dev) => match channels(&dev) {
                Ok(ch) => info.channels = ch,
                Err(e) => info.open_error = Some(e.to_string()),
            },
            Err(e) => info.open_error = Some(e.to_string()),
        }
        out.push(info);
    }
    Ok(out)
}

fn channels(dev: &Device) -> Result<Vec<ChannelInfo>, soapysdr::Error> {
    let n = dev.num_channels(Direction::Rx)?;
    let mut v = Vec::with_capacity(n);
    for ch in 0..n {
        let rates = dev.get_sample_rate_range(Direction::Rx, ch)?;
        let freqs = dev.frequency_range(Direction::Rx, ch)?;
        let g = dev.gain_range(Direction::Rx, ch)?;
        v.push(ChannelInfo {
            index: ch,
            sample_rate_ranges: rates.iter().map(|r| (r.minimum, r.maximum)).collect(),
            freq_ranges: freqs.iter().map(|r| (r.minimum, r.maximum)).collect(),
            gain_range: (g.minimum, g.maximum, g.step),
            gains: dev.list_gains(Direction::Rx, ch)?,
            agc: dev.has_gain_mode(Direction::Rx, ch)?,
            antennas: dev.antennas(Direction::Rx, ch)?,
            formats: dev
                .stream_formats(Direction::Rx, ch)?
                .iter()
                .map(|f| f.to_string())
                .collect(),
        });
    }
    Ok(v)
}

/// The devices as a table for humans: one block per device, one line per receive channel.
pub fn devices_table(devices: &[DeviceInfo]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if devices.is_empty() {
        s.push_str("no SoapySDR devices found (is the driver module installed? SOAPY_SDR_PLUGIN_PATH adds module folders)\n");
        return s;
    }
    for (i, d) in devices.iter().enumerate() {
        let _ = writeln!(
            s,
            "[{i}] {}  driver={}  serial={}",
            if d.label.is_empty() {
                "(no label)"
            } else {
                &d.label
            },
            d.driver,
            if d.serial.is_empty() { "-" } else { &d.serial }
        );
        let _ = writeln!(s, "    --device \"{}\"", d.args);
        if let Some(e) = &d.open_error {
            let _ = writeln!(s, "    could not open it to read its ranges: {e}");
            continue;
        }
        if d.channels.is_empty() {
            let _ = writeln!(s, "    no receive channels");
        }
        for c in &d.channels {
            let rates: Vec<_> = c
                .sample_rate_ranges
                .iter()
                .map(|&(a, b)| soapysdr::Range {
                    minimum: a,
                    maximum: b,
                    step: 0.0,
                })
                .collect();
            let freqs: Vec<_> = c
                .freq_ranges
                .iter()
                .map(|&(a, b)| soapysdr::Range {
                    minimum: a,
                    maximum: b,
                    step: 0.0,
                })
                .collect();
            let _ = writeln!(
                s,
                "    channel {}: rate {}  freq {}  gain {}..{} dB{} ({})  antennas {}  formats {}",
                c.index,
                fmt_ranges(&rates, 1e6, "MS/s"),
                fmt_hz_ranges(&freqs),
                c.gain_range.0,
                c.gain_range.1,
                if c.agc { " + AGC" } else { "" },
                if c.gains.is_empty() {
                    "-".to_string()
                } else {
                    c.gains.join(",")
                },
                c.antennas.join(","),
                c.formats.join(",")
            );
        }
    }
    s
}
