//! Scenario builder: several drones, each with its own serial, channel and moving telemetry,
//! bursting every ~600 ms into one capture.
//!
//! ```
//! use droneid_synth::{render_to_vec, Scenario};
//!
//! let mut sc = Scenario::new(15.36e6);
//! sc.drones = 2;
//! sc.bursts_per_drone = Some(3);
//! sc.interval_s = 0.002;        // short test capture
//! sc.random_offsets = true;
//! sc.snr_db = Some(15.0);
//! let spec = sc.build().unwrap();
//! assert_eq!(spec.bursts.len(), 6);
//! let (_samples, truth) = render_to_vec(&spec);
//! assert!(truth.iter().any(|t| t.serial_number.as_deref() == Some("SYNTH000000000D2")));
//! ```

use droneid_core::{BurstFormat, Complex64, OCCUPIED_BANDWIDTH_HZ, TRANSPORT_BLOCK_BYTES};
use droneid_payload::{build_transport_block, deg_to_raw, FlightInfo, IdentityInfo, RecordSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::waveform::TimeAxis;
use crate::{BurstSpec, CaptureSpec, SynthError};

/// Base point of the default telemetry (Berlin, the spec §9.7 record's area).
const BASE_LAT_DEG: f64 = 52.52;
const BASE_LON_DEG: f64 = 13.405;
/// Metres per degree of latitude (spherical Earth, R = 6 371 km).
const M_PER_DEG: f64 = 6_371_000.0 * std::f64::consts::PI / 180.0;
/// Stream id of the scenario's random choices (the noise uses stream 0 of the capture seed).
const SCENARIO_STREAM: u64 = 0x5CE7_A210;

/// Resolved parameters of one drone of a scenario (drawn by [`Scenario::build`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DroneSpec {
    /// 0-based index (the `drone` field of the truth).
    pub index: u32,
    /// 16-character serial, `SYNTH000000000D1` for drone 0.
    pub serial: String,
    /// Channel offset, Hz.
    pub freq_offset_hz: f64,
    /// CFO, Hz.
    pub cfo_hz: f64,
    /// In-band SNR, dB (`None` = amplitude 1).
    pub snr_db: Option<f64>,
    /// Sample-clock error, ppm.
    pub sample_clock_ppm: f64,
    /// Time of the first burst, seconds from the capture start.
    pub first_burst_s: f64,
    /// First sequence number (incremented per telemetry burst).
    pub first_sequence: u16,
    /// Start position, degrees.
    pub lat_deg: f64,
    /// Start position, degrees.
    pub lon_deg: f64,
    /// Ground speed, m/s.
    pub speed_mps: f64,
    /// Course over ground, degrees clockwise from north.
    pub heading_deg: f64,
}

/// A second burst sent with every burst of a scenario, by a partner drone: back-to-back pairs on
/// one channel (`offset_hz = 0`, `delay_s` 0.66–0.9 ms) or time-overlapping pairs on two
/// channels (`offset_hz` 5–9 MHz, `delay_s` below the 643.2 µs burst length).
///
/// The partner of drone `d` is drone `d + drones` (its own serial, telemetry and sequence
/// numbers), on channel `freq_offset_hz(d) + offset_hz`, same SNR, CFO, ppm and multipath, random
/// phase; its burst `j` starts `delay_s` after drone `d`'s burst `j`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstPair {
    /// Start-to-start delay of the partner's burst, seconds (0..=1).
    pub delay_s: f64,
    /// Partner channel minus the drone's channel, Hz.
    pub offset_hz: f64,
}

