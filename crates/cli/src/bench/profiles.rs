//! Sensitivity profiles: what impairs each synthetic burst. One row of [`PROFILES`] per profile;
//! adding a profile is a [`Profile`] variant (its `--profile` name) plus a row with its
//! description and its impairment function.

use droneid_core::{BurstFormat, Complex64, TRANSPORT_BLOCK_BYTES};
use droneid_payload::{build_transport_block, deg_to_raw, FlightInfo};
use droneid_synth::{BurstSpec, CaptureSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Noise-only lead-in before the earliest burst start: the detector warms its noise floor up on
/// 128 frames (~2.1 ms at any rate), so 9 ms puts every burst well after the warm-up.
pub(super) const LEAD_IN_S: f64 = 9e-3;
/// Random extra start offset (fractional samples), seconds.
pub(super) const START_SPREAD_S: f64 = 1e-3;
/// Capture length, seconds (lead-in + spread + 0.64 ms burst + ≥ 1.3 ms tail).
pub(super) const CAPTURE_S: f64 = 12e-3;

/// Impairment profile of a sensitivity run (`--profile`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// White Gaussian noise only; CFO uniform in ±20 kHz.
    Awgn,
    /// AWGN plus 2–3 multipath taps (direct path + delays up to 1 µs at −3…−10 dB, random phases).
    Multipath,
    /// AWGN plus a transmitter sample-clock error uniform in ±20 ppm.
    Ppm,
    /// AWGN with CFO uniform in ±95 kHz (±20 kHz + 5 subcarriers of 15 kHz).
    CfoWide,
    /// Every profile above, one table each.
    All,
}

/// One row of the profile table.
pub(super) struct ProfileDef {
    pub profile: Profile,
    /// Name in reports (as `--profile` spells it).
    pub name: &'static str,
    /// One line for the report.
    pub describe: &'static str,
    /// Draws this profile's impairments of one burst, after the common draws (record, start,
    /// carrier phase, CFO uniform in ±20 kHz), from the burst's own random stream.
    pub impair: fn(&mut ChaCha8Rng, &mut BurstSpec),
}

/// Every profile, in report order (`--profile all` runs them all).
pub(super) const PROFILES: &[ProfileDef] = &[
    ProfileDef {
        profile: Profile::Awgn,
        name: "awgn",
        describe: "AWGN, CFO uniform in ±20 kHz",
        impair: |_, _| {},
    },
    ProfileDef {
        profile: Profile::Multipath,
        name: "multipath",
        describe: "AWGN, CFO ±20 kHz, 2–3 taps: direct path + 1–2 echoes delayed 0.05–1 µs at \
                   −3…−10 dB, random phases (SNR counts the direct path only)",
        impair: multipath,
    },
    ProfileDef {
        profile: Profile::Ppm,
        name: "ppm",
        describe: "AWGN, CFO ±20 kHz, sample-clock error uniform in ±20 ppm",
        impair: |rng, b| b.sample_clock_ppm = rng.gen_range(-20.0..=20.0),
    },
    ProfileDef {
        profile: Profile::CfoWide,
        name: "cfo-wide",
        describe: "AWGN, CFO uniform in ±95 kHz (±20 kHz + 5 subcarriers)",
        impair: |rng, b| b.cfo_hz = rng.gen_range(-95e3..=95e3),
    },
];

/// 1–2 echoes delayed 0.05–1 µs at −3…−10 dB with random phases behind the direct path.
fn multipath(rng: &mut ChaCha8Rng, b: &mut BurstSpec) {
    let echoes = rng.gen_range(1..=2);
    let mut taps = vec![(0.0, Complex64::new(1.0, 0.0))];
    for _ in 0..echoes {
        let delay = rng.gen_range(0.05e-6..=1.0e-6);
        let gain_db: f64 = rng.gen_range(-10.0..=-3.0);
        let phase = rng.gen_range(-std::f64::consts::PI..std::f64::consts::PI);
        taps.push((
            delay,
            Complex64::from_polar(10f64.powf(gain_db / 20.0), phase),
        ));
    }
    b.multipath = taps;
}

