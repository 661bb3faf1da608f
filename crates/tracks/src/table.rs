//! The end-of-run per-drone summary table.

use crate::Tracks;
use std::fmt::Write;

/// Most drone rows printed; the rest are summarised in one line.
const MAX_ROWS: usize = 40;

impl Tracks {
    /// A one-screen table, one row per drone (first seen first): serial, product, frames
    /// (total, telemetry, identity), first/last seen (s), track points, sequence gaps (with the
    /// sequence numbers missed), CRC16 failures and the last position, then one line of totals.
    /// At most 40 drone rows; newline-terminated.
    pub fn summary_table(&self) -> String {
        let serial_w = self
            .drones
            .iter()
            .map(|d| d.serial_number.chars().count())
            .max()
            .unwrap_or(0)
            .max("SERIAL".len());
        let product_w = self
            .drones
            .iter()
            .map(|d| d.product_name.as_deref().unwrap_or("-").chars().count())
            .max()
            .unwrap_or(0)
            .max("PRODUCT".len());
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<serial_w$}  {:<product_w$}  {:>6}  {:>5}  {:>5}  {:>9}  {:>9}  {:>6}  {:>14}  {:>5}  LAST POSITION",
            "SERIAL", "PRODUCT", "FRAMES", "TELEM", "IDENT", "FIRST_S", "LAST_S", "POINTS",
            "SEQ_GAPS(MISS)", "CRC16",
        );
        for d in self.drones.iter().take(MAX_ROWS) {
            let gaps = format!("{}({})", d.sequence_gaps, d.missing_sequences);
            let pos = d.last_position().map_or_else(
                || "-".to_string(),
                |p| format!("{:.6}, {:.6}", p.lat_deg, p.lon_deg),
            );
            let _ = writeln!(
                s,
                "{:<serial_w$}  {:<product_w$}  {:>6}  {:>5}  {:>5}  {:>9.3}  {:>9.3}  {:>6}  {:>14}  {:>5}  {}",
                d.serial_number,
                d.product_name.as_deref().unwrap_or("-"),
                d.frames(),
                d.telemetry_frames,
                d.identity_frames,
                d.first_seen_s,
                d.last_seen_s,
                d.points.len(),
                gaps,
                d.crc16_failures,
                pos,
            );
        }
        if self.drones.len() > MAX_ROWS {
            let _ = writeln!(s, "... and {} more drones", self.drones.len() - MAX_ROWS);
        }
        let _ = writeln!(
            s,
            "{} drone(s); {} frame(s): {} CRC24 failure(s), {} unknown/encrypted, {} unattributed CRC16 failure(s); {} sample(s) dropped",
            self.drones.len(),
            self.frames_total,
            self.crc24_failures,
            self.unknown_frames,
            self.unattributed_crc16_failures,
            self.dropped_samples,
        );
        s
    }
}