/// Parameters of a synthetic scenario; [`Scenario::build`] turns it into a [`CaptureSpec`].
///
/// All random choices (offsets, first-burst times, jitter, phases, positions) come from `seed`,
/// so a scenario is reproducible.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Output rate, Hz (≥ 4e6; see [`CaptureSpec::sample_rate_hz`]).
    pub sample_rate_hz: f64,
    /// Capture centre (metadata and truth).
    pub center_freq_hz: Option<f64>,
    /// Seed of the noise and of every random choice.
    pub seed: u64,
    /// Number of drones (≥ 1).
    pub drones: usize,
    /// Bursts per drone. `None`: as many as fit `duration_s`, or 1 without a duration.
    pub bursts_per_drone: Option<usize>,
    /// Capture length, seconds. `None`: up to the last burst plus `tail_s`.
    pub duration_s: Option<f64>,
    /// Burst format of every drone.
    pub format: BurstFormat,
    /// Mean burst interval per drone, seconds (default 0.6, spec §6.2).
    pub interval_s: f64,
    /// Each burst is delayed by a uniform 0..jitter_s (default 2 % of 0.6 s).
    pub jitter_s: f64,
    /// Noise-only time before drone 0's first burst, seconds (default 1 ms).
    pub lead_in_s: f64,
    /// Noise-only time after the last burst when the length is automatic (default 1 ms).
    pub tail_s: f64,
    /// In-band SNR of every drone, dB. `None`: no noise, amplitude 1.
    pub snr_db: Option<f64>,
    /// Channel offset used when `random_offsets` is false (all drones), Hz.
    pub freq_offset_hz: f64,
    /// Draw each drone's channel offset uniformly so that its 9.015 MHz stays inside
    /// ±(Fs/2 − margin).
    pub random_offsets: bool,
    /// CFO of every drone, Hz.
    pub cfo_hz: f64,
    /// Sample-clock error of every drone, ppm.
    pub sample_clock_ppm: f64,
    /// Multipath taps of every burst (see [`BurstSpec::multipath`]).
    pub multipath: Vec<(f64, Complex64)>,
    /// Random carrier phase per burst (default true); false: phase 0.
    pub random_phase: bool,
    /// Records to send instead of the default telemetry, cycled over each drone's bursts.
    pub records: Vec<RecordSpec>,
    /// With default telemetry: every n-th burst of a drone (n ≥ 1) is its 0x11 identity message;
    /// 0 = never.
    pub identity_every: usize,
    /// A partner burst with every burst (back-to-back or time-overlapping pairs); `None`: none.
    pub pair: Option<BurstPair>,
}