impl Profile {
    /// This profile's row (`None` for [`Profile::All`]).
    fn def(self) -> Option<&'static ProfileDef> {
        PROFILES.iter().find(|d| d.profile == self)
    }

    /// Name in reports.
    pub(super) fn name(self) -> &'static str {
        self.def().map_or("all", |d| d.name)
    }

    /// One-line description.
    pub(super) fn describe(self) -> &'static str {
        self.def().map_or("all profiles", |d| d.describe)
    }

    /// The profiles a `--profile` value stands for.
    pub(super) fn expand(self) -> Vec<Profile> {
        match self {
            Profile::All => PROFILES.iter().map(|d| d.profile).collect(),
            p => vec![p],
        }
    }
}

/// A 0x10 flight-information record with every field random (valid CRC16 and CRC24).
fn random_block(rng: &mut ChaCha8Rng) -> [u8; TRANSPORT_BLOCK_BYTES] {
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let serial: String = (0..16)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect();
    let lat = rng.gen_range(-85.0..85.0);
    let lon = rng.gen_range(-180.0..180.0);
    let mut info = FlightInfo::example();
    info.sequence_number = rng.gen();
    info.state_info = rng.gen();
    info.serial_number = serial;
    info.latitude_raw = deg_to_raw(lat).unwrap_or(0);
    info.longitude_raw = deg_to_raw(lon).unwrap_or(0);
    info.home_lat_raw = deg_to_raw(lat + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.home_lon_raw = deg_to_raw(lon + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.app_lat_raw = deg_to_raw(lat + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.app_lon_raw = deg_to_raw(lon + rng.gen_range(-0.01..0.01)).unwrap_or(0);
    info.altitude_raw = rng.gen_range(-100..2000);
    info.height_raw = rng.gen_range(0..500);
    info.v_north_raw = rng.gen_range(-2000..2000);
    info.v_east_raw = rng.gen_range(-2000..2000);
    info.v_up_raw = rng.gen_range(-1000..1000);
    info.yaw_raw = rng.gen_range(-18000..18000);
    info.gps_time_ms = rng.gen_range(1_600_000_000_000..1_900_000_000_000);
    info.product_type = rng.gen();
    build_transport_block(&info.to_record(), None).expect("flight record fits a block")
}

/// Builds the capture of one sensitivity burst.
pub(super) fn sensitivity_capture(
    profile: Profile,
    format: BurstFormat,
    fs: f64,
    snr_db: f64,
    seed: u64,
) -> CaptureSpec {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let block = random_block(&mut rng);
    let start = (LEAD_IN_S + rng.gen_range(0.0..START_SPREAD_S)) * fs;
    let mut b = BurstSpec::new(block, format, start);
    b.snr_db = Some(snr_db);
    b.phase_rad = rng.gen_range(-std::f64::consts::PI..std::f64::consts::PI);
    b.cfo_hz = rng.gen_range(-20e3..20e3);
    if let Some(def) = profile.def() {
        (def.impair)(&mut rng, &mut b);
    }
    CaptureSpec {
        sample_rate_hz: fs,
        center_freq_hz: None,
        total_samples: (CAPTURE_S * fs).ceil() as u64,
        noise: true,
        bursts: vec![b],
        seed: rng.gen(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_has_one_row_and_all_expands_to_them() {
        use clap::ValueEnum;
        for p in Profile::value_variants() {
            let rows = PROFILES.iter().filter(|d| d.profile == *p).count();
            assert_eq!(rows, usize::from(*p != Profile::All), "{p:?}");
            // The report name is the `--profile` spelling.
            let flag = p.to_possible_value().unwrap();
            assert_eq!(flag.get_name(), p.name());
        }
        assert_eq!(Profile::All.expand().len(), PROFILES.len());
    }

    #[test]
    fn profiles_impair_what_they_say() {
        let fs = 15.36e6;
        let spec = |p| sensitivity_capture(p, BurstFormat::Nine, fs, 0.0, 42).bursts[0].clone();
        let (awgn, mp, ppm, wide) = (
            spec(Profile::Awgn),
            spec(Profile::Multipath),
            spec(Profile::Ppm),
            spec(Profile::CfoWide),
        );
        // Same seed: the common draws (record, start, phase) agree across profiles.
        assert_eq!(awgn.block, mp.block);
        assert_eq!(awgn.start_sample, ppm.start_sample);
        assert!(awgn.multipath.len() <= 1 && awgn.sample_clock_ppm == 0.0);
        assert!((2..=3).contains(&mp.multipath.len()));
        assert!(ppm.sample_clock_ppm != 0.0 && ppm.sample_clock_ppm.abs() <= 20.0);
        assert!(awgn.cfo_hz.abs() < 20e3 && wide.cfo_hz.abs() <= 95e3);
    }
}