impl Scenario {
    /// One drone, one burst, no noise, centred, 600 ms interval, at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_rate_hz,
            center_freq_hz: None,
            seed: 1,
            drones: 1,
            bursts_per_drone: None,
            duration_s: None,
            format: BurstFormat::Nine,
            interval_s: 0.6,
            jitter_s: 0.012,
            lead_in_s: 1e-3,
            tail_s: 1e-3,
            snr_db: None,
            freq_offset_hz: 0.0,
            random_offsets: false,
            cfo_hz: 0.0,
            sample_clock_ppm: 0.0,
            multipath: Vec::new(),
            random_phase: true,
            records: Vec::new(),
            identity_every: 0,
            pair: None,
        }
    }

    /// Serial number of drone `index`: `SYNTH000000000D1`, …, `SYNTH00000000D12` (16 chars).
    pub fn serial_for(index: usize) -> String {
        format!("SYNTH{:0>11}", format!("D{}", index + 1))
    }

    fn rng(&self) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::seed_from_u64(self.seed);
        r.set_stream(SCENARIO_STREAM);
        r
    }

    fn burst_len_s(&self) -> f64 {
        let axis = TimeAxis {
            sample_rate_hz: self.sample_rate_hz,
            sample_clock_ppm: self.sample_clock_ppm,
        };
        axis.burst_len_out(self.format) / self.sample_rate_hz
    }

    fn check(&self) -> Result<(), SynthError> {
        let bad = |field: &str, reason: String| SynthError::Scenario {
            field: field.into(),
            reason,
        };
        if !self.sample_rate_hz.is_finite() || self.sample_rate_hz < crate::MIN_SAMPLE_RATE_HZ {
            return Err(SynthError::SampleRate {
                value: self.sample_rate_hz,
            });
        }
        if self.drones == 0 || self.drones > 1000 {
            return Err(bad(
                "drones",
                format!("{} is outside 1..=1000", self.drones),
            ));
        }
        let burst = self.burst_len_s();
        if !self.interval_s.is_finite() || self.interval_s < burst {
            return Err(bad(
                "interval_s",
                format!(
                    "{} s is shorter than a burst ({burst:.6} s) or not finite",
                    self.interval_s
                ),
            ));
        }
        for (name, v) in [
            ("jitter_s", self.jitter_s),
            ("lead_in_s", self.lead_in_s),
            ("tail_s", self.tail_s),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(bad(name, format!("{v} s must be finite and ≥ 0")));
            }
        }
        if let Some(d) = self.duration_s {
            if !d.is_finite() || d <= 0.0 || d * self.sample_rate_hz > 9.0e15 {
                return Err(bad("duration_s", format!("{d} s must be finite and > 0")));
            }
        }
        if let Some(n) = self.bursts_per_drone {
            if n > 10_000_000 {
                return Err(bad("bursts", format!("{n} is more than 10 000 000")));
            }
        }
        if let Some(p) = &self.pair {
            if !(p.delay_s.is_finite() && (0.0..=1.0).contains(&p.delay_s)) {
                return Err(bad(
                    "pair_delay_s",
                    format!("{} s is outside 0..=1 s", p.delay_s),
                ));
            }
            if !p.offset_hz.is_finite() {
                return Err(bad("pair_offset_hz", "must be finite".into()));
            }
        }
        if self.random_offsets && self.max_random_offset() < 0.0 {
            return Err(bad(
                "random_offsets",
                "no room for a 9.015 MHz burst at this rate with this CFO".into(),
            ));
        }
        Ok(())
    }

    /// Largest |channel offset| the random offsets use: Fs/2 − 4.5075 MHz − |CFO| − margin
    /// (margin = 2 % of Fs, at least 100 kHz).
    pub fn max_random_offset(&self) -> f64 {
        let margin = (0.02 * self.sample_rate_hz).max(100e3);
        self.sample_rate_hz / 2.0 - OCCUPIED_BANDWIDTH_HZ / 2.0 - self.cfo_hz.abs() - margin
    }

    fn draw_drone(&self, d: usize, rng: &mut ChaCha8Rng) -> DroneSpec {
        let max_off = self.max_random_offset();
        let freq_offset_hz = if self.random_offsets {
            // Quantised to 1 kHz so the values read well in truth files.
            (rng.gen_range(-max_off..=max_off) / 1e3).round() * 1e3
        } else {
            self.freq_offset_hz
        };
        let first_burst_s = if d == 0 {
            self.lead_in_s
        } else {
            self.lead_in_s + rng.gen_range(0.0..self.interval_s)
        };
        let north_m = rng.gen_range(-1000.0..1000.0);
        let east_m = rng.gen_range(-1000.0..1000.0);
        DroneSpec {
            index: d as u32,
            serial: Self::serial_for(d),
            freq_offset_hz,
            cfo_hz: self.cfo_hz,
            snr_db: self.snr_db,
            sample_clock_ppm: self.sample_clock_ppm,
            first_burst_s,
            first_sequence: rng.gen(),
            lat_deg: BASE_LAT_DEG + north_m / M_PER_DEG,
            lon_deg: BASE_LON_DEG + east_m / (M_PER_DEG * BASE_LAT_DEG.to_radians().cos()),
            speed_mps: rng.gen_range(2.0..15.0),
            heading_deg: rng.gen_range(-180.0..180.0),
        }
    }

    /// The default block of burst `j` of `drone`, sent `t_s` seconds into the capture.
    fn default_block(&self, drone: &DroneSpec, j: usize, t_s: f64) -> [u8; TRANSPORT_BLOCK_BYTES] {
        if self.identity_every > 0 && j % self.identity_every == self.identity_every - 1 {
            let info = IdentityInfo {
                serial_number: drone.serial.clone(),
                ..IdentityInfo::default()
            };
            return build_transport_block(&info.to_record(), None)
                .expect("identity record fits a block");
        }
        let mut info = FlightInfo::example();
        // Identity bursts do not consume sequence numbers.
        let telemetry_index = j - j.checked_div(self.identity_every).unwrap_or(0);
        info.sequence_number = drone.first_sequence.wrapping_add(telemetry_index as u16);
        info.serial_number = drone.serial.clone();
        let hd = drone.heading_deg.to_radians();
        let vn = drone.speed_mps * hd.cos();
        let ve = drone.speed_mps * hd.sin();
        let lat = drone.lat_deg + vn * t_s / M_PER_DEG;
        let lon = drone.lon_deg + ve * t_s / (M_PER_DEG * drone.lat_deg.to_radians().cos());
        info.latitude_raw = deg_to_raw(lat).unwrap_or(0);
        info.longitude_raw = deg_to_raw(lon).unwrap_or(0);
        info.home_lat_raw = deg_to_raw(drone.lat_deg).unwrap_or(0);
        info.home_lon_raw = deg_to_raw(drone.lon_deg).unwrap_or(0);
        info.app_lat_raw = deg_to_raw(drone.lat_deg - 20.0 / M_PER_DEG).unwrap_or(0);
        info.app_lon_raw = deg_to_raw(drone.lon_deg).unwrap_or(0);
        info.altitude_raw = 60 + 10 * drone.index as i16;
        info.height_raw = 40 + 10 * drone.index as i16;
        info.v_north_raw = (vn * 100.0).round() as i16;
        info.v_east_raw = (ve * 100.0).round() as i16;
        info.v_up_raw = 0;
        info.yaw_raw = (drone.heading_deg * 100.0).round() as i16;
        info.gps_time_ms = 1_700_000_000_000 + (t_s * 1000.0).round() as u64;
        build_transport_block(&info.to_record(), None).expect("telemetry record fits a block")
    }

    /// The partner drone of `drone` (see [`BurstPair`]).
    fn partner(&self, drone: &DroneSpec, pair: &BurstPair) -> DroneSpec {
        let index = drone.index as usize + self.drones;
        DroneSpec {
            index: index as u32,
            serial: Self::serial_for(index),
            freq_offset_hz: drone.freq_offset_hz + pair.offset_hz,
            first_burst_s: drone.first_burst_s + pair.delay_s,
            first_sequence: drone.first_sequence.wrapping_add(0x5A5A),
            lat_deg: drone.lat_deg + 100.0 / M_PER_DEG,
            heading_deg: drone.heading_deg + 90.0,
            ..drone.clone()
        }
    }

    /// Builds the capture: burst times, blocks, channels. Bursts are listed drone by drone (each
    /// burst followed by its partner's with [`Scenario::pair`]).
    pub fn build(&self) -> Result<CaptureSpec, SynthError> {
        self.check()?;
        let fs = self.sample_rate_hz;
        let burst_s = self.burst_len_s();
        let max_delay = self
            .multipath
            .iter()
            .map(|(d, _)| *d)
            .fold(0.0f64, f64::max);
        let mut rng = self.rng();
        let drones: Vec<DroneSpec> = (0..self.drones)
            .map(|d| self.draw_drone(d, &mut rng))
            .collect();
        let records: Vec<[u8; TRANSPORT_BLOCK_BYTES]> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.to_block()
                    .map_err(|e| SynthError::Record(format!("record {i}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let mut bursts = Vec::new();
        let mut last_end_s = 0.0f64;
        for drone in &drones {
            let count = match (self.bursts_per_drone, self.duration_s) {
                (Some(n), _) => n,
                (None, Some(dur)) => {
                    let room = dur - drone.first_burst_s - self.jitter_s - burst_s - max_delay;
                    if room < 0.0 {
                        0
                    } else {
                        (room / self.interval_s).floor() as usize + 1
                    }
                }
                (None, None) => 1,
            };
            for j in 0..count {
                let jitter = if self.jitter_s > 0.0 {
                    rng.gen_range(0.0..self.jitter_s)
                } else {
                    0.0
                };
                let phase = if self.random_phase {
                    rng.gen_range(-std::f64::consts::PI..std::f64::consts::PI)
                } else {
                    0.0
                };
                let t = drone.first_burst_s + j as f64 * self.interval_s + jitter;
                let block = if records.is_empty() {
                    self.default_block(drone, j, t)
                } else {
                    records[j % records.len()]
                };
                let mut b = BurstSpec::new(block, self.format, t * fs);
                b.freq_offset_hz = drone.freq_offset_hz;
                b.cfo_hz = drone.cfo_hz;
                b.snr_db = drone.snr_db;
                b.phase_rad = phase;
                b.sample_clock_ppm = drone.sample_clock_ppm;
                b.multipath = self.multipath.clone();
                b.drone = drone.index;
                last_end_s = last_end_s.max(t + burst_s + max_delay);
                bursts.push(b);
                if let Some(p) = &self.pair {
                    let partner = self.partner(drone, p);
                    let phase = if self.random_phase {
                        rng.gen_range(-std::f64::consts::PI..std::f64::consts::PI)
                    } else {
                        0.0
                    };
                    let tp = t + p.delay_s;
                    let block = if records.is_empty() {
                        self.default_block(&partner, j, tp)
                    } else {
                        records[(j + 1) % records.len()]
                    };
                    let mut b = BurstSpec::new(block, self.format, tp * fs);
                    b.freq_offset_hz = partner.freq_offset_hz;
                    b.cfo_hz = partner.cfo_hz;
                    b.snr_db = partner.snr_db;
                    b.phase_rad = phase;
                    b.sample_clock_ppm = partner.sample_clock_ppm;
                    b.multipath = self.multipath.clone();
                    b.drone = partner.index;
                    last_end_s = last_end_s.max(tp + burst_s + max_delay);
                    bursts.push(b);
                }
            }
        }
        let total_samples = match self.duration_s {
            Some(d) => {
                if self.bursts_per_drone.is_some() && last_end_s > d {
                    return Err(SynthError::Scenario {
                        field: "duration_s".into(),
                        reason: format!(
                            "{d} s is too short for the requested bursts (last burst ends at {last_end_s:.6} s)"
                        ),
                    });
                }
                (d * fs).ceil() as u64
            }
            None => ((last_end_s.max(self.lead_in_s) + self.tail_s) * fs).ceil() as u64,
        };
        let spec = CaptureSpec {
            sample_rate_hz: fs,
            center_freq_hz: self.center_freq_hz,
            total_samples,
            noise: self.snr_db.is_some(),
            bursts,
            seed: self.seed,
        };
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use droneid_payload::{parse_block, MessageBody};

    /// Seed of the scenario tests.
    const SEED_SCENARIO: u64 = 0xD0_0E5;

    #[test]
    fn serials_are_16_chars() {
        assert_eq!(Scenario::serial_for(0), "SYNTH000000000D1");
        assert_eq!(Scenario::serial_for(11), "SYNTH00000000D12");
        assert_eq!(Scenario::serial_for(0).len(), 16);
    }

    #[test]
    fn multi_drone_scenario_has_tracks_and_identity() {
        let mut sc = Scenario::new(61.44e6);
        sc.seed = SEED_SCENARIO;
        sc.drones = 3;
        sc.bursts_per_drone = Some(4);
        sc.interval_s = 0.01;
        sc.jitter_s = 0.001;
        sc.random_offsets = true;
        sc.identity_every = 4;
        sc.snr_db = Some(10.0);
        let spec = sc.build().unwrap();
        assert_eq!(spec.bursts.len(), 12);
        assert!(spec.noise);
        spec.validate().unwrap();
        let max_off = sc.max_random_offset();
        for d in 0..3u32 {
            let mine: Vec<&BurstSpec> = spec.bursts.iter().filter(|b| b.drone == d).collect();
            assert_eq!(mine.len(), 4);
            assert!(mine[0].freq_offset_hz.abs() <= max_off);
            let mut seqs = Vec::new();
            for (j, b) in mine.iter().enumerate() {
                let p = parse_block(&b.block);
                assert!(p.crc24_ok && p.crc16_ok);
                assert_eq!(
                    p.serial_number(),
                    Some(Scenario::serial_for(d as usize).as_str())
                );
                match p.body {
                    MessageBody::Telemetry(f) => seqs.push(f.sequence_number),
                    MessageBody::Identity(_) => assert_eq!(j, 3),
                    MessageBody::Encrypted(_) | MessageBody::Unknown => panic!("unknown body"),
                }
                if j > 0 {
                    assert!(b.start_sample > mine[j - 1].start_sample);
                }
            }
            assert_eq!(seqs.len(), 3);
            assert_eq!(seqs[1], seqs[0].wrapping_add(1));
            assert_eq!(seqs[2], seqs[0].wrapping_add(2));
        }
        // Reproducible.
        assert_eq!(sc.build().unwrap(), spec);
    }

    #[test]
    fn duration_decides_the_burst_count() {
        let mut sc = Scenario::new(15.36e6);
        sc.interval_s = 0.005;
        sc.jitter_s = 0.0;
        sc.duration_s = Some(0.0205);
        let spec = sc.build().unwrap();
        // Bursts at 1, 6, 11, 16 ms (each 0.643 ms long) fit 20.5 ms; 21 ms does not.
        assert_eq!(spec.bursts.len(), 4);
        assert_eq!(spec.total_samples, (0.0205f64 * 15.36e6).ceil() as u64);
        assert!(!spec.noise);
        sc.bursts_per_drone = Some(5);
        assert!(matches!(sc.build(), Err(SynthError::Scenario { .. })));
        sc.duration_s = None;
        sc.interval_s = 1e-5;
        assert!(matches!(sc.build(), Err(SynthError::Scenario { .. })));
    }
}
